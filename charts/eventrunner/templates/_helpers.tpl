{{/* Names and labels shared by every template. */}}

{{- define "eventrunner.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name; a release called "eventrunner" is not doubled to eventrunner-eventrunner. */}}
{{- define "eventrunner.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "eventrunner.selectorLabels" -}}
app.kubernetes.io/name: {{ include "eventrunner.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "eventrunner.labels" -}}
{{ include "eventrunner.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: eventrunner
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "eventrunner.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "eventrunner.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name must name an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* An image reference: repository@digest when a digest is set, else repository:tag. */}}
{{- define "eventrunner.imageRef" -}}
{{- if .digest -}}
{{- printf "%s@%s" .repository .digest -}}
{{- else -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}
{{- end -}}

{{- define "eventrunner.image" -}}
{{- include "eventrunner.imageRef" (dict "repository" .Values.image.repository "digest" .Values.image.digest "tag" (default .Chart.AppVersion .Values.image.tag)) -}}
{{- end -}}

{{/* The workloads' image: runtimeImage where set, the operator's own image otherwise. */}}
{{- define "eventrunner.runtimeImage" -}}
{{- $r := .Values.runtimeImage -}}
{{- if or $r.repository $r.tag $r.digest -}}
{{- include "eventrunner.imageRef" (dict "repository" (default .Values.image.repository $r.repository) "digest" $r.digest "tag" (default (default .Chart.AppVersion .Values.image.tag) $r.tag)) -}}
{{- else -}}
{{- include "eventrunner.image" . -}}
{{- end -}}
{{- end -}}

{{- define "eventrunner.leaseName" -}}
{{- default (include "eventrunner.fullname" .) .Values.leaderElection.leaseName -}}
{{- end -}}

{{- define "eventrunner.leaseNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace -}}
{{- end -}}

{{/*
A map as key=value pairs joined by commas, keys sorted (OTEL_RESOURCE_ATTRIBUTES).
*/}}
{{- define "eventrunner.keyValues" -}}
{{- $pairs := list -}}
{{- range $k := keys . | sortAlpha -}}
{{- $pairs = append $pairs (printf "%s=%s" $k (index $ $k)) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}
