#!/usr/bin/env bash
# Creates (once) and prints the path of the project's virtualenv.
# The venv is keyed by the hash of requirements.txt (the full lock), so a
# dependency change builds a fresh one and an unchanged lock reuses the warm one.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PYTHON="${PYTHON:-python3}"
key="$(sha256sum < "$REPO_ROOT/requirements.txt" | cut -c1-16)"
venv="$LLM_PLATFORM_CACHE/venv/$key"
mkdir -p "$LLM_PLATFORM_CACHE/venv"

if [[ ! -f "$venv/.complete" ]]; then
  # Concurrent callers (parallel test runs) wait for one builder.
  exec 9>"$LLM_PLATFORM_CACHE/venv/.lock-$key"
  flock 9
  if [[ ! -f "$venv/.complete" ]]; then
    log "creating virtualenv $venv (first run for this requirements.txt)"
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv"
    "$venv/bin/pip" install --quiet --no-deps -r "$REPO_ROOT/requirements.txt" >&2
    "$venv/bin/pip" check >&2 || die "requirements.txt is not a consistent lock (pip check failed)"
    touch "$venv/.complete"
  fi
  exec 9>&-
fi
printf '%s\n' "$venv"
