#!/usr/bin/env bash
# The main job on the lab (README's first command). Each step runs when the
# piece it needs exists in this checkout and says plainly what is missing
# otherwise. `scripts/main.sh down` stops everything it started.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
t0=$(now)

VENV="$("$REPO_ROOT/scripts/venv.sh")"
export PATH="$VENV/bin:$PATH"
export ANSIBLE_CONFIG="$REPO_ROOT/ansible.cfg"
INV=inventories/lab
missing=()

if [[ "${1:-}" == "down" ]]; then
  if [[ -d roles/substrate_lab ]]; then
    ansible-playbook playbooks/substrate.yml -i "$INV" -e substrate_lab_state=absent
  fi
  exit 0
fi

"$REPO_ROOT/scripts/system-deps.sh"

log "preflight: validating the lab configuration"
ansible-playbook playbooks/preflight.yml -i "$INV"

if [[ -x lab/build.sh ]]; then
  log "building lab binaries (cached after the first run)"
  lab/build.sh
else
  missing+=("lab binaries (lab/build.sh, issue: the lab)")
fi

if [[ -d roles/substrate_lab && -d roles/platform_argocd && -d roles/tenants ]]; then
  log "converging site.yml on the lab"
  ansible-playbook site.yml -i "$INV"
elif [[ -d roles/substrate_lab ]]; then
  log "converging the lab substrate"
  ansible-playbook playbooks/substrate.yml -i "$INV"
  missing+=("platform and tenants roles (site.yml runs only the substrate)")
else
  missing+=("substrate_lab role")
fi

printf '\nmain job finished in %ss\n' "$(elapsed "$t0")"
if ((${#missing[@]})); then
  printf 'not yet part of the main job:\n'
  printf '  - %s\n' "${missing[@]}"
fi
