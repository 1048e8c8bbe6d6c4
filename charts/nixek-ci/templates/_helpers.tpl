{{/* Names, labels and the pieces both Deployments share. */}}

{{- define "nixek-ci.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "nixek-ci.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "nixek-ci.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object; call with (dict "root" $ "component" "operator"). */}}
{{- define "nixek-ci.labels" -}}
helm.sh/chart: {{ include "nixek-ci.chart" .root }}
{{ include "nixek-ci.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: nixek-ci
{{- end }}

{{- define "nixek-ci.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nixek-ci.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "nixek-ci.operatorServiceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (printf "%s-operator" (include "nixek-ci.fullname" .)) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The report API's ServiceAccount: the operator's in sidecar mode (one pod, one ServiceAccount). */}}
{{- define "nixek-ci.reportApiServiceAccountName" -}}
{{- if eq .Values.reportApi.mode "sidecar" }}
{{- include "nixek-ci.operatorServiceAccountName" . }}
{{- else if .Values.reportApi.serviceAccount.create }}
{{- default (printf "%s-report-api" (include "nixek-ci.fullname" .)) .Values.reportApi.serviceAccount.name }}
{{- else }}
{{- required "reportApi.serviceAccount.name is required when reportApi.serviceAccount.create is false" .Values.reportApi.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The builder pods' ServiceAccount (NIXEK_BUILDER_SERVICE_ACCOUNT), in each namespace builder pods run in. */}}
{{- define "nixek-ci.builderServiceAccountName" -}}
{{- if .Values.builder.serviceAccount.create }}
{{- default (printf "%s-builder" (include "nixek-ci.fullname" .)) .Values.builder.serviceAccount.name }}
{{- else }}
{{- required "builder.serviceAccount.name is required when builder.serviceAccount.create is false" .Values.builder.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "nixek-ci.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The namespaces whose jobs this installation runs, as a JSON list (fromJsonArray): config.watchNamespaces, else the
release namespace; empty only with config.watchAllNamespaces (every namespace, cluster-wide bindings).
*/}}
{{- define "nixek-ci.watchNamespaces" -}}
{{- if .Values.config.watchAllNamespaces }}
{{- if .Values.config.watchNamespaces }}
{{- fail "config.watchAllNamespaces and config.watchNamespaces: set only one (watchAllNamespaces runs the jobs of every namespace, with cluster-wide bindings)" }}
{{- end }}
{{- list | toJson }}
{{- else }}
{{- .Values.config.watchNamespaces | default (list .Release.Namespace) | toJson }}
{{- end }}
{{- end }}

{{/* Values the chart refuses, each with what to do instead. */}}
{{- define "nixek-ci.checks" -}}
{{- if and (eq .Values.logs.store "local") (not .Values.logs.local.persistentVolumeClaim) }}
{{- fail "logs.store local keeps every step's log in a directory: set logs.local.persistentVolumeClaim to an existing claim (ReadWriteMany unless the operator and report API share one pod: reportApi.mode sidecar, replicaCount 1). An emptyDir would lose acknowledged logs whenever a pod restarts; use logs.store s3 otherwise." }}
{{- end }}
{{- if and .Values.logs.s3.reportApiRoleArn (eq .Values.reportApi.mode "sidecar") }}
{{- fail "logs.s3.reportApiRoleArn annotates the report API's own ServiceAccount, which reportApi.mode sidecar does not use: give the operator's role (serviceAccount.annotations) the report API's log rights instead" }}
{{- end }}
{{- if and (eq .Values.config.operator.provider "local") (not .Values.unsafeAllowLocalProvider) }}
{{- fail "config.operator.provider local runs every job step inside the operator's container, with its ServiceAccount (pods create, Secrets read and write) and its files: for demos and tests only. Use provider ec2, or set unsafeAllowLocalProvider=true on a cluster nobody else uses." }}
{{- end }}
{{- end }}

{{/* Pods of this release reach the report API through its Service. */}}
{{- define "nixek-ci.reportServiceUrl" -}}
{{- printf "http://%s-report-api.%s.svc:%d" (include "nixek-ci.fullname" .) .Release.Namespace (int .Values.reportApi.service.port) }}
{{- end }}

{{/*
Renders a config block as environment variables: key fooBar -> NIXEK_FOO_BAR; lists joined with commas; null,
"" and [] are left out (the program's default applies). The options themselves, their defaults and their checks
live in the code (OperatorConfig, ReportApiConfig); this only names and formats them.
*/}}
{{- define "nixek-ci.configEnv" -}}
{{- range $key, $value := . }}
{{- if not (or (kindIs "invalid" $value) (and (kindIs "string" $value) (eq $value "")) (and (kindIs "slice" $value) (eq (len $value) 0))) }}
- name: {{ printf "NIXEK_%s" (regexReplaceAll "([a-z0-9])([A-Z])" $key "${1}_${2}" | upper) }}
  value: {{ include "nixek-ci.envValue" $value | quote }}
{{- end }}
{{- end }}
{{- end }}

{{- define "nixek-ci.envValue" -}}
{{- if kindIs "slice" . }}
{{- join "," . }}
{{- else if kindIs "float64" . }}
{{- int64 . }}
{{- else }}
{{- . }}
{{- end }}
{{- end }}

{{/* The operator's options, with the values only the chart knows filled in. */}}
{{- define "nixek-ci.operatorConfig" -}}
{{- $c := deepCopy .Values.config.operator }}
{{- $_ := set $c "watchNamespaces" (include "nixek-ci.watchNamespaces" . | fromJsonArray) }}
{{- if not $c.reportUrl }}
{{- $_ := set $c "reportUrl" (include "nixek-ci.reportServiceUrl" .) }}
{{- end }}
{{- if not $c.evalReportUrl }}
{{- $_ := set $c "evalReportUrl" (include "nixek-ci.reportServiceUrl" .) }}
{{- end }}
{{- if not $c.builderImage }}
{{- $_ := set $c "builderImage" (include "nixek-ci.image" .) }}
{{- end }}
{{- $_ := set $c "builderServiceAccount" (include "nixek-ci.builderServiceAccountName" .) }}
{{- $_ := set $c "builderKvmResource" .Values.builder.kvm.resource }}
{{- $_ := set $c "builderKvmFallback" .Values.builder.kvm.fallback }}
{{- $selector := list }}
{{- range $key, $value := .Values.builder.nodeSelector }}
{{- $selector = append $selector (printf "%s=%s" $key $value) }}
{{- end }}
{{- $_ := set $c "builderNodeSelector" $selector }}
{{- if .Values.builder.tolerations }}
{{- $_ := set $c "builderTolerations" (toJson .Values.builder.tolerations) }}
{{- end }}
{{- toYaml $c }}
{{- end }}

{{/* The report API's options. */}}
{{- define "nixek-ci.reportApiConfig" -}}
{{- $c := deepCopy .Values.config.reportApi }}
{{- $_ := set $c "watchNamespaces" (include "nixek-ci.watchNamespaces" . | fromJsonArray) }}
{{- $_ := set $c "sealKeySecret" .Values.config.operator.sealKeySecret }}
{{- toYaml $c }}
{{- end }}

{{/*
Where the binary caches are, for the report API's read-only view (/v1/cache): the operator's bucket, prefix, cluster
id, region and S3 endpoint; nothing when the operator's cache is off or has no bucket.
*/}}
{{- define "nixek-ci.cacheViewConfig" -}}
{{- $o := .Values.config.operator }}
{{- $c := dict }}
{{- $bucket := default $o.imageBucket $o.cacheBucket }}
{{- if and $bucket (ne (toString $o.cacheEnabled) "false") }}
{{- $_ := set $c "cacheBucket" $bucket }}
{{- $_ := set $c "cacheKeyPrefix" $o.cacheKeyPrefix }}
{{- $_ := set $c "clusterId" $o.clusterId }}
{{- $_ := set $c "awsRegion" $o.awsRegion }}
{{- $_ := set $c "s3Endpoint" $o.s3Endpoint }}
{{- end }}
{{- toYaml $c }}
{{- end }}

{{/*
The log store's options for one container, call with (dict "root" $ "component" "operator"|"report-api"): where the
store is (both), retention (operator), limits and the status interval (report API). Rendered by nixek-ci.configEnv.
*/}}
{{- define "nixek-ci.logsConfig" -}}
{{- $v := .root.Values }}
{{- $c := dict "logStore" $v.logs.store }}
{{- if eq $v.logs.store "s3" }}
{{- $_ := set $c "logS3Bucket" (default $v.config.operator.imageBucket $v.logs.s3.bucket) }}
{{- /* one prefix per installation by default: the log collector deletes the logs of jobs it does not know */ -}}
{{- $_ := set $c "logS3Prefix" (default (ternary (printf "logs/%s/" (toString $v.config.operator.clusterId)) "" (not (empty $v.config.operator.clusterId))) $v.logs.s3.prefix) }}
{{- $_ := set $c "logS3Region" (default $v.config.operator.awsRegion $v.logs.s3.region) }}
{{- $_ := set $c "logS3Endpoint" (default (default "" $v.config.operator.s3Endpoint) $v.logs.s3.endpoint) }}
{{- $_ := set $c "artifactS3Prefix" (default (ternary (printf "artifacts/%s/" (toString $v.config.operator.clusterId)) "" (not (empty $v.config.operator.clusterId))) $v.logs.artifacts.s3Prefix) }}
{{- else }}
{{- $_ := set $c "logDir" $v.logs.local.dir }}
{{- end }}
{{- if eq .component "operator" }}
{{- $_ := set $c "logRetentionDays" $v.logs.retentionDays }}
{{- else }}
{{- $_ := set $c "logStepLimitBytes" $v.logs.stepLimitBytes }}
{{- $_ := set $c "logJobLimitBytes" $v.logs.jobLimitBytes }}
{{- $_ := set $c "reportStatusIntervalMillis" $v.logs.statusIntervalMillis }}
{{- $_ := set $c "artifactFileLimitBytes" $v.logs.artifacts.fileLimitBytes }}
{{- $_ := set $c "artifactJobLimitBytes" $v.logs.artifacts.jobLimitBytes }}
{{- $_ := set $c "artifactJobMaxFiles" $v.logs.artifacts.jobMaxFiles }}
{{- $_ := set $c "artifactUrlTtlSeconds" $v.logs.artifacts.urlTtlSeconds }}
{{- $_ := set $c "artifactStatusMax" $v.logs.artifacts.statusMax }}
{{- end }}
{{- toYaml $c }}
{{- end }}

{{/* The local log store's claim, mounted by the operator and the report API (logs.store local only). */}}
{{- define "nixek-ci.logsVolume" -}}
{{- if eq .Values.logs.store "local" }}
- name: logs
  persistentVolumeClaim:
    claimName: {{ .Values.logs.local.persistentVolumeClaim }}
{{- end }}
{{- end }}

{{- define "nixek-ci.logsVolumeMount" -}}
{{- if eq .Values.logs.store "local" }}
- name: logs
  mountPath: {{ .Values.logs.local.dir }}
{{- end }}
{{- end }}

{{- define "nixek-ci.tmpVolume" -}}
- name: tmp
  emptyDir:
    {{- with .Values.tmpDir.sizeLimit }}
    sizeLimit: {{ . }}
    {{- end }}
{{- end }}

{{/* The report API container: the sidecar of the operator pod, or the only container of its own Deployment. */}}
{{- define "nixek-ci.reportApiContainer" -}}
- name: report-api
  image: {{ include "nixek-ci.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: ["report-api"]
  env:
    - name: JAVA_OPTS
      value: {{ .Values.reportApi.javaOpts | quote }}
    - name: NIXEK_SEAL_KEY_NAMESPACE
      valueFrom:
        fieldRef:
          fieldPath: metadata.namespace
    {{- include "nixek-ci.configEnv" (include "nixek-ci.reportApiConfig" . | fromYaml) | trim | nindent 4 }}
    {{- include "nixek-ci.configEnv" (include "nixek-ci.logsConfig" (dict "root" . "component" "report-api") | fromYaml) | trim | nindent 4 }}
    {{- include "nixek-ci.configEnv" (include "nixek-ci.cacheViewConfig" . | fromYaml) | trim | nindent 4 }}
    {{- with .Values.reportApi.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  ports:
    - name: http
      containerPort: {{ .Values.config.reportApi.reportPort }}
      protocol: TCP
    {{- if gt (int (default -1 .Values.config.reportApi.reportMetricsPort)) 0 }}
    - name: report-metrics
      containerPort: {{ .Values.config.reportApi.reportMetricsPort }}
      protocol: TCP
    {{- end }}
  startupProbe:
    httpGet:
      path: /healthz
      port: http
    periodSeconds: 2
    failureThreshold: 60
  livenessProbe:
    httpGet:
      path: /healthz
      port: http
    periodSeconds: 10
    timeoutSeconds: 3
    failureThreshold: 3
  readinessProbe:
    httpGet:
      path: /readyz
      port: http
    periodSeconds: 5
    timeoutSeconds: 3
    failureThreshold: 3
  resources:
    {{- toYaml .Values.reportApi.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
    {{- include "nixek-ci.logsVolumeMount" . | nindent 4 }}
{{- end }}

{{/* Pod-level settings both Deployments share. */}}
{{- define "nixek-ci.podSpecCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
Where an IPv4 CIDR lies against 169.254.0.0/16 (link-local, the instance metadata endpoint): "contains" (a larger block
holds all of it), "inside" (the block is it or part of it), or "" (they do not meet). Sprig has no network functions:
the block's address and 169.254.0.0 are compared as integers at the coarser of the two prefixes.
*/}}
{{- define "nixek-ci.linkLocal" -}}
{{- $parts := splitList "/" . }}
{{- $o := splitList "." (first $parts) }}
{{- $prefix := int (last $parts) }}
{{- $ip := add (mul (int (index $o 0)) 16777216) (mul (int (index $o 1)) 65536) (mul (int (index $o 2)) 256) (int (index $o 3)) }}
{{- $linkLocal := 2851995648 }}
{{- $bits := sub 32 (min $prefix 16) }}
{{- $size := 1 }}
{{- range until (int $bits) }}
{{- $size = mul $size 2 }}
{{- end }}
{{- if eq (div $ip $size) (div $linkLocal $size) }}
{{- if lt $prefix 16 }}contains{{ else }}inside{{ end }}
{{- end }}
{{- end }}
