{{- define "litellm.labels" -}}
app.kubernetes.io/name: litellm
app.kubernetes.io/part-of: llm-platform
{{- end }}

{{- define "litellm.image" -}}
{{- $ref := printf "%s:%s" .Values.image.repository .Values.image.tag -}}
{{- if .Values.image.digest -}}{{- $ref = printf "%s@%s" $ref .Values.image.digest -}}{{- end -}}
{{- include "litellm.pinned" (dict "root" . "ref" $ref "path" "image.digest") -}}
{{- end }}

{{/* costTier from the app-of-apps' cluster facts (.Values.platform), else the chart value. */}}
{{- define "litellm.prod" -}}
{{- $tier := (.Values.platform | default dict).costTier | default .Values.costTier -}}
{{- if eq $tier "prod" }}true{{ end -}}
{{- end }}

{{/* A per-token price as a plain decimal (PyYAML reads 5e-07 as a string, 0.0000005 as a float). */}}
{{- define "litellm.price" -}}
{{- $s := regexReplaceAll "0+$" (printf "%.12f" (float64 .)) "" -}}
{{- if hasSuffix "." $s }}{{ $s }}0{{ else }}{{ $s }}{{ end -}}
{{- end }}

{{/*
model_list from the models list: one entry per non-canary model (canaries are reached
through their stable model's route), api_base = the inference gateway, one shared upstream
key, mandatory prices. Mirrors plugins/filter/models.py litellm_model_list.
*/}}
{{- define "litellm.modelList" -}}
{{- $root := . -}}
{{- range $i, $m := .Values.models }}
{{- $price := required (printf "models[%d].price is required: without per-token prices budgets never bind" $i) $m.price }}
{{- $in := required (printf "models[%d].price.input_per_token is required" $i) $price.input_per_token }}
{{- $out := required (printf "models[%d].price.output_per_token is required" $i) $price.output_per_token }}
{{- if not $m.canary_of }}
- model_name: {{ $m.name }}
  litellm_params:
    model: openai/{{ $m.served_name }}
    api_base: {{ $root.Values.upstream.apiBase }}
    api_key: os.environ/{{ $root.Values.upstream.apiKeyEnv }}
  model_info:
    id: {{ $m.name }}
    input_cost_per_token: {{ include "litellm.price" $in }}
    output_cost_per_token: {{ include "litellm.price" $out }}
{{- end }}
{{- end }}
{{- end }}

{{- define "litellm.databaseEnv" -}}
- name: DATABASE_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.secretName }}
      key: username
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.secretName }}
      key: password
- name: DATABASE_HOST
  value: {{ .Values.database.host | quote }}
- name: DATABASE_URL
  value: postgresql://$(DATABASE_USERNAME):$(DATABASE_PASSWORD)@$(DATABASE_HOST):{{ .Values.database.port }}/{{ .Values.database.name }}
{{- end }}

{{- define "litellm.podSecurityContext" -}}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The stock image runs as root and writes Prisma caches under its home: no read-only root. */}}
{{- define "litellm.containerSecurityContext" -}}
allowPrivilegeEscalation: false
capabilities:
  drop: ["ALL"]
{{- end }}

{{/*
An image reference, pinned by digest (<image>[:<tag>]@sha256:<64 hex>). Without a digest the
render fails naming the value, except on the lab substrate, whose kwok nodes never pull an
image. dict(root, ref, path) -> the reference.
*/}}
{{- define "litellm.pinned" -}}
{{- $lab := eq ((.root.Values.platform | default dict).substrate | default "") "lab" -}}
{{- if and (not (regexMatch "@sha256:[0-9a-f]{64}$" .ref)) (not $lab) -}}
{{- fail (printf "%s: %q is not pinned by digest; set it to <image>:<tag>@sha256:<64 hex> (the digest of that tag: crane digest, skopeo inspect or docker buildx imagetools inspect)" .path .ref) -}}
{{- end -}}
{{- .ref -}}
{{- end }}
