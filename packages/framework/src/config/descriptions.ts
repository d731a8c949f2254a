/**
 * One sentence per configuration key for docs/configuration.md. The docs test fails when a key of
 * the schema has no entry here or an entry names a key that no longer exists.
 */
export const CONFIG_DESCRIPTIONS: Readonly<Record<string, string>> = {
  podName: 'This pod’s name (downward API); the lease holder identity. Required.',
  namespace: 'Namespace of the Lease, CardanoLeader and CardanoForgeCluster objects.',
  'pool.network':
    'Cardano network name (`mainnet`, `preprod`, `preview`, or your own); part of resource names.',
  'pool.networkMagic': 'Network magic; must match the known networks’ magic when cluster management is on.',
  'pool.id':
    'Pool id (bech32 or hex). Set: multi-tenant resource names; empty: the legacy single-pool names.',
  'pool.idHex': 'Pool id in hex (informational).',
  'pool.name': 'Pool name (informational).',
  'pool.ticker': 'Pool ticker (informational, shown in metrics).',
  'pool.applicationType': 'Application type label of the metrics and the CardanoForgeCluster.',
  'loop.intervalSeconds':
    'Resync period of the control loop: how soon a change on the node is seen. Leadership changes (not mere renewals) and policy events tick it at once.',
  'election.leaseName':
    'Lease name; unset = computed from network and pool id (docs/cluster-policy.md, Names).',
  'election.legacyLeaseName':
    "The Python sidecar's lease, held as well as the lease above while migrating from it (client-go MultiLock): a pod leads only while it holds both. Unset = cardano-node-leader when POOL_ID is set and LEASE_NAME is not; false/none/off = not held.",
  'election.leaseDurationSeconds':
    'How long a lease is valid without renewal; a standby may take over after it.',
  'election.renewDeadlineSeconds':
    'The leader revokes its credentials when it could not renew for this long. Default: ⅔ of the lease duration.',
  'election.retryPeriodSeconds':
    'Interval between lease renew/acquire attempts. Default: a fifth of the renew deadline, at least 1.',
  'credentials.source.kesKey':
    'KES signing key to provision (read-only Secret mount); also checked against the opcert.',
  'credentials.source.vrfKey': 'VRF signing key to provision.',
  'credentials.source.opCert':
    'Operational certificate to provision; the KES monitor reads its counter and KES period.',
  'credentials.target.kesKey': 'Where cardano-node reads the KES key (`--shelley-kes-key`).',
  'credentials.target.vrfKey': 'Where cardano-node reads the VRF key (`--shelley-vrf-key`).',
  'credentials.target.opCert': 'Where cardano-node reads the opcert (`--shelley-operational-certificate`).',
  'node.socketPath': 'cardano-node’s socket; its presence means the node is up.',
  'node.socketWaitTimeoutSeconds':
    'After this long without a socket at start-up a warning is logged (the wait goes on).',
  'node.disableSocketCheck': 'Treat the node as up without a socket (tests and special set-ups only).',
  'node.processName': 'Process name used to find cardano-node when `pidDiscovery` is `name`.',
  'node.pidDiscovery': 'How the node’s PID for SIGHUP is found: the process owning the socket, or by name.',
  'node.metricsUrl':
    'cardano-node’s Prometheus endpoint, to confirm what the node has loaded (forging metric).',
  'node.maxSlotLag': 'Tip gate: the node counts as at tip within this many slots. Unset = no gate.',
  'node.slotReference.slot':
    'A Shelley-era slot number of the network (for the tip gate and KES expiry on unknown networks).',
  'node.slotReference.unixSeconds': 'The UNIX time at which `node.slotReference.slot` started.',
  'node.startAsNonProducing':
    'Whether the node is started with `--start-as-non-producing-node` (forging only after SIGHUP).',
  'node.sighupLatencyBoundMs':
    'Assumed bound from a delivered SIGHUP to the node having (un)loaded its credentials; part of the revocation budget checked against LD − RD, and without `node.metricsUrl` how long a SIGHUP takes to count as applied.',
  'node.handoverHoldDownSeconds':
    'How long a leader whose node cannot forge (PID not found, SIGHUP failing, forging metric still 0, behind the tip) keeps the lease before it hands over.',
  'crd.group': 'API group of the CRDs.',
  'crd.version': 'API version of the CRDs.',
  'crd.leaderPlural': 'Plural of the CardanoLeader CRD.',
  'crd.leaderName': 'CardanoLeader object name; unset = the lease name.',
  'cluster.enabled': 'Read the CardanoForgeCluster policy (forgeState, priority, override, health).',
  'cluster.identifier': 'CardanoForgeCluster name for legacy (no pool id) deployments.',
  'cluster.region': 'Region of this cluster (names and labels).',
  'cluster.environment': 'Environment of this cluster (production, staging, …).',
  'cluster.priority': 'Base priority when the CardanoForgeCluster is created (lower is preferred).',
  'cluster.policyStaleAfterSeconds':
    'Fail closed: forging stops when the policy was not confirmed for this long.',
  'cluster.healthCheck.endpoint':
    'With no health plugin configured, an HTTP health check of this URL is added.',
  'cluster.healthCheck.intervalSeconds': 'Interval between health rounds (leader only).',
  'cluster.healthCheck.timeoutSeconds': 'Timeout of one health probe.',
  'cluster.healthCheck.failureThreshold': 'Failed rounds in a row before the health is degraded.',
  'cluster.healthCheck.recoveryThreshold': 'Healthy rounds in a row before the failure count resets.',
  'etcdArbiter.enabled':
    'Global mode: only the best eligible region forges, chosen through etcd (docs/coordination.md). Off (default): single-cluster mode, no etcd at all.',
  'etcdArbiter.endpoints': 'etcd client URLs, one per member (env `ETCD_ENDPOINTS`, comma-separated).',
  'etcdArbiter.tls.caFile': 'PEM CA of the etcd servers (a mounted Secret).',
  'etcdArbiter.tls.certFile': 'PEM client certificate for etcd (mutual TLS); needs `keyFile`.',
  'etcdArbiter.tls.keyFile': 'PEM key of the client certificate.',
  'etcdArbiter.region': 'This region’s name in etcd (unique per pool); unset = `cluster.region`.',
  'etcdArbiter.keyPrefix':
    'etcd key prefix of the pool; unset = `/cardano-forge/v1/<lease name>/` (one per pool and network).',
  'etcdArbiter.leaseTtlSeconds':
    'TTL of the region leader’s etcd lease; the forger key goes with it. Unplanned failover takes about this long.',
  'etcdArbiter.renewDeadlineSeconds':
    'The holder forges only until the send time of its last confirmed round + this; TTL − this must cover the revocation chain + etcd’s election timeout + clock drift.',
  'etcdArbiter.retryPeriodSeconds': 'Interval between arbiter rounds (keepalive, read, record write).',
  'etcdArbiter.holdDownSeconds':
    'A better region must have been present this long before forging moves back to it (anti-flap); manual overrides, Disabled and health demotion move it at once.',
  'etcdArbiter.etcdElectionTimeoutMs':
    'etcd’s `--election-timeout` (ms): an isolated ex-leader may acknowledge keepalives this much longer; part of the fencing margin.',
  'kes.enabled': 'Watch the source opcert and KES key: expiry metrics, near-expiry warning, pair check.',
  'kes.slotsPerKESPeriod':
    'shelley-genesis `slotsPerKESPeriod`; default known for mainnet, preprod and preview (129600).',
  'kes.maxKESEvolutions':
    'shelley-genesis `maxKESEvolutions`; default known for mainnet, preprod and preview (62).',
  'kes.warnBeforeSeconds':
    'Warn in status and log from this long before the KES key expires (default 7 days).',
  'kes.checkIntervalSeconds':
    'How often the opcert and KES key are re-read (a rotation is picked up without restart).',
  'http.host': 'Listen address of `/metrics`, `/health`, `/startup-status`, `/status`, `/kes`.',
  'http.port': 'Listen port of the HTTP endpoints.',
  'log.level': 'Log level; Python names (`WARNING`, `CRITICAL`) are accepted, any case.',
  'plugins.leaderElector': 'Leader-elector plugin (default: the built-in Kubernetes Lease elector).',
  'plugins.credentialProvisioner': 'Credential-provisioner plugin (default: the built-in file copier).',
  'plugins.priority': 'Priority-strategy plugin.',
  'plugins.health': 'Health-probe plugins; a round is healthy only if all are.',
};
