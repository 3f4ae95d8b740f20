# shellcheck shell=bash
# Shared paths for every script. Sourced, never executed.
# Caches live machine-wide (not in the checkout) so CI and later sessions
# on the same machine start warm; a missing cache is rebuilt from nothing.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LLM_PLATFORM_CACHE="${LLM_PLATFORM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llm-platform}"
export REPO_ROOT LLM_PLATFORM_CACHE
mkdir -p "$LLM_PLATFORM_CACHE"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Seconds since the epoch with decimals, for the timings the README asks for.
now() { date +%s.%N; }
elapsed() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1f", e - s }'; }
