#!/usr/bin/env bash
# The main job on the lab (README's first command): build and start the lab,
# converge site.yml on it, onboard the example tenants through a real LiteLLM,
# send a chat completion with a tenant key, run a short bench and print where
# the report is. `scripts/main.sh down` stops everything it started.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
t0=$(now)

VENV="$("$REPO_ROOT/scripts/venv.sh")"
export PATH="$VENV/bin:$PATH"
export ANSIBLE_CONFIG="$REPO_ROOT/ansible.cfg"
INV=inventories/lab
EDGE_URL=http://127.0.0.1:4000
[[ $(id -u) -eq 0 ]] || die "the lab needs root (network namespaces); run as root"

if [[ "${1:-}" == "down" ]]; then
  python scripts/lab_edge.py down || true
  ansible-playbook molecule/default/destroy.yml -i "$INV"
  exit 0
fi

"$REPO_ROOT/scripts/system-deps.sh"

log "preflight: validating the lab configuration"
ansible-playbook playbooks/preflight.yml -i "$INV"

log "installing LiteLLM for the lab (cached after the first run)"
python3 lab/litellm_install.py ensure >/dev/null

log "building lab binaries (cached after the first run)"
lab/build.sh

log "starting the request path: llm-d-inference-sim + LiteLLM on 127.0.0.1"
python scripts/lab_edge.py up
LITELLM_MASTER_KEY="$(cat "$LLM_PLATFORM_CACHE/lab-edge/master-key")"
export LITELLM_MASTER_KEY

log "converging site.yml on the lab (substrate, platform, tenants)"
ansible-playbook site.yml -i "$INV" -e "tenants_litellm_api_url=$EDGE_URL"

log "a chat completion through LiteLLM with team-a's key (read from its Secret, never printed)"
# inventories/lab sets kubeconfig_path to this file (ansible-inventory would print
# the unrendered template, so the path is spelled out here).
KUBECONFIG="$LLM_PLATFORM_CACHE/lab/lab/kubeconfig"
python - "$KUBECONFIG" "$EDGE_URL" <<'PY'
import base64, json, sys, urllib.request
from kubernetes import client, config
api = client.CoreV1Api(config.new_client_from_config(config_file=sys.argv[1]))
key = base64.b64decode(api.read_namespaced_secret("litellm-key-default", "team-a").data["api-key"]).decode()
body = json.dumps({"model": "qwen-local", "messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 16}).encode()
req = urllib.request.Request(sys.argv[2] + "/v1/chat/completions", data=body,
                             headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
reply = json.load(urllib.request.urlopen(req, timeout=60))
print("chat completion OK: model=%s, %d completion tokens" % (reply["model"], reply["usage"]["completion_tokens"]))
PY

log "a short bench through the tenant edge"
ansible-playbook playbooks/bench.yml -i "$INV" \
  -e "bench_litellm_url=$EDGE_URL" -e "bench_endpoint=$EDGE_URL/v1" \
  -e '{"bench_profile": "concurrency", "bench_concurrencies": [1, 4], "bench_duration_seconds": 10}' \
  -e '{"bench_input_tokens": 64, "bench_output_tokens": 32, "bench_prometheus_required": false}'
report="$(ls -td bench/reports/*/*/ 2>/dev/null | head -1)"

printf '\nmain job finished in %ss\n' "$(elapsed "$t0")"
printf 'bench report: %s\n' "${report:-<none found under bench/reports>}"
printf 'stop everything with: make lab-down\n'
