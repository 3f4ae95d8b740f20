#!/usr/bin/env bash
# Real clouds from this checkout (docs/quickstart-gke.md, docs/quickstart-hetzner.md):
#
#   scripts/cloud.sh up   <gke|hetzner|byo> [ansible-playbook args...]   # converge site.yml
#   scripts/cloud.sh down <gke|hetzner|byo> [ansible-playbook args...]   # ordered teardown
#   scripts/cloud.sh check <gke|hetzner|byo>                             # preflight only
#
# INVENTORY=<dir> uses your own inventory instead of inventories/<cloud>. `down` asks for the
# cluster name unless CONFIRM=<cluster name> is set (the teardown playbook refuses without it).
# Credentials come from the environment the quickstarts describe (ADC, HCLOUD_TOKEN, ...);
# nothing here prints or stores them.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT" || exit 1

action="${1:-}"; cloud="${2:-}"
case "$action" in up | down | check) ;; *) die "usage: scripts/cloud.sh up|down|check gke|hetzner|byo [args]" ;; esac
case "$cloud" in gke | hetzner | byo) ;; *) die "cloud must be gke, hetzner or byo (got '${cloud}'); the lab is \`make lab\`" ;; esac
shift 2
inventory="${INVENTORY:-inventories/$cloud}"
[[ -d "$inventory" ]] || die "inventory $inventory not found (INVENTORY=<dir> or inventories/$cloud)"

VENV="$("$REPO_ROOT/scripts/venv.sh")"
export PATH="$VENV/bin:$PATH"
export ANSIBLE_CONFIG="$REPO_ROOT/ansible.cfg"

case "$action" in
  check) exec ansible-playbook playbooks/preflight.yml -i "$inventory" "$@" ;;
  up) exec ansible-playbook site.yml -i "$inventory" "$@" ;;
  down)
    confirm="${CONFIRM:-}"
    if [[ -z "$confirm" ]]; then
      read -r -p "This deletes the $cloud cluster of $inventory and everything in it. Type its cluster_name to go on: " confirm
    fi
    [[ -n "$confirm" ]] || die "no confirmation given; nothing was changed"
    exec ansible-playbook playbooks/teardown.yml -i "$inventory" -e "teardown_confirm=$confirm" "$@"
    ;;
esac
