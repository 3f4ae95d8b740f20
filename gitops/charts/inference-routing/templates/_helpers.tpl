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
