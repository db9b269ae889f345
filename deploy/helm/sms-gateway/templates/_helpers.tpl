{{/* Chart name, truncated to the 63 characters Kubernetes allows in a label. */}}
{{- define "sms-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sms-gateway.fullname" -}}
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

{{/* Name of one service's objects: <fullname>-<service>, shortened to fit 63 characters. */}}
{{- define "sms-gateway.component" -}}
{{- printf "%s-%s" (include "sms-gateway.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "sms-gateway.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "sms-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sms-gateway
{{- end }}

{{/* Selector labels of one service (stable across upgrades: never add the version here). */}}
{{- define "sms-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sms-gateway.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{- define "sms-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "sms-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "sms-gateway.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret holding DATABASE_URL and the other credentials. */}}
{{- define "sms-gateway.secretName" -}}
{{- default (printf "%s-env" (include "sms-gateway.fullname" .)) .Values.secret.existingSecret }}
{{- end }}

{{- define "sms-gateway.gatewayConfigSecretName" -}}
{{- default (printf "%s-gateway-config" (include "sms-gateway.fullname" .)) .Values.gatewayConfig.existingSecret }}
{{- end }}

{{/* Fails the render early with a message an SRE can act on, instead of five crash-looping pods. */}}
{{- define "sms-gateway.validate" -}}
{{- if not .Values.image.repository }}
{{- fail "image.repository is required (no public image is published: build deploy/docker/Dockerfile and push it)" }}
{{- end }}
{{- if not .Values.kafka.brokers }}
{{- fail "kafka.brokers is required (comma-separated host:port list of your Kafka brokers)" }}
{{- end }}
{{- if and (not .Values.secret.existingSecret) (not .Values.secret.databaseUrl) }}
{{- fail "set secret.existingSecret (a Secret with a DATABASE_URL key) or secret.databaseUrl" }}
{{- end }}
{{- if and .Values.secret.databaseUrl (not (regexMatch "^postgres(ql)?://" .Values.secret.databaseUrl)) }}
{{- fail "secret.databaseUrl must be a postgres:// URL" }}
{{- end }}
{{- if and .Values.secret.routerAdminToken (lt (len .Values.secret.routerAdminToken) 16) }}
{{- fail "secret.routerAdminToken must be at least 16 characters" }}
{{- end }}
{{- if not (has .Values.gatewayMode (list "production" "local" "test")) }}
{{- fail "gatewayMode must be production, local or test" }}
{{- end }}
{{- end }}
