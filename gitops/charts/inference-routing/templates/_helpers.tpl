{{- define "inference-routing.labels" -}}
app.kubernetes.io/part-of: llm-platform
app.kubernetes.io/component: inference-routing
{{- end }}

{{/* Derived per-model routing fields: dict(root, model) -> YAML */}}
{{- define "inference-routing.ctx" -}}
{{- $root := .root -}}
{{- $m := .model -}}
{{- $engine := $m.engine | default "vllm" -}}
name: {{ $m.name }}
servedName: {{ $m.served_name }}
engine: {{ $engine }}
port: {{ ternary 8080 8000 (eq $engine "kserve") }}
canaryOf: {{ $m.canary_of | default "" | quote }}
canaryWeight: {{ int ($m.canary_weight | default 0) }}
{{- end }}

{{- define "inference-routing.poolRef" -}}
group: inference.networking.k8s.io
kind: InferencePool
name: {{ . }}
{{- end }}

{{/* GatewayClass: the app-of-apps' cluster facts (.Values.platform.gatewayClass), else the chart value. */}}
{{- define "inference-routing.gatewayClass" -}}
{{- (.Values.platform | default dict).gatewayClass | default .Values.gatewayClass -}}
{{- end }}

{{/*
An image reference, pinned by digest (<image>[:<tag>]@sha256:<64 hex>). Without a digest the
render fails naming the value, except on the lab substrate, whose kwok nodes never pull an
image. dict(root, ref, path) -> the reference.
*/}}
{{- define "inference-routing.pinned" -}}
{{- $lab := eq ((.root.Values.platform | default dict).substrate | default "") "lab" -}}
{{- if and (not (regexMatch "@sha256:[0-9a-f]{64}$" .ref)) (not $lab) -}}
{{- fail (printf "%s: %q is not pinned by digest; set it to <image>:<tag>@sha256:<64 hex> (the digest of that tag: crane digest, skopeo inspect or docker buildx imagetools inspect)" .path .ref) -}}
{{- end -}}
{{- .ref -}}
{{- end }}
