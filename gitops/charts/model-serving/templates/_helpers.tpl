{{/*
Per-model derivations. Every template ranges over .Values.models and calls
"model-serving.ctx" to get one dict with the derived fields, so the rules live here once
(and in plugins/filter/models.py for playbooks and tests).
*/}}

{{- define "model-serving.labels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/part-of: llm-platform
app.kubernetes.io/component: model-server
llm-platform/model: {{ .name }}
{{- end }}

{{- define "model-serving.selector" -}}
llm-platform/model: {{ .name }}
{{- end }}

{{/*
Cluster facts: the app-of-apps passes them as .Values.platform (substrate, gpuStack,
storageClass, costTier, gpuPools, ...); the chart's own top-level values are the fallback.
*/}}
{{- define "model-serving.facts" -}}
{{- $p := .Values.platform | default dict -}}
{{- toYaml (dict
      "costTier" ($p.costTier | default .Values.costTier)
      "substrate" ($p.substrate | default .Values.substrate)
      "gpuStack" ($p.gpuStack | default .Values.gpuStack)
      "storageClass" ($p.storageClass | default .Values.storageClass)
      "gpuPools" ($p.gpuPools | default .Values.gpuPools)) -}}
{{- end }}

{{/* ctx: dict(root, model) -> YAML of the derived fields */}}
{{- define "model-serving.ctx" -}}
{{- $root := .root -}}
{{- $m := .model -}}
{{- $f := include "model-serving.facts" $root | fromYaml -}}
{{- $engine := $m.engine | default "vllm" -}}
{{- $gpus := int (default 1 $m.gpus) -}}
{{- $source := required (printf "models[%s].source is required" $m.name) $m.source -}}
{{- $floors := dict "cost" 0 "dev" 1 "prod" 2 -}}
{{- $floor := 0 -}}
{{- if hasKey $m "min_replicas" }}{{ $floor = int $m.min_replicas }}{{ else }}{{ $floor = int (get $floors $f.costTier) }}{{ end -}}
{{- $routeName := $m.served_name -}}
{{- if $m.canary_of -}}
{{- range $root.Values.models }}{{ if eq .name $m.canary_of }}{{ $routeName = .served_name }}{{ end }}{{ end -}}
{{- end -}}
{{- $claim := printf "%s-weights" $m.name -}}
{{- $subPath := "model" -}}
{{- $ownPvc := false -}}
{{- $prestage := false -}}
{{- if hasPrefix "hf://" $source -}}
{{- $ownPvc = true -}}{{- $prestage = true -}}
{{- else if hasPrefix "pvc://" $source -}}
{{- $parts := splitn "/" 2 (trimPrefix "pvc://" $source) -}}
{{- $claim = $parts._0 -}}{{- $subPath = $parts._1 | default "" -}}
{{- end -}}
{{- $largest := 0 -}}
{{- range $f.gpuPools }}{{ if gt (int .gpus_per_node) $largest }}{{ $largest = int .gpus_per_node }}{{ end }}{{ end -}}
{{- $strategy := "Recreate" -}}
{{- if and (gt $largest 1) (gt (int (default 1 $m.max_replicas)) 1) }}{{ $strategy = "RollingUpdate" }}{{ end -}}
{{- $rc := $root.Values.runtimeClassName -}}
{{- if eq $rc "auto" -}}
{{- $rc = "" -}}
{{- if and (ne $f.substrate "gke") (eq $f.gpuStack "operator") }}{{ $rc = "nvidia" }}{{ end -}}
{{- end -}}
name: {{ $m.name }}
servedName: {{ $m.served_name }}
routeName: {{ $routeName }}
engine: {{ $engine }}
gpus: {{ $gpus }}
floor: {{ $floor }}
max: {{ int (default 1 $m.max_replicas) }}
source: {{ $source | quote }}
hfRepo: {{ trimPrefix "hf://" $source | quote }}
claim: {{ $claim }}
subPath: {{ $subPath | quote }}
ownPvc: {{ $ownPvc }}
prestage: {{ $prestage }}
storage: {{ $m.storage | default "pvc" }}
storageSize: {{ $m.storage_size | default "20Gi" }}
storageClass: {{ $f.storageClass | default "" | quote }}
strategy: {{ $strategy }}
runtimeClassName: {{ $rc | quote }}
shm: {{ ternary $root.Values.shm.multiGpu $root.Values.shm.singleGpu (gt $gpus 1) }}
{{- end }}

{{/* vLLM arguments: dict(ctx, model, port, modelPath) */}}
{{- define "model-serving.args" -}}
- --model={{ .modelPath }}
{{- if ne .ctx.routeName .ctx.servedName }}
- --served-model-name
- {{ .ctx.servedName }}
- {{ .ctx.routeName }}
{{- else }}
- --served-model-name={{ .ctx.servedName }}
{{- end }}
- --port={{ .port }}
{{- if gt (int .ctx.gpus) 1 }}
- --tensor-parallel-size={{ .ctx.gpus }}
{{- end }}
{{- range .model.engine_args }}
- {{ . | quote }}
{{- end }}
{{- end }}

{{/* Environment of every engine container. */}}
{{- define "model-serving.env" -}}
- name: VLLM_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.apiKey.secretName }}
      key: {{ .Values.apiKey.secretKey }}
- name: HF_HUB_OFFLINE
  value: "1"
- name: TRANSFORMERS_OFFLINE
  value: "1"
- name: HF_HUB_DISABLE_TELEMETRY
  value: "1"
- name: VLLM_NO_USAGE_STATS
  value: "1"
- name: NCCL_CUMEM_ENABLE
  value: "0"
- name: HOME
  value: /tmp/home
- name: XDG_CACHE_HOME
  value: /tmp/cache
- name: TRITON_CACHE_DIR
  value: /tmp/cache/triton
- name: USER
  value: vllm
{{- end }}

{{- define "model-serving.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "model-serving.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{/* GPU resources: dict(root, ctx) */}}
{{- define "model-serving.resources" -}}
requests:
  cpu: {{ .root.Values.resources.requests.cpu | quote }}
  memory: {{ .root.Values.resources.requests.memory }}
  {{ .root.Values.gpu.resourceName }}: {{ .ctx.gpus | quote }}
limits:
  cpu: {{ .root.Values.resources.limits.cpu | quote }}
  memory: {{ .root.Values.resources.limits.memory }}
  {{ .root.Values.gpu.resourceName }}: {{ .ctx.gpus | quote }}
{{- end }}

{{- define "model-serving.tolerations" -}}
{{ toYaml (concat (.Values.gpu.tolerations | default list) (.Values.extraTolerations | default list)) }}
{{- end }}

{{/* The pre-stage container: a populated PVC is a no-op (no network); else one download. */}}
{{- define "model-serving.prestageContainer" -}}
- name: prestage-weights
  image: {{ include "model-serving.pinned" (dict "root" .root "ref" .root.Values.image.vllm "path" "image.vllm") }}
  imagePullPolicy: {{ .root.Values.image.pullPolicy }}
  command: ["python3", "-c"]
  args:
    - |
      import os, pathlib
      from huggingface_hub import snapshot_download
      repo, target = os.environ["MODEL_REPO"], pathlib.Path("/models/model")
      marker = target / ".llm-platform-staged"
      if marker.exists() and marker.read_text().strip() == repo:
          print("weights already staged:", repo)
      else:
          snapshot_download(repo, local_dir=str(target), token=os.environ.get("HF_TOKEN") or None)
          marker.write_text(repo + "\n")
          print("weights downloaded:", repo)
  env:
    - name: MODEL_REPO
      value: {{ .ctx.hfRepo | quote }}
    - name: HF_HOME
      value: /tmp/hf
    - name: HF_TOKEN
      valueFrom:
        secretKeyRef:
          name: {{ .root.Values.hfToken.secretName }}
          key: {{ .root.Values.hfToken.secretKey }}
          optional: true
  resources:
    {{- toYaml .root.Values.prestage.resources | nindent 4 }}
  securityContext:
    {{- include "model-serving.containerSecurityContext" . | nindent 4 }}
  volumeMounts:
    - name: weights
      mountPath: /models
    - name: tmp
      mountPath: /tmp
{{- end }}

{{/*
An image reference, pinned by digest (<image>[:<tag>]@sha256:<64 hex>). Without a digest the
render fails naming the value, except on the lab substrate, whose kwok nodes never pull an
image. dict(root, ref, path) -> the reference.
*/}}
{{- define "model-serving.pinned" -}}
{{- $lab := eq ((.root.Values.platform | default dict).substrate | default .root.Values.substrate) "lab" -}}
{{- if and (not (regexMatch "@sha256:[0-9a-f]{64}$" .ref)) (not $lab) -}}
{{- fail (printf "%s: %q is not pinned by digest; set it to <image>:<tag>@sha256:<64 hex> (the digest of that tag: crane digest, skopeo inspect or docker buildx imagetools inspect)" .path .ref) -}}
{{- end -}}
{{- .ref -}}
{{- end }}
