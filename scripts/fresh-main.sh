#!/usr/bin/env bash
# The main job as a new user runs it, timed: a clean clone of this checkout's HEAD in a folder of
# its own (no ../shared beside it), an empty cache, then `make lab` with the LiteLLM offline kit
# given by variable, then `make lab` again (the rerun: changed=0), then `make lab-down`.
# Not part of `make test` (its cold run takes over an hour); the suite covers the same path up
# to where a machine without the kit stops (tests/integration/test_fresh_clone.py).
#
#   LITELLM_OFFLINE_KIT=/path/to/litellm-offline scripts/fresh-main.sh [WORKDIR]
#
# WORKDIR (default: a new folder under /tmp) gets clone/, cache/ and the logs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ -n "${LITELLM_OFFLINE_KIT:-}" ]] || die "LITELLM_OFFLINE_KIT: set it to the LiteLLM offline kit (this machine cannot download Prisma's engines)"
work="${1:-$(mktemp -d /tmp/llm-platform-fresh.XXXXXX)}"
[[ ! -e "$work/clone" && ! -e "$work/cache" ]] || die "$work already holds clone/ or cache/: give an empty folder"
mkdir -p "$work"
git clone --quiet "$REPO_ROOT" "$work/clone"
export LLM_PLATFORM_CACHE="$work/cache"
cd "$work/clone"
t0=$(now)
make lab 2>&1 | tee "$work/make-lab.log"
t_first=$(elapsed "$t0")
t1=$(now)
make lab 2>&1 | tee "$work/make-lab-rerun.log"
t_rerun=$(elapsed "$t1")
make lab-down >"$work/make-lab-down.log" 2>&1
printf 'fresh main job: first run %s s, rerun %s s (%s), logs in %s\n' "$t_first" "$t_rerun" \
  "$(grep -Eo 'changed=[0-9]+' "$work/make-lab-rerun.log" | sort | uniq -c | tr -s ' ' | tr '\n' ';')" "$work"
