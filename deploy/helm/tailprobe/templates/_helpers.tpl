{{- define "tailprobe.labels" -}}
app.kubernetes.io/name: tailprobe
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{- define "tailprobe.image" -}}
{{ .image.repository }}:{{ .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- end }}

{{/* Kafka client settings for every service: TAILPROBE_KAFKA_<property> passes a client property through. */}}
{{- define "tailprobe.kafkaEnv" -}}
- name: TAILPROBE_KAFKA_BOOTSTRAP_SERVERS
  value: {{ .Values.kafka.bootstrapServers | quote }}
- name: TAILPROBE_KAFKA_SECURITY_PROTOCOL
  value: {{ .Values.kafka.securityProtocol | quote }}
{{- if .Values.kafka.sasl.mechanism }}
- name: TAILPROBE_KAFKA_SASL_MECHANISM
  value: {{ .Values.kafka.sasl.mechanism | quote }}
- name: TAILPROBE_KAFKA_SASL_JAAS_CONFIG
  valueFrom:
    secretKeyRef:
      name: {{ .Values.kafka.sasl.existingSecret }}
      key: {{ .Values.kafka.sasl.jaasConfigKey }}
{{- end }}
{{- if .Values.kafka.tls.existingSecret }}
- name: TAILPROBE_KAFKA_SSL_TRUSTSTORE_TYPE
  value: PEM
- name: TAILPROBE_KAFKA_SSL_TRUSTSTORE_LOCATION
  value: /etc/tailprobe/kafka-tls/{{ .Values.kafka.tls.caKey }}
{{- end }}
{{- range $property, $value := .Values.kafka.properties }}
- name: TAILPROBE_KAFKA_{{ $property | upper | replace "." "_" }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}

{{- define "tailprobe.kafkaVolumeMounts" -}}
{{- if .Values.kafka.tls.existingSecret }}
- name: kafka-tls
  mountPath: /etc/tailprobe/kafka-tls
  readOnly: true
{{- end }}
{{- end }}

{{- define "tailprobe.kafkaVolumes" -}}
{{- if .Values.kafka.tls.existingSecret }}
- name: kafka-tls
  secret:
    secretName: {{ .Values.kafka.tls.existingSecret }}
{{- end }}
{{- end }}

{{- define "tailprobe.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end }}
