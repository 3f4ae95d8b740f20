{{- define "secret-store.labels" -}}
app.kubernetes.io/name: secret-store
app.kubernetes.io/part-of: llm-platform
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
