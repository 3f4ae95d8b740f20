#!/usr/bin/env bash
# The one test command (README, `make test`, .ci/run): sets up everything it
# needs from nothing (venv, system packages, lab binaries), then runs the whole
# suite in one pytest run so the closing line carries the real count.
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not lab".
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
t0=$(now)

VENV="$("$REPO_ROOT/scripts/venv.sh")"
export PATH="$VENV/bin:$PATH"
export ANSIBLE_CONFIG="$REPO_ROOT/ansible.cfg"
t_venv=$(elapsed "$t0")

"$REPO_ROOT/scripts/system-deps.sh"

# ansible-test fetches get-pip.py from outside the registries; give it the stand-in.
mkdir -p "$HOME/.ansible/test/cache"
for v in 24_2 24_3 25_0; do
  [[ -f "$HOME/.ansible/test/cache/get_pip_$v.py" ]] || cp scripts/get_pip_offline.py "$HOME/.ansible/test/cache/get_pip_$v.py"
done

t1=$(now)
if [[ -x lab/build.sh ]]; then
  lab/build.sh
else
  log "lab/build.sh not present yet: lab-based tests will be skipped"
fi
t_build=$(elapsed "$t1")

t2=$(now)
set +e
python -m pytest "$@"
rc=$?
set -e
t_tests=$(elapsed "$t2")
printf '\ntimings: venv %ss, lab binaries %ss, pytest %ss, total %ss\n' "$t_venv" "$t_build" "$t_tests" "$(elapsed "$t0")"
exit "$rc"
