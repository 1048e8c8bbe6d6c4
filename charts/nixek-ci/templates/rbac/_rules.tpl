{{/*
The permissions of nixek-ci, by component and scope: exactly the verbs the code uses on exactly the resources it
uses. Each rule says which code needs it; RbacAblationE2E removes each verb in turn and shows what then fails.
Adding a rule: add it here with its reason, add it to ExpectedRbac in the e2e tests, and give the ablation test
a probe that fails without it.
*/}}

{{/* Operator, in every namespace whose jobs it runs (each watched namespace, or cluster-wide). */}}
{{- define "nixek-ci.rules.operator" -}}
# NixekJobs: informer (list, watch); a fresh read before calling a machine lost (get); a repository's commit's jobs
# (create); finalizer add and removal, a superseded commit's jobs cancelled (patch); a finished job past its
# ttlSecondsAfterFinished, a repository's jobs past its keepCommits (delete)
- apiGroups: ["ci.nixek.dev"]
  resources: ["nixekjobs"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# the operator's status fields, by server-side apply
- apiGroups: ["ci.nixek.dev"]
  resources: ["nixekjobs/status"]
  verbs: ["patch"]
# NixekMachineImages: the image reconciler's informer, and the job reconciler's that wakes jobs waiting for their
# image (list, watch); a job's image by spec.machineImageName or its inline machine's (get); an inline machine's
# image, made for its job (create); the Cleaner's finalizer, and the inline-image collector's unused mark (patch);
# an inline machine's image unused for the retention period (delete, inline-image collector)
- apiGroups: ["ci.nixek.dev"]
  resources: ["nixekmachineimages"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
# the operator's image status, by server-side apply
- apiGroups: ["ci.nixek.dev"]
  resources: ["nixekmachineimages/status"]
  verbs: ["patch"]
# NixekRepositories: the repository reconciler's informer (list, watch)
- apiGroups: ["ci.nixek.dev"]
  resources: ["nixekrepositories"]
  verbs: ["list", "watch"]
# the operator's repository status (heads, conditions, the sealed webhook secret), by server-side apply
- apiGroups: ["ci.nixek.dev"]
  resources: ["nixekrepositories/status"]
  verbs: ["patch"]
# builder pods, owned by their image, and evaluation pods, owned by their job (without blockOwnerDeletion, so no
# /finalizers): informers selecting them by label (list, watch), started (create), a failed builder pod removed
# before a retry and a cancelled job's evaluation pod stopped (delete)
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "watch", "create", "delete"]
# a builder pod's ConfigMap (the machine and the image expression), owned by its image, and an evaluation pod's
# (the job's spec.nix), owned by its job; created before the pod
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["create"]
# an evaluation pod's Secret (the plaintext evaluation token it mounts), created before the pod, deleted once the
# evaluation is recorded (token records are in the job's status, not in Secrets); a builder pod's upload grant (its
# presigned part URLs), created before the pod, deleted once its result is handled
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["create", "delete"]
# a repository's spec.tokenSecretRef (git ls-remote of a private repository, the forge API) and
# spec.webhookSecretRef (sealed into its status for the report API), and the Secrets a job uses (spec.secrets,
# steps[].secrets: checked for the ci.nixek.dev/job-secret label and sealed at launch), read by name
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
# Events on jobs and images: read by name, created, their count bumped on a repeat
- apiGroups: [""]
  resources: ["events"]
  verbs: ["get", "create", "patch"]
{{- end }}

{{/* Operator, in its own namespace. */}}
{{- define "nixek-ci.rules.operatorOwnNamespace" -}}
# the token key, seal key and binary cache key Secrets: created at first use (create cannot be limited by name), read
# by name (the cache key is never made while the cache is off, so naming it then grants nothing)
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["create"]
- apiGroups: [""]
  resources: ["secrets"]
  resourceNames: [{{ .Values.config.operator.tokenKeySecret | quote }}, {{ .Values.config.operator.sealKeySecret | quote }}, {{ .Values.config.operator.cacheKeySecret | quote }}]
  verbs: ["get"]
{{- if .Values.config.operator.leaderElection }}
# leader election: the Lease is created once (create cannot be limited by name), then read, taken over and renewed
# by name (patch: fabric8's LeaderElector; update: JOSDK refuses to start unless it may)
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["create"]
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  resourceNames: [{{ .Values.config.operator.leaderLeaseName | quote }}]
  verbs: ["get", "update", "patch"]
{{- end }}
{{- end }}

{{/* Report API, in every namespace whose jobs report to it (docs/security.md#the-report-api: read jobs, patch their status; no Secrets). */}}
{{- define "nixek-ci.rules.reportApi" -}}
# a report re-reads its job (get); the token records in the jobs' status are watched (list, watch); /readyz lists
# one job to prove the API, the CRD and RBAC work (list)
- apiGroups: ["ci.nixek.dev"]
  resources: ["nixekjobs"]
  verbs: ["get", "list", "watch"]
# status.steps, by JSON patch with a resourceVersion precondition
- apiGroups: ["ci.nixek.dev"]
  resources: ["nixekjobs/status"]
  verbs: ["patch"]
# webhooks: the repositories (and their sealed webhook secrets) are watched; a verified delivery is recorded in
# status.webhook by merge patch (docs/webhooks.md)
- apiGroups: ["ci.nixek.dev"]
  resources: ["nixekrepositories"]
  verbs: ["list", "watch"]
- apiGroups: ["ci.nixek.dev"]
  resources: ["nixekrepositories/status"]
  verbs: ["patch"]
{{- end }}

{{/* Report API, in the release namespace: the seal key, by name, its only Secret (docs/secrets.md#the-seal-key). */}}
{{- define "nixek-ci.rules.reportApiOwnNamespace" -}}
# the seal key Secret, read by name to open what the operator sealed (a job's secrets for its agent)
- apiGroups: [""]
  resources: ["secrets"]
  resourceNames: [{{ .Values.config.operator.sealKeySecret | quote }}]
  verbs: ["get"]
{{- end }}

{{/*
Binds a ClusterRole where a component works: in each watched namespace (the release namespace by default), and
cluster-wide only with config.watchAllNamespaces. Call with (dict "root" $ "role" <ClusterRole name> "sa"
<ServiceAccount> "component" <c>).
*/}}
{{- define "nixek-ci.bindings" -}}
{{- $root := .root }}
{{- if not $root.Values.config.watchAllNamespaces }}
{{- range $ns := include "nixek-ci.watchNamespaces" $root | fromJsonArray }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ $.role }}
  namespace: {{ $ns }}
  labels:
    {{- include "nixek-ci.labels" (dict "root" $root "component" $.component) | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ $.role }}
subjects:
  - kind: ServiceAccount
    name: {{ $.sa }}
    namespace: {{ $root.Release.Namespace }}
{{- end }}
{{- else }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ .role }}
  labels:
    {{- include "nixek-ci.labels" (dict "root" $root "component" .component) | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ .role }}
subjects:
  - kind: ServiceAccount
    name: {{ .sa }}
    namespace: {{ $root.Release.Namespace }}
{{- end }}
{{- end }}
