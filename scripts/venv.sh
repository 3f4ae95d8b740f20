#!/usr/bin/env bash
# Creates (once) and prints the path of the project's virtualenv.
# The venv is keyed by the hash of requirements.txt, so a dependency change
# builds a fresh one and an unchanged lock reuses the warm one.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PYTHON="${PYTHON:-python3}"
key="$(cat "$REPO_ROOT/requirements.txt" | sha256sum | cut -c1-16)"
venv="$LLM_PLATFORM_CACHE/venv/$key"

if [[ ! -x "$venv/bin/ansible-playbook" || ! -f "$venv/.complete" ]]; then
  log "creating virtualenv $venv (first run for this requirements.txt)"
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip==23.2.1 >&2 || true
  "$venv/bin/pip" install --quiet -r "$REPO_ROOT/requirements.txt" >&2
  touch "$venv/.complete"
fi
printf '%s\n' "$venv"
