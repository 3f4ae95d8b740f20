{{- define "kueue-config.labels" -}}
app.kubernetes.io/name: kueue-config
app.kubernetes.io/part-of: llm-platform
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Physical GPUs in gpuPools: sum(gpus_per_node x max_nodes). */}}
{{- define "kueue-config.physicalGpus" -}}
{{- $n := 0 -}}
{{- range .Values.gpuPools -}}
{{- $n = add $n (mul (.gpus_per_node | default 1) (.max_nodes | default 0)) -}}
{{- end -}}
{{- $n -}}
{{- end -}}

{{- define "kueue-config.gpuQuota" -}}
{{- $physical := include "kueue-config.physicalGpus" . | int -}}
{{- $q := .Values.gpuQuota | default 0 | int -}}
{{- if gt $q $physical -}}
{{- fail (printf "gpuQuota %d is larger than the fleet's %d physical GPUs (gpu_pools)" $q $physical) -}}
{{- end -}}
{{- ternary $q $physical (gt $q 0) -}}
{{- end -}}
