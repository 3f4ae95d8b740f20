{{/*
=============================================================================
 llm.platform app-of-apps: shared helpers
=============================================================================
Every child Application is rendered by ONE named template so all of them get the
same project, finalizer, labels, sync wave, retries, ServerSideApply and
ignoreDifferences handling. Layer files (apps-platform.yaml, apps-serving.yaml, ...)
only describe components.

-----------------------------------------------------------------------------
 include "llmp.application" (dict ...)   -- renders one child Application
-----------------------------------------------------------------------------
Renders NOTHING when the component is switched off (its layer is not in the
selected profile, its feature is false, or `when` is false). Because the root
Application syncs with prune, switching something off prunes its Application,
and the child's resources-finalizer then deletes what it deployed.

Input dict keys (only root, name, layer, namespace and a source are required):

  root              $ (the chart's root context)                       REQUIRED
  name              Application name (DNS-1123); also the Helm release name  REQUIRED
  layer             platform | serving | routing | llm-gateway | experience | demos  REQUIRED
                    (profiles are cumulative, see .Values.profiles)
  feature           key of .Values.features that must be true ("" or absent: always on)
  when              extra boolean condition (default true), e.g. (eq .Values.cluster.gpuStack "operator")
  wave              sync wave: an int, or a name from .Values.waves
                    (self -2, crds -1, operators 0, config 1, workloads 2, routes 3, edge 4)
  namespace         destination namespace (created with CreateNamespace=true)  REQUIRED
  chart             shorthand for an IN-REPO chart: gitops/charts/<chart>, read from
                    .Values.repo.url at .Values.repo.revision
  source            OR a full Argo CD source dict (repoURL, chart|path, targetRevision,
                    kustomize/directory/helm...). Use a pin from .Values.sources, e.g.
                    (merge (dict) .root.Values.sources.keda). A `helm` key given here is kept.
  values            Helm values for the source (rendered as helm.valuesObject);
                    .Values.apps.<name>.values is deep-merged over it (per-install overrides)
  releaseName       Helm release name (default: name)
  serverSideApply   true for big CRDs (adds ServerSideApply=true)
  serverSideDiff    true to diff server-side (defaults/mutations by webhooks are not drift)
  automated         default true (prune + selfHeal); false = manual sync (GPU cost gate)
  ignoreReplicas    list of {group, kind, name?, namespace?} whose /spec/replicas is owned by
                    an autoscaler or manual scale-to-zero; adds ignoreDifferences AND
                    RespectIgnoreDifferences=true (ignoreDifferences alone only hides the diff)
  ignoreDifferences raw ignoreDifferences entries (also turns on RespectIgnoreDifferences)
  syncOptions       extra syncOptions strings
  secrets           true: pass this app's secret-contract entries (gitops/secret-contract.yml,
                    entries whose `app` equals name and whose layer/feature is on) to the chart as
                    values `externalSecrets` (list of {name, namespace, spec}: a complete
                    ExternalSecret spec for .Values.secrets.storeName) and `secretStoreName`.
                    A chart renders them with:
                      {{- range .Values.externalSecrets }}
                      ---
                      apiVersion: external-secrets.io/v1
                      kind: ExternalSecret
                      metadata: {name: {{ .name }}, namespace: {{ .namespace }}}
                      spec: {{- toYaml .spec | nindent 2 }}
                      {{- end }}
  platformValues    true: also pass `platform` (cluster facts: substrate, gpuStack, storageClass,
                    gatewayClass, domain, costTier, gpuPools, cpuPools) and `models` as values
  annotations       extra Application annotations
  labels            extra Application labels

Example (apps-serving.yaml):
  {{- include "llmp.application" (dict "root" $ "name" "model-serving" "layer" "serving"
        "wave" "workloads" "namespace" "serving" "chart" "model-serving" "secrets" true
        "platformValues" true "automated" false
        "ignoreReplicas" (list (dict "group" "apps" "kind" "Deployment"))) }}

-----------------------------------------------------------------------------
 include "llmp.enabled" (dict "root" $ "layer" L "feature" F)  -> "true" or ""
 include "llmp.layers" $                                      -> layers of the profile, comma list
 include "llmp.secretEntries" (dict "root" $ "app" NAME)      -> YAML list (see `secrets` above)
 include "llmp.gpuCount" $                                    -> physical GPUs in gpuPools
=============================================================================
*/}}

{{- define "llmp.layers" -}}
{{- $profile := .Values.profile | default "platform" -}}
{{- $layers := index .Values.profiles $profile -}}
{{- if not $layers -}}
{{- fail (printf "profile %q is not one of %s" $profile (keys .Values.profiles | sortAlpha | join ", ")) -}}
{{- end -}}
{{- join "," $layers -}}
{{- end -}}

{{- define "llmp.enabled" -}}
{{- $root := .root -}}
{{- $layers := splitList "," (include "llmp.layers" $root) -}}
{{- $on := has .layer $layers -}}
{{- if and $on .feature -}}
{{- $on = index ($root.Values.features | default dict) .feature | default false -}}
{{- end -}}
{{- if and $on (hasKey . "when") -}}
{{- $on = .when -}}
{{- end -}}
{{- if $on }}true{{ end -}}
{{- end -}}

{{- define "llmp.wave" -}}
{{- $w := .wave | default "workloads" -}}
{{- if kindIs "string" $w -}}
{{- if hasKey .root.Values.waves $w -}}{{ index .root.Values.waves $w }}{{- else -}}{{ $w }}{{- end -}}
{{- else -}}{{ $w }}{{- end -}}
{{- end -}}

{{- define "llmp.gpuCount" -}}
{{- $n := 0 -}}
{{- range .Values.cluster.gpuPools | default list -}}
{{- $n = add $n (mul (.gpus_per_node | default 1) (.max_nodes | default 0)) -}}
{{- end -}}
{{- $n -}}
{{- end -}}

{{/* The secret contract: gitops/secret-contract.yml (files/secret-contract.yml is a symlink). */}}
{{- define "llmp.secretEntries" -}}
{{- $root := .root -}}
{{- $contract := $root.Files.Get "files/secret-contract.yml" | fromYaml -}}
{{- $s := $root.Values.secrets -}}
{{- $out := list -}}
{{- range $contract.secrets -}}
{{- if and (eq .app $.app) (include "llmp.enabled" (dict "root" $root "layer" .layer "feature" (.feature | default ""))) -}}
{{- $data := list -}}
{{- range .keys -}}
{{- if not .literal -}}
{{- $ref := dict "key" .remote "conversionStrategy" "Default" "decodingStrategy" "None" "metadataPolicy" "None" -}}
{{- if ne $s.backend "gcpsm" -}}{{- $_ := set $ref "property" "value" -}}{{- end -}}
{{- $data = append $data (dict "secretKey" .key "remoteRef" $ref) -}}
{{- end -}}
{{- end -}}
{{- $target := dict "name" .secret "creationPolicy" "Owner" "deletionPolicy" "Retain" -}}
{{- $literals := dict -}}
{{- range .keys -}}{{- if .literal -}}{{- $_ := set $literals .key .literal -}}{{- end -}}{{- end -}}
{{- if or $literals .type -}}
{{- $tpl := dict "engineVersion" "v2" "mergePolicy" "Merge" "type" (.type | default "Opaque") -}}
{{- if $literals -}}{{- $_ := set $tpl "data" $literals -}}{{- end -}}
{{- $_ := set $target "template" $tpl -}}
{{- end -}}
{{- $spec := dict "refreshInterval" "1h0m0s" "secretStoreRef" (dict "kind" "ClusterSecretStore" "name" $s.storeName) "target" $target "data" $data -}}
{{- $out = append $out (dict "name" .secret "namespace" .namespace "spec" $spec) -}}
{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{- define "llmp.platformFacts" -}}
{{- $c := .Values.cluster -}}
{{- toYaml (dict "substrate" $c.substrate "gpuStack" $c.gpuStack "storageClass" ($c.storageClass | default "") "gatewayClass" $c.gatewayClass "domain" ($c.domain | default "") "costTier" $c.costTier "gpuPools" ($c.gpuPools | default list) "cpuPools" ($c.cpuPools | default list) "gpuCount" (include "llmp.gpuCount" . | int)) -}}
{{- end -}}

{{- define "llmp.application" -}}
{{- $root := .root -}}
{{- $V := $root.Values -}}
{{- if not .name }}{{ fail "llmp.application: name is required" }}{{ end -}}
{{- if not .layer }}{{ fail (printf "llmp.application %s: layer is required" .name) }}{{ end -}}
{{- if not (has .layer $V.layerOrder) }}{{ fail (printf "llmp.application %s: unknown layer %q" .name .layer) }}{{ end -}}
{{- if include "llmp.enabled" (dict "root" $root "layer" .layer "feature" (.feature | default "") "when" (ternary .when true (hasKey . "when"))) -}}
{{- $name := .name -}}
{{- $source := dict -}}
{{- if .chart -}}
{{- $source = dict "repoURL" $V.repo.url "targetRevision" $V.repo.revision "path" (printf "%s/charts/%s" $V.repo.path .chart) -}}
{{- else if .source -}}
{{- $source = deepCopy .source -}}
{{- else -}}
{{- fail (printf "llmp.application %s: chart or source is required" $name) -}}
{{- end -}}
{{- $values := deepCopy (.values | default dict) -}}
{{- if .secrets -}}
{{- $_ := set $values "externalSecrets" (include "llmp.secretEntries" (dict "root" $root "app" $name) | fromYamlArray) -}}
{{- $_ := set $values "secretStoreName" $V.secrets.storeName -}}
{{- end -}}
{{- if .platformValues -}}
{{- $_ := set $values "platform" (include "llmp.platformFacts" $root | fromYaml) -}}
{{- $_ := set $values "models" ($V.models | default list) -}}
{{- end -}}
{{- $override := dig $name "values" dict ($V.apps | default dict) -}}
{{- $values = mustMergeOverwrite $values (deepCopy $override) -}}
{{- $isHelm := or .chart (hasKey $source "chart") (hasKey $source "helm") -}}
{{- if and (not $isHelm) (or $values .releaseName) (not (hasKey $source "kustomize")) (not (hasKey $source "directory")) -}}
{{- $isHelm = true -}}
{{- end -}}
{{- if $isHelm -}}
{{- $helm := deepCopy ($source.helm | default dict) -}}
{{- $_ := set $helm "releaseName" (.releaseName | default $name) -}}
{{- if $values -}}{{- $_ := set $helm "valuesObject" $values -}}{{- end -}}
{{- $_ := set $source "helm" $helm -}}
{{- end -}}
{{- $opts := list "CreateNamespace=true" "PruneLast=true" -}}
{{- if .serverSideApply -}}{{- $opts = append $opts "ServerSideApply=true" -}}{{- end -}}
{{- if .serverSideDiff -}}{{- $opts = append $opts "ServerSideDiff=true" -}}{{- end -}}
{{- $ignore := list -}}
{{- range .ignoreReplicas -}}
{{- $e := dict "group" (.group | default "apps") "kind" .kind "jsonPointers" (list "/spec/replicas") -}}
{{- if .name -}}{{- $_ := set $e "name" .name -}}{{- end -}}
{{- if .namespace -}}{{- $_ := set $e "namespace" .namespace -}}{{- end -}}
{{- $ignore = append $ignore $e -}}
{{- end -}}
{{- range .ignoreDifferences -}}{{- $ignore = append $ignore . -}}{{- end -}}
{{- if $ignore -}}{{- $opts = append $opts "RespectIgnoreDifferences=true" -}}{{- end -}}
{{- range .syncOptions -}}{{- $opts = append $opts . -}}{{- end -}}
{{- $automated := ternary .automated true (hasKey . "automated") }}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {{ $name }}
  namespace: {{ $V.argocdNamespace }}
  finalizers:
    - resources-finalizer.argocd.argoproj.io
  labels:
    app.kubernetes.io/part-of: llm-platform
    app.kubernetes.io/managed-by: argocd
    llm-platform/layer: {{ .layer }}
    {{- if .feature }}
    llm-platform/feature: {{ .feature | replace "_" "-" }}
    {{- end }}
    {{- with .labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    argocd.argoproj.io/sync-wave: {{ include "llmp.wave" (dict "root" $root "wave" .wave) | quote }}
    llm-platform/sync: {{ ternary "auto" "manual" $automated }}
    {{- with .annotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  project: {{ $V.project.name }}
  source:
    {{- toYaml $source | nindent 4 }}
  destination:
    server: {{ $V.destination.server }}
    namespace: {{ .namespace }}
  syncPolicy:
    {{- if $automated }}
    automated:
      prune: true
      selfHeal: true
    {{- end }}
    syncOptions:
      {{- toYaml $opts | nindent 6 }}
    retry:
      {{- toYaml $V.retry | nindent 6 }}
  {{- if $ignore }}
  ignoreDifferences:
    {{- toYaml $ignore | nindent 4 }}
  {{- end }}
{{- end -}}
{{- end -}}

{{/*
 include "llmp.argocdConfig" $ -> YAML map {configmap name: data}. The SAME data that
 roles/platform_argocd writes at bootstrap (tests/unit/gitops compares them), so Argo CD
 managing itself changes nothing.
*/}}
{{- define "llmp.argocdConfig" -}}
{{- $a := .Values.argocd -}}
{{- $cm := dict "kustomize.buildOptions" $a.kustomizeBuildOptions "application.resourceTrackingMethod" "annotation" "timeout.reconciliation" ($a.reconciliationTimeout | default "180s") "admin.enabled" (ternary "true" "false" (and $a.adminEnabled (empty $a.oidcConfig))) -}}
{{- if .Values.cluster.domain -}}{{- $_ := set $cm "url" (printf "https://argocd.%s" .Values.cluster.domain) -}}{{- end -}}
{{- if $a.oidcConfig -}}{{- $_ := set $cm "oidc.config" $a.oidcConfig -}}{{- end -}}
{{- range $k, $lua := (.Files.Get "files/argocd-resource-health.yml" | fromYaml) -}}
{{- $_ := set $cm (printf "resource.customizations.health.%s" $k) $lua -}}
{{- end -}}
{{- $params := dict "server.insecure" (ternary "true" "false" (and $a.serverInsecure true)) -}}
{{- $rbac := dict "policy.default" $a.rbacDefaultPolicy "policy.csv" ($a.rbacPolicy | default "") -}}
{{- toYaml (dict "argocd-cm" $cm "argocd-cmd-params-cm" $params "argocd-rbac-cm" $rbac) -}}
{{- end -}}

{{/* include "llmp.sourceRepos" $ -> YAML list: this repo + every pinned source (sorted, unique). */}}
{{- define "llmp.sourceRepos" -}}
{{- $repos := list .Values.repo.url -}}
{{- range $_, $s := .Values.sources -}}{{- $repos = append $repos $s.repoURL -}}{{- end -}}
{{- range .Values.project.extraSourceRepos | default list -}}{{- $repos = append $repos . -}}{{- end -}}
{{- toYaml ($repos | uniq | sortAlpha) -}}
{{- end -}}
