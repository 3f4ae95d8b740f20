#!/usr/bin/env bash
# The main job on the lab (README's first command): build the living lab, converge
# site.yml on it (Argo CD syncs the app-of-apps; the platform's pods run as real
# processes), bring up the example model, send a chat completion with a tenant key
# through the LiteLLM pod and the gateway, run a short bench and print where the
# report is. `scripts/main.sh down` stops everything it started.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
t0=$(now)

VENV="$("$REPO_ROOT/scripts/venv.sh")"
export PATH="$VENV/bin:$PATH"
export ANSIBLE_CONFIG="$REPO_ROOT/ansible.cfg"
INV=inventories/lab
EDGE_PORT=4000
EDGE_URL="http://127.0.0.1:$EDGE_PORT"
EDGE_PID="$LLM_PLATFORM_CACHE/lab/lab/edge.pid"
KUBECONFIG="$LLM_PLATFORM_CACHE/lab/lab/kubeconfig"  # inventories/lab's kubeconfig_path
export PATH="$LLM_PLATFORM_CACHE/bin:$PATH"          # the lab's kubectl (the tenants' port-forward)
[[ $(id -u) -eq 0 ]] || die "the lab needs root (network namespaces); run as root"

stop_edge() {
  if [[ -f "$EDGE_PID" ]]; then
    kill "$(cat "$EDGE_PID")" 2>/dev/null || true
    rm -f "$EDGE_PID"
  fi
}

if [[ "${1:-}" == "down" ]]; then
  stop_edge
  ansible-playbook molecule/default/destroy.yml -i "$INV"
  exit 0
fi

"$REPO_ROOT/scripts/system-deps.sh"

log "preflight: validating the lab configuration"
ansible-playbook playbooks/preflight.yml -i "$INV"

log "installing LiteLLM for the lab's pod runtime (cached after the first run)"
python3 lab/litellm_install.py ensure >/dev/null

log "building the lab and the platform's controllers from the Go module proxy (cached after the first run)"
lab/build.sh

log "converging site.yml on the living lab: substrate, secrets, Argo CD + app-of-apps, tenants"
ansible-playbook site.yml -i "$INV"

log "bringing up the example model through Argo CD, its autoscaling resumed"
ansible-playbook playbooks/serving.yml -i "$INV" -e model=qwen-local -e autoscaling=resumed

kubectl --kubeconfig "$KUBECONFIG" -n serving rollout status deployment/qwen-local --timeout=600s

log "the public /v1 on $EDGE_URL: kubectl port-forward to the LiteLLM pod Argo CD deployed"
stop_edge
kubectl --kubeconfig "$KUBECONFIG" -n litellm port-forward --address 127.0.0.1 svc/litellm "$EDGE_PORT:4000" \
  >"$LLM_PLATFORM_CACHE/lab/lab/edge.log" 2>&1 &
echo $! >"$EDGE_PID"
for _ in $(seq 60); do
  curl -fsS -o /dev/null "$EDGE_URL/health/liveliness" 2>/dev/null && break
  sleep 1
done

log "a chat completion with team-a's key (read from its Secret, never printed): LiteLLM pod -> Envoy -> endpoint picker -> model pod"
python - "$KUBECONFIG" "$EDGE_URL" <<'PY'
import base64, json, sys, time, urllib.error, urllib.request
from kubernetes import client, config
api = client.CoreV1Api(config.new_client_from_config(config_file=sys.argv[1]))
key = base64.b64decode(api.read_namespaced_secret("litellm-key-default", "team-a").data["api-key"]).decode()
body = json.dumps({"model": "qwen-local", "messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 16}).encode()
req = urllib.request.Request(sys.argv[2] + "/v1/chat/completions", data=body,
                             headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
for attempt in range(30):  # the endpoint picker sees a new pod within seconds
    try:
        reply = json.load(urllib.request.urlopen(req, timeout=60))
        break
    except urllib.error.HTTPError as err:
        if err.code != 503 or attempt == 29:
            raise
        time.sleep(2)
print("chat completion OK: model=%s, %d completion tokens" % (reply["model"], reply["usage"]["completion_tokens"]))
PY

log "a short bench through the public /v1 (its key minted with the master key site.yml seeded)"
LITELLM_MASTER_KEY="$(kubectl --kubeconfig "$KUBECONFIG" -n platform-secrets get secret litellm-master-key \
  -o jsonpath='{.data.value}' | base64 -d)"
export LITELLM_MASTER_KEY
ansible-playbook playbooks/bench.yml -i "$INV" \
  -e "bench_litellm_url=$EDGE_URL" -e "bench_endpoint=$EDGE_URL/v1" \
  -e '{"bench_profile": "concurrency", "bench_concurrencies": [1, 4], "bench_duration_seconds": 10}' \
  -e '{"bench_input_tokens": 64, "bench_output_tokens": 32, "bench_prometheus_required": false}'
report="$(ls -td bench/reports/*/*/ 2>/dev/null | head -1)"

printf '\nmain job finished in %ss\n' "$(elapsed "$t0")"
printf 'Argo CD applications: kubectl --kubeconfig %s -n argocd get applications\n' "$KUBECONFIG"
printf 'bench report: %s\n' "${report:-<none found under bench/reports>}"
printf 'the public /v1 stays on %s (LiteLLM in the lab); stop everything with: make lab-down\n' "$EDGE_URL"
