{{/* Names and the sidecar's environment. */}}
{{- define "cardano-forge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cardano-forge.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "cardano-forge.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cardano-forge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cardano-forge.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "cardano-forge.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: cardano-forge
{{- end -}}

{{- define "cardano-forge.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cardano-forge.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "cardano-forge.secretName" -}}
{{- default (printf "%s-forging-keys" (include "cardano-forge.fullname" .)) .Values.forgeManager.credentials.secretName -}}
{{- end -}}

{{/* The known network magics (the sidecar checks them too). */}}
{{- define "cardano-forge.networkMagic" -}}
{{- $known := dict "mainnet" "764824073" "preprod" "1" "preview" "2" -}}
{{- if not (kindIs "invalid" .Values.pool.networkMagic) -}}
{{- .Values.pool.networkMagic | int64 | toString -}}
{{- else if hasKey $known (lower .Values.pool.network) -}}
{{- get $known (lower .Values.pool.network) -}}
{{- else -}}
{{- fail (printf "pool.networkMagic is required for network %q (only mainnet, preprod and preview are known)" .Values.pool.network) -}}
{{- end -}}
{{- end -}}

{{/*
The sidecar's environment as a dict NAME -> string: the chart's values first, then forgeManager.env
on top (a Python sidecar's env passes unchanged). NAMESPACE and POD_NAME come from the downward API.
*/}}
{{- define "cardano-forge.envMap" -}}
{{- $v := .Values -}}
{{- $fm := $v.forgeManager -}}
{{- $env := dict
  "CARDANO_NETWORK" $v.pool.network
  "NETWORK_MAGIC" (include "cardano-forge.networkMagic" .)
  "LEASE_DURATION" (toString $v.election.leaseDurationSeconds)
  "RENEW_DEADLINE" (toString $v.election.renewDeadlineSeconds)
  "RETRY_PERIOD" (toString $v.election.retryPeriodSeconds)
  "NODE_SOCKET" (printf "%s/%s" $fm.socketDir $fm.socketFile)
  "SOURCE_KES_KEY" (printf "%s/kes.skey" $fm.credentials.sourceDir)
  "SOURCE_VRF_KEY" (printf "%s/vrf.skey" $fm.credentials.sourceDir)
  "SOURCE_OP_CERT" (printf "%s/node.cert" $fm.credentials.sourceDir)
  "TARGET_KES_KEY" (printf "%s/kes.skey" $fm.credentials.targetDir)
  "TARGET_VRF_KEY" (printf "%s/vrf.skey" $fm.credentials.targetDir)
  "TARGET_OP_CERT" (printf "%s/node.cert" $fm.credentials.targetDir)
  "METRICS_PORT" (toString $fm.port)
  "LOG_LEVEL" $fm.logLevel
  "START_AS_NON_PRODUCING" "true"
  "NODE_METRICS_URL" (printf "http://127.0.0.1:%v/metrics" $v.node.metricsPort)
-}}
{{- with $v.pool.id }}{{ $_ := set $env "POOL_ID" . }}{{ end -}}
{{- with $v.pool.idHex }}{{ $_ := set $env "POOL_ID_HEX" . }}{{ end -}}
{{- with $v.pool.name }}{{ $_ := set $env "POOL_NAME" . }}{{ end -}}
{{- with $v.pool.ticker }}{{ $_ := set $env "POOL_TICKER" . }}{{ end -}}
{{- if $v.cluster.enabled -}}
{{- $_ := set $env "ENABLE_CLUSTER_MANAGEMENT" "true" -}}
{{- $_ := set $env "CLUSTER_REGION" $v.cluster.region -}}
{{- $_ := set $env "CLUSTER_ENVIRONMENT" $v.cluster.environment -}}
{{- $_ := set $env "CLUSTER_PRIORITY" (toString $v.cluster.priority) -}}
{{- with $v.cluster.healthCheck.endpoint }}{{ $_ := set $env "HEALTH_CHECK_ENDPOINT" . }}{{ end -}}
{{- $_ := set $env "HEALTH_CHECK_INTERVAL" (toString $v.cluster.healthCheck.intervalSeconds) -}}
{{- end -}}
{{- if $v.crossRegion.enabled -}}
{{- range $name, $value := include "cardano-forge.crossRegionEnv" . | fromYaml -}}
{{- $_ := set $env $name $value -}}
{{- end -}}
{{- end -}}
{{- with $v.names.lease }}{{ $_ := set $env "LEASE_NAME" . }}{{ end -}}
{{- with $v.names.cardanoLeader }}{{ $_ := set $env "CRD_NAME" . }}{{ end -}}
{{- with $v.names.cluster }}{{ $_ := set $env "CLUSTER_IDENTIFIER" . }}{{ end -}}
{{- /* The Python sidecar's lease is held too only while migrating (names.legacyLease set); a fresh
install turns it off, or every pool in a namespace would share cardano-node-leader. */ -}}
{{- if $v.names.legacyLease }}{{ $_ := set $env "LEGACY_LEASE_NAME" $v.names.legacyLease }}{{ else }}{{ $_ := set $env "LEGACY_LEASE_NAME" "false" }}{{ end -}}
{{- range $name, $value := $fm.env -}}
{{- $_ := set $env $name (toString $value) -}}
{{- end -}}
{{- /* Names left unset are computed by the sidecar (cluster/naming.ts, which also decides whether
it holds the Python sidecar's legacy lease); the Role uses the same computation ("cardano-forge.names"),
which fails the render on a name the sidecar would have to rewrite. */ -}}
{{- $_ := include "cardano-forge.names" $env -}}
{{- toYaml $env -}}
{{- end -}}

{{/*
Lease / CardanoLeader / CardanoForgeCluster names from an env dict, as naming.ts computes them:
lease = LEASE_NAME, else cardano-leader-<network>-<short pool id> with POOL_ID, else
cardano-node-leader; CardanoLeader = CRD_NAME, else the lease; cluster = <network>-<short>-<region>
with POOL_ID, else CLUSTER_IDENTIFIER, else cardano-forge-cluster. All lower-cased. A name that is
not a DNS-1123 label fails here: the sidecar would hash it, and the Role would name another object.
*/}}
{{- define "cardano-forge.names" -}}
{{- $env := . -}}
{{- $network := lower (trim (toString (default "mainnet" (get $env "CARDANO_NETWORK")))) -}}
{{- $poolId := lower (trim (toString (default "" (get $env "POOL_ID")))) -}}
{{- $short := $poolId -}}
{{- if hasPrefix "pool1" $poolId }}{{ $short = substr 0 10 $poolId }}{{ else if ge (len $poolId) 8 }}{{ $short = substr 0 8 $poolId }}{{ end -}}
{{- $lease := "cardano-node-leader" -}}
{{- if $poolId }}{{ $lease = printf "cardano-leader-%s-%s" $network $short }}{{ end -}}
{{- with trim (toString (default "" (get $env "LEASE_NAME"))) }}{{ $lease = lower . }}{{ end -}}
{{- $leader := $lease -}}
{{- with trim (toString (default "" (get $env "CRD_NAME"))) }}{{ $leader = lower . }}{{ end -}}
{{- $region := lower (trim (toString (default "unknown" (get $env "CLUSTER_REGION")))) -}}
{{- $cluster := "cardano-forge-cluster" -}}
{{- with trim (toString (default "" (get $env "CLUSTER_IDENTIFIER"))) }}{{ $cluster = lower . }}{{ end -}}
{{- if $poolId }}{{ $cluster = printf "%s-%s-%s" $network $short $region }}{{ end -}}
{{- range $what, $name := dict "lease" $lease "CardanoLeader" $leader "CardanoForgeCluster" $cluster -}}
{{- if or (gt (len $name) 63) (not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" $name)) -}}
{{- fail (printf "%s name %q is not a DNS-1123 label (lower-case letters, digits, '-', at most 63): the sidecar would rename it and the Role's resourceNames would not match. Set names.* (or LEASE_NAME / CRD_NAME / CLUSTER_IDENTIFIER) to a valid name." $what $name) -}}
{{- end -}}
{{- end -}}
lease: {{ $lease }}
leader: {{ $leader }}
cluster: {{ $cluster }}
{{- end -}}

{{/* The resource names from the final sidecar env (what the Role grants). */}}
{{- define "cardano-forge.resourceNames" -}}
{{- include "cardano-forge.names" (include "cardano-forge.envMap" . | fromYaml) -}}
{{- end -}}

{{- define "cardano-forge.clusterManagementEnabled" -}}
{{- $env := include "cardano-forge.envMap" . | fromYaml -}}
{{- has (lower (toString (default "false" (get $env "ENABLE_CLUSTER_MANAGEMENT")))) (list "true" "1" "yes") -}}
{{- end -}}

{{/*
Global mode (crossRegion.enabled): the etcd arbiter's environment (config/env.ts, ETCD_*) as a
dict, after checking the values the sidecar cannot work with. Every check names the value to fix.
*/}}
{{- define "cardano-forge.crossRegionEnv" -}}
{{- $cr := .Values.crossRegion -}}
{{- $tls := $cr.etcd.tls -}}
{{- if not $cr.etcd.endpoints -}}
{{- fail "crossRegion.enabled needs crossRegion.etcd.endpoints: the client URLs of every etcd member, e.g. [https://etcd-eu.example:2379, https://etcd-us.example:2379, https://etcd-ap.example:2379]" -}}
{{- end -}}
{{- $schemes := list -}}
{{- range $cr.etcd.endpoints -}}
{{- $url := toString . -}}
{{- if not (regexMatch "^https?://[^/\\s]+(/)?$" $url) -}}
{{- fail (printf "crossRegion.etcd.endpoints: %q is not an etcd client URL; write http(s)://host:port" $url) -}}
{{- end -}}
{{- $schemes = append $schemes (regexFind "^https?" $url) | uniq -}}
{{- end -}}
{{- if gt (len $schemes) 1 -}}
{{- fail "crossRegion.etcd.endpoints mixes http:// and https://: one etcd cluster speaks one scheme on its client port; use https:// for every member" -}}
{{- end -}}
{{- $https := eq (first $schemes) "https" -}}
{{- if and $https (not $tls.secretName) -}}
{{- fail "crossRegion.etcd.tls.secretName is required with https:// endpoints: the name of a Secret holding the etcd CA and this region's client certificate (ca.crt, tls.crt, tls.key)" -}}
{{- end -}}
{{- if and (not $https) $tls.secretName -}}
{{- fail (printf "crossRegion.etcd.tls.secretName (%s) is set but the endpoints are http://: the certificates would go unused and etcd traffic would be plain text; use https:// endpoints, or remove the secretName" $tls.secretName) -}}
{{- end -}}
{{- $env := dict "ETCD_ARBITER_ENABLED" "true" "ETCD_ENDPOINTS" (join "," $cr.etcd.endpoints) -}}
{{- if $tls.secretName -}}
{{- if not $tls.caKey -}}
{{- fail "crossRegion.etcd.tls.caKey is empty: the sidecar needs the etcd server CA from the Secret (usually ca.crt)" -}}
{{- end -}}
{{- if and $tls.certKey (not $tls.keyKey) -}}
{{- fail "crossRegion.etcd.tls.certKey is set without crossRegion.etcd.tls.keyKey: a client certificate needs its private key (usually tls.key); set both, or empty both for server TLS only" -}}
{{- end -}}
{{- if and $tls.keyKey (not $tls.certKey) -}}
{{- fail "crossRegion.etcd.tls.keyKey is set without crossRegion.etcd.tls.certKey: a private key needs its client certificate (usually tls.crt); set both, or empty both for server TLS only" -}}
{{- end -}}
{{- $_ := set $env "ETCD_CA_FILE" (printf "%s/%s" $tls.mountPath $tls.caKey) -}}
{{- if $tls.certKey -}}
{{- $_ := set $env "ETCD_CERT_FILE" (printf "%s/%s" $tls.mountPath $tls.certKey) -}}
{{- $_ := set $env "ETCD_KEY_FILE" (printf "%s/%s" $tls.mountPath $tls.keyKey) -}}
{{- end -}}
{{- end -}}
{{- $region := default .Values.cluster.region $cr.region | toString -}}
{{- if or (eq $region "") (eq $region "unknown") -}}
{{- fail "crossRegion.enabled needs this region's name, unique among the pool's regions: set cluster.region (or crossRegion.region)" -}}
{{- end -}}
{{- if or (gt (len $region) 63) (not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" $region)) -}}
{{- fail (printf "crossRegion region %q is not a DNS-1123 label (lower-case letters, digits, '-', at most 63): set crossRegion.region to one" $region) -}}
{{- end -}}
{{- $_ := set $env "ETCD_ARBITER_REGION" $region -}}
{{- with $cr.keyPrefix -}}
{{- if not (hasPrefix "/" (toString .)) -}}
{{- fail (printf "crossRegion.keyPrefix %q must start with /; leave it empty for /cardano-forge/v1/<lease name>/" (toString .)) -}}
{{- end -}}
{{- $_ := set $env "ETCD_KEY_PREFIX" (toString .) -}}
{{- end -}}
{{- range $key, $name := dict "leaseTtlSeconds" "ETCD_LEASE_TTL" "renewDeadlineSeconds" "ETCD_RENEW_DEADLINE" "retryPeriodSeconds" "ETCD_RETRY_PERIOD" "holdDownSeconds" "ETCD_HOLD_DOWN" "electionTimeoutMs" "ETCD_ELECTION_TIMEOUT_MS" -}}
{{- /* A null in values removes the key: unset timings are left to the sidecar's defaults. */ -}}
{{- if and (hasKey $cr $key) (not (kindIs "invalid" (get $cr $key))) -}}
{{- $_ := set $env $name (toString (int64 (get $cr $key))) -}}
{{- end -}}
{{- end -}}
{{- toYaml $env -}}
{{- end -}}
