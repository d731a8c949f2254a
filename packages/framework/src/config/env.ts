/**
 * Every environment variable the Python sidecar reads, mapped onto the config, so an existing
 * Deployment can switch images without touching its env. Parsing follows Python where it matters
 * (booleans are true only for true/1/yes, any case); malformed numbers are errors that name the
 * variable instead of Python's import-time crash. An empty variable counts as unset.
 */
import type { ConfigIssue } from './errors.js';
import { normalizeLogLevel } from './schema.js';

type EnvParser = 'string' | 'int' | 'bool' | 'logLevel' | 'list';

export interface EnvBinding {
  readonly env: string;
  /** Dotted path in the config. */
  readonly path: readonly string[];
  readonly parse: EnvParser;
}

const b = (env: string, path: string, parse: EnvParser = 'string'): EnvBinding => ({
  env,
  path: path.split('.'),
  parse,
});

export const ENV_BINDINGS: readonly EnvBinding[] = [
  b('POD_NAME', 'podName'),
  b('NAMESPACE', 'namespace'),
  b('CARDANO_NETWORK', 'pool.network'),
  b('NETWORK_MAGIC', 'pool.networkMagic', 'int'),
  b('POOL_ID', 'pool.id'),
  b('POOL_ID_HEX', 'pool.idHex'),
  b('POOL_NAME', 'pool.name'),
  b('POOL_TICKER', 'pool.ticker'),
  b('APPLICATION_TYPE', 'pool.applicationType'),
  b('SLEEP_INTERVAL', 'loop.intervalSeconds', 'int'),
  b('LEASE_NAME', 'election.leaseName'),
  // Not a Python variable: the Python sidecar's lease to hold as well during a migration ('false' = none).
  b('LEGACY_LEASE_NAME', 'election.legacyLeaseName'),
  b('LEASE_DURATION', 'election.leaseDurationSeconds', 'int'),
  b('RENEW_DEADLINE', 'election.renewDeadlineSeconds', 'int'),
  b('RETRY_PERIOD', 'election.retryPeriodSeconds', 'int'),
  b('SOURCE_KES_KEY', 'credentials.source.kesKey'),
  b('SOURCE_VRF_KEY', 'credentials.source.vrfKey'),
  b('SOURCE_OP_CERT', 'credentials.source.opCert'),
  b('TARGET_KES_KEY', 'credentials.target.kesKey'),
  b('TARGET_VRF_KEY', 'credentials.target.vrfKey'),
  b('TARGET_OP_CERT', 'credentials.target.opCert'),
  b('NODE_SOCKET', 'node.socketPath'),
  b('SOCKET_WAIT_TIMEOUT', 'node.socketWaitTimeoutSeconds', 'int'),
  b('DISABLE_SOCKET_CHECK', 'node.disableSocketCheck', 'bool'),
  b('CARDANO_NODE_PROCESS_NAME', 'node.processName'),
  b('NODE_PID_DISCOVERY', 'node.pidDiscovery'),
  b('NODE_METRICS_URL', 'node.metricsUrl'),
  b('NODE_MAX_SLOT_LAG', 'node.maxSlotLag', 'int'),
  b('NODE_SLOT_REFERENCE_SLOT', 'node.slotReference.slot', 'int'),
  b('NODE_SLOT_REFERENCE_UNIX', 'node.slotReference.unixSeconds', 'int'),
  b('START_AS_NON_PRODUCING', 'node.startAsNonProducing', 'bool'),
  b('NODE_SIGHUP_LATENCY_BOUND_MS', 'node.sighupLatencyBoundMs', 'int'),
  b('NODE_HANDOVER_HOLD_DOWN', 'node.handoverHoldDownSeconds', 'int'),
  b('CRD_GROUP', 'crd.group'),
  b('CRD_VERSION', 'crd.version'),
  b('CRD_PLURAL', 'crd.leaderPlural'),
  b('CRD_NAME', 'crd.leaderName'),
  b('ENABLE_CLUSTER_MANAGEMENT', 'cluster.enabled', 'bool'),
  b('CLUSTER_IDENTIFIER', 'cluster.identifier'),
  b('CLUSTER_REGION', 'cluster.region'),
  b('CLUSTER_ENVIRONMENT', 'cluster.environment'),
  b('CLUSTER_PRIORITY', 'cluster.priority', 'int'),
  b('POLICY_STALE_AFTER', 'cluster.policyStaleAfterSeconds', 'int'),
  b('HEALTH_CHECK_ENDPOINT', 'cluster.healthCheck.endpoint'),
  b('HEALTH_CHECK_INTERVAL', 'cluster.healthCheck.intervalSeconds', 'int'),
  b('HEALTH_CHECK_TIMEOUT', 'cluster.healthCheck.timeoutSeconds', 'int'),
  b('HEALTH_CHECK_FAILURE_THRESHOLD', 'cluster.healthCheck.failureThreshold', 'int'),
  b('HEALTH_CHECK_RECOVERY_THRESHOLD', 'cluster.healthCheck.recoveryThreshold', 'int'),
  b('METRICS_HOST', 'http.host'),
  b('METRICS_PORT', 'http.port', 'int'),
  b('LOG_LEVEL', 'log.level', 'logLevel'),
  // KES expiry monitor (new; no Python equivalent).
  b('KES_MONITOR_ENABLED', 'kes.enabled', 'bool'),
  b('KES_SLOTS_PER_PERIOD', 'kes.slotsPerKESPeriod', 'int'),
  b('KES_MAX_EVOLUTIONS', 'kes.maxKESEvolutions', 'int'),
  b('KES_WARN_BEFORE_SECONDS', 'kes.warnBeforeSeconds', 'int'),
  // Cross-region arbiter on etcd (new; no Python equivalent).
  b('ETCD_ARBITER_ENABLED', 'etcdArbiter.enabled', 'bool'),
  b('ETCD_ENDPOINTS', 'etcdArbiter.endpoints', 'list'),
  b('ETCD_CA_FILE', 'etcdArbiter.tls.caFile'),
  b('ETCD_CERT_FILE', 'etcdArbiter.tls.certFile'),
  b('ETCD_KEY_FILE', 'etcdArbiter.tls.keyFile'),
  b('ETCD_ARBITER_REGION', 'etcdArbiter.region'),
  b('ETCD_KEY_PREFIX', 'etcdArbiter.keyPrefix'),
  b('ETCD_LEASE_TTL', 'etcdArbiter.leaseTtlSeconds', 'int'),
  b('ETCD_RENEW_DEADLINE', 'etcdArbiter.renewDeadlineSeconds', 'int'),
  b('ETCD_RETRY_PERIOD', 'etcdArbiter.retryPeriodSeconds', 'int'),
  b('ETCD_HOLD_DOWN', 'etcdArbiter.holdDownSeconds', 'int'),
  b('ETCD_ELECTION_TIMEOUT_MS', 'etcdArbiter.etcdElectionTimeoutMs', 'int'),
];

export interface EnvLayer {
  /** A partial config holding only the values the environment sets. */
  readonly values: Record<string, unknown>;
  /** Dotted config path → the variable that set it (to name it in later schema errors). */
  readonly sources: ReadonlyMap<string, string>;
  readonly issues: readonly ConfigIssue[];
}

export function parsePythonBool(raw: string): boolean {
  return ['true', '1', 'yes'].includes(raw.trim().toLowerCase());
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
    else {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    }
  }
  node[path[path.length - 1]!] = value;
}

export function configFromEnv(env: Readonly<Record<string, string | undefined>>): EnvLayer {
  const values: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  for (const binding of ENV_BINDINGS) {
    const raw = env[binding.env];
    if (raw === undefined || raw.trim() === '') continue;
    const dotted = binding.path.join('.');
    let value: unknown;
    switch (binding.parse) {
      case 'string':
        value = raw.trim();
        break;
      case 'bool':
        value = parsePythonBool(raw);
        break;
      case 'int':
        if (!/^\s*[+-]?\d+\s*$/.test(raw)) {
          issues.push({
            path: dotted,
            message: `expected an integer, got ${JSON.stringify(raw)}`,
            env: binding.env,
          });
          continue;
        }
        value = Number.parseInt(raw, 10);
        break;
      case 'list':
        value = raw
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== '');
        break;
      case 'logLevel':
        // Validated (with the accepted names listed) by the schema; normalised here only when known.
        value = normalizeLogLevel(raw) ?? raw;
        break;
    }
    setPath(values, binding.path, value);
    sources.set(dotted, binding.env);
  }
  return { values, sources, issues };
}
