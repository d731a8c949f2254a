/**
 * The cluster manager: keeps this cluster's CardanoForgeCluster, turns its spec (plus health) into
 * a PolicySnapshot the decision loop reads, and reports back through `/status`.
 *
 * Fail-closed rules (docs/cluster-policy.md): until the object has been read, when it cannot be
 * created, and when it has not been confirmed for `policyStaleAfterSeconds`, forging is not
 * allowed. Only the pod that holds the lease runs health probes and writes status, so followers
 * never overwrite the leader's view (G7, G13).
 */
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock, ForgeState, HealthProbe, PriorityStrategy } from '../contracts/index.js';
import {
  createKubeClusterGateway,
  type ClusterObject,
  type ClusterObjectGateway,
  type WatchHandle,
} from './gateway.js';
import {
  INITIAL_HEALTH_COUNTERS,
  nextHealthCounters,
  runHealthRound,
  type HealthCounters,
  type HealthRound,
} from './health.js';
import { toDns1123Label } from './naming.js';
import {
  computeEffectivePolicy,
  readSpecHealthCheck,
  type EffectivePolicy,
  type OverrideView,
} from './policy.js';
import { buildDesiredStatus, canonicalJson, statusPatch, type LeadershipView } from './status.js';
import type { GlobalForgeView } from './global-status.js';

export interface PolicySnapshot {
  /** False only for disabledClusterPolicy() (cluster management switched off). */
  readonly enabled: boolean;
  readonly forgingAllowed: boolean;
  /** null while the policy is unknown (not read yet, or management disabled). */
  readonly effectiveState: ForgeState | null;
  readonly effectivePriority: number | null;
  readonly reason: string;
  readonly message: string;
  /** True when the policy has not been confirmed within policyStaleAfterSeconds. */
  readonly stale: boolean;
  /** Monotonic time of the last confirmation of the object (0 = never). */
  readonly observedAtMs: number;
  /** metadata.generation the policy was computed from. */
  readonly generation: number | null;
  readonly override: OverrideView | null;
  readonly problems: readonly string[];
  readonly health: {
    /** null when no probe is configured or no round has run. */
    readonly healthy: boolean | null;
    readonly consecutiveFailures: number;
    readonly lastProbeTime?: string;
    readonly message: string;
  };
}

export interface LeadershipReport {
  readonly activeLeader: string;
  readonly forgingEnabled: boolean;
  readonly isLeader: boolean;
}

export interface ClusterPolicySource {
  start(signal: AbortSignal): Promise<void>;
  snapshot(): PolicySnapshot;
  subscribe(listener: (snapshot: PolicySnapshot) => void): () => void;
  /** Whether this pod holds the lease: the health loop and status writes run only then. */
  setLocalLeader(isLeader: boolean): void;
  /** The decision loop's outcome; written to status (activeLeader, forgingEnabled) only by the leader. */
  reportLeadership(report: LeadershipReport): Promise<void>;
  /** Global mode: the cross-region arbiter's view (status.globalArbiter; forge_enabled only where it forges). */
  reportGlobal?(view: GlobalForgeView): void;
  stop(): Promise<void>;
}

export interface ClusterManagerDeps {
  readonly kubeConfig: KubeConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly priorityStrategy: PriorityStrategy;
  readonly healthProbes: readonly HealthProbe[];
  /** Replaces the Kubernetes gateway (unit tests). */
  readonly gateway?: ClusterObjectGateway;
}

export interface ClusterManagerOptions {
  readonly namespace: string;
  readonly names: { readonly clusterName: string; readonly poolShort: string };
  /** `network`/`networkMagic` here are used when `network` is not given (the config's pool block). */
  readonly pool: {
    readonly id: string;
    readonly idHex?: string;
    readonly name?: string;
    readonly ticker?: string;
    readonly network?: string;
    readonly networkMagic?: number;
  };
  readonly network?: { readonly name: string; readonly magic: number };
  readonly region: string;
  readonly environment: string;
  readonly basePriority: number;
  readonly applicationType: string;
  readonly policyStaleAfterSeconds: number;
  readonly healthCheck: {
    readonly intervalSeconds: number;
    readonly timeoutSeconds: number;
    readonly failureThreshold: number;
    readonly recoveryThreshold: number;
  };
  readonly crd: { readonly group: string; readonly version: string };
  readonly podName: string;
  /** Default min(30 s, policyStaleAfter / 3). */
  readonly resyncIntervalSeconds?: number;
  /** Default min(10 s, resync interval). */
  readonly requestTimeoutMs?: number;
  /** How often time-driven changes (staleness, override expiry) are re-evaluated. Default min(1 s, stale/10). */
  readonly tickMs?: number;
}

export function disabledClusterPolicy(): PolicySnapshot {
  return {
    enabled: false,
    forgingAllowed: true,
    effectiveState: null,
    effectivePriority: null,
    reason: 'cluster_management_disabled',
    message: 'cluster management is disabled; forging is decided by the lease alone',
    stale: false,
    observedAtMs: 0,
    generation: null,
    override: null,
    problems: [],
    health: { healthy: null, consecutiveFailures: 0, message: 'cluster management is disabled' },
  };
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const NETWORK_NAMES = ['mainnet', 'preprod', 'preview', 'custom'];
const APPLICATION_TYPES = ['block-producer', 'relay-only', 'monitoring', 'custom'];
const ENVIRONMENTS = ['production', 'staging', 'development', 'testing'];

/** The object created when none exists: only values the CRD schema accepts (G10). */
export function networkOf(options: ClusterManagerOptions): { name: string; magic: number } {
  return options.network ?? { name: options.pool.network ?? 'custom', magic: options.pool.networkMagic ?? 0 };
}

export function buildClusterObject(options: ClusterManagerOptions): ClusterObject {
  const net = networkOf(options);
  const labels: Record<string, string> = {};
  const label = (key: string, value: string | undefined): void => {
    if (value !== undefined && value !== '' && value.length <= 63 && LABEL_VALUE.test(value))
      labels[key] = value;
  };
  const network = net.name.trim().toLowerCase();
  const region = toDns1123Label(options.region === '' ? 'unknown' : options.region);
  label('cardano.io/region', region);
  label('cardano.io/environment', options.environment);
  label('cardano.io/managed-by', 'cardano-forge-manager');
  label('cardano.io/network', network);
  label('cardano.io/application', options.applicationType);
  label('cardano.io/pool-id', options.pool.id);
  label('cardano.io/pool-id-hex', options.pool.idHex?.toLowerCase());
  label('cardano.io/pool-ticker', options.pool.ticker);

  const pool: Record<string, string> = {};
  const id = options.pool.id.trim();
  if (/^pool1[a-z0-9]{51}$/.test(id)) pool.id = id;
  const idHex = options.pool.idHex?.trim().toLowerCase() ?? '';
  if (/^[a-f0-9]{56}$/.test(idHex)) pool.idHex = idHex;
  const name = options.pool.name?.trim() ?? '';
  if (name !== '') pool.name = name.slice(0, 50);
  const ticker = options.pool.ticker?.trim() ?? '';
  if (/^[A-Z0-9]{1,5}$/.test(ticker)) pool.ticker = ticker;

  const application: Record<string, string> = {
    type: APPLICATION_TYPES.includes(options.applicationType) ? options.applicationType : 'custom',
  };
  if (ENVIRONMENTS.includes(options.environment)) application.environment = options.environment;
  const magic = Number.isSafeInteger(net.magic) && net.magic >= 0 ? net.magic : 0;
  return {
    apiVersion: `${options.crd.group}/${options.crd.version}`,
    kind: 'CardanoForgeCluster',
    metadata: { name: options.names.clusterName, namespace: options.namespace, labels },
    spec: {
      network: { name: NETWORK_NAMES.includes(network) ? network : 'custom', magic },
      ...(Object.keys(pool).length > 0 ? { pool } : {}),
      application,
      region,
      forgeState: 'Priority-based',
      priority: Math.min(999, Math.max(1, Math.round(options.basePriority))),
    },
  };
}

interface LoadProblem {
  readonly reason: 'ClusterCreateFailed' | 'PolicyUnavailable';
  readonly message: string;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function getOrCreateGauge(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly string[],
): Gauge<string> {
  const existing = registry.getSingleMetric(name);
  return (
    (existing as Gauge<string> | undefined) ?? new Gauge({ name, help, labelNames, registers: [registry] })
  );
}

function getOrCreateHistogram(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly string[],
): Histogram<string> {
  const existing = registry.getSingleMetric(name);
  return (
    (existing as Histogram<string> | undefined) ??
    new Histogram({
      name,
      help,
      labelNames,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    })
  );
}

export function createClusterManager(
  deps: ClusterManagerDeps,
  options: ClusterManagerOptions,
): ClusterPolicySource {
  const { clock, priorityStrategy, healthProbes } = deps;
  const log = deps.logger.child({ component: 'cluster-manager', cluster: options.names.clusterName });
  const name = options.names.clusterName;
  const staleAfterMs = options.policyStaleAfterSeconds * 1000;
  if (!(staleAfterMs > 0))
    throw new Error(`policyStaleAfterSeconds must be > 0, got ${options.policyStaleAfterSeconds}`);
  const resyncMs =
    (options.resyncIntervalSeconds ?? Math.min(30, options.policyStaleAfterSeconds / 3)) * 1000;
  const requestTimeoutMs = options.requestTimeoutMs ?? Math.min(10_000, resyncMs);
  const tickMs = options.tickMs ?? Math.min(1000, staleAfterMs / 10);
  const gateway =
    deps.gateway ??
    createKubeClusterGateway(deps.kubeConfig, {
      namespace: options.namespace,
      group: options.crd.group,
      version: options.crd.version,
      requestTimeoutMs,
    });

  const clusterLabel = { cluster: name };
  const forgeLabels = {
    cluster: name,
    region: options.region,
    network: networkOf(options).name,
    pool_id: options.names.poolShort === '' ? 'unknown' : options.names.poolShort,
  };
  const r = deps.registry;
  const metrics = {
    success: getOrCreateGauge(
      r,
      'cardano_cluster_health_check_success',
      '1 if the last health round on this leader passed every probe, 0 if not',
      ['cluster'],
    ),
    failures: getOrCreateGauge(
      r,
      'cardano_cluster_health_check_consecutive_failures',
      'Consecutive failed health rounds (after recovery hysteresis)',
      ['cluster'],
    ),
    duration: getOrCreateHistogram(
      r,
      'cardano_cluster_health_check_duration_seconds',
      'Duration of a health round (all probes, in parallel)',
      ['cluster'],
    ),
    lastSuccess: getOrCreateGauge(
      r,
      'cardano_cluster_health_check_last_success_timestamp_seconds',
      'Wall-clock time of the last healthy round',
      ['cluster'],
    ),
    forgeEnabled: getOrCreateGauge(
      r,
      'cardano_cluster_forge_enabled',
      '1 if this pod holds the lease and the cluster policy allows forging (global mode: and its region holds the forger key); 0 otherwise (sum by pool_id > 1 means two clusters may forge)',
      ['cluster', 'region', 'network', 'pool_id'],
    ),
    priority: getOrCreateGauge(
      r,
      'cardano_cluster_forge_priority',
      'Effective priority of this cluster (lower is preferred); absent until the policy is known',
      ['cluster', 'region', 'network', 'pool_id'],
    ),
  };

  // --- state ------------------------------------------------------------------------------
  const internal = new AbortController();
  let started = false;
  let cached: ClusterObject | null = null;
  /**
   * The spec last read from the server. A deleted object is re-created with it, not with the
   * defaults: a deletion (kubectl delete -f on a directory, a cleanup script) must not turn a
   * Disabled cluster, or an override, back on. Only a pod that never read the object uses defaults.
   */
  let lastKnownSpec: unknown;
  let lastConfirmedMs: number | null = null;
  let loadProblem: LoadProblem | null = null;
  let lastReadError = '';
  let localLeader = false;
  let wasWriter = false;
  let leadership: LeadershipReport | null = null;
  /** Global mode: null until the arbiter reports (and always in cluster mode). */
  let globalView: GlobalForgeView | null = null;
  let counters: HealthCounters = INITIAL_HEALTH_COUNTERS;
  let lastRound: (HealthRound & { atWall: Date }) | null = null;
  let healthAbort: AbortController | null = null;
  let healthLoopDone: Promise<void> = Promise.resolve();
  const listeners = new Set<(s: PolicySnapshot) => void>();
  let lastNotified = '';
  let current: PolicySnapshot = notLoaded('PolicyNotLoaded', 'the CardanoForgeCluster has not been read yet');
  const loops: Promise<void>[] = [];
  let watchHandle: WatchHandle | null = null;
  let ensuring: Promise<void> | null = null;
  let writing = false;
  let writeAgain = false;
  let nextWriteAttemptMs = 0;
  let writeBackoffMs = 1000;

  function notLoaded(reason: string, message: string): PolicySnapshot {
    return {
      enabled: true,
      forgingAllowed: false,
      effectiveState: null,
      effectivePriority: null,
      reason,
      message,
      stale: true,
      observedAtMs: lastConfirmedMs ?? 0,
      generation: null,
      override: null,
      problems: [],
      health: healthView(),
    };
  }

  function healthView(): PolicySnapshot['health'] {
    if (healthProbes.length === 0)
      return { healthy: null, consecutiveFailures: 0, message: 'no health probe configured' };
    if (!localLeader) {
      const observed = observedFailures();
      return { healthy: null, consecutiveFailures: observed, message: 'health is probed by the leader only' };
    }
    if (lastRound === null)
      return {
        healthy: null,
        consecutiveFailures: counters.consecutiveFailures,
        message: 'no health round yet',
      };
    return {
      healthy: counters.consecutiveFailures === 0,
      consecutiveFailures: counters.consecutiveFailures,
      lastProbeTime: lastRound.atWall.toISOString(),
      message: lastRound.detail,
    };
  }

  function observedFailures(): number {
    const hs = cached?.status?.healthStatus as { consecutiveFailures?: unknown } | undefined;
    const n = hs?.consecutiveFailures;
    return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : 0;
  }

  /** Followers take the leader's count from status, so every pod computes the same priority. */
  function failuresForPolicy(): number {
    return localLeader && healthProbes.length > 0 ? counters.consecutiveFailures : observedFailures();
  }

  function defaultsFor(): { basePriority: number; failureThreshold: number } {
    return { basePriority: options.basePriority, failureThreshold: options.healthCheck.failureThreshold };
  }

  function computePolicy(object: ClusterObject): EffectivePolicy {
    return computeEffectivePolicy({
      spec: object.spec,
      nowWall: clock.wallNow(),
      consecutiveFailures: failuresForPolicy(),
      priorityStrategy,
      defaults: defaultsFor(),
    });
  }

  function evaluate(): { snapshot: PolicySnapshot; policy: EffectivePolicy | null } {
    const now = clock.monotonicMs();
    if (cached === null) {
      if (loadProblem) return { snapshot: notLoaded(loadProblem.reason, loadProblem.message), policy: null };
      return {
        snapshot: notLoaded(
          'PolicyNotLoaded',
          lastReadError === ''
            ? 'the CardanoForgeCluster has not been read yet'
            : `the CardanoForgeCluster could not be read: ${lastReadError}`,
        ),
        policy: null,
      };
    }
    const policy = computePolicy(cached);
    const ageMs = lastConfirmedMs === null ? Infinity : now - lastConfirmedMs;
    const stale = ageMs > staleAfterMs;
    const generation = typeof cached.metadata.generation === 'number' ? cached.metadata.generation : null;
    const snapshot: PolicySnapshot = {
      enabled: true,
      forgingAllowed: stale ? false : policy.forgingAllowed,
      effectiveState: policy.effectiveState,
      effectivePriority: policy.effectivePriority,
      reason: stale ? 'PolicyStale' : policy.reason,
      message: stale
        ? `policy not confirmed for ${Math.round(ageMs / 1000)} s (bound ${options.policyStaleAfterSeconds} s)${lastReadError === '' ? '' : `: ${lastReadError}`}; forging stopped until it is read again`
        : policy.message,
      stale,
      observedAtMs: lastConfirmedMs ?? 0,
      generation,
      override: policy.override,
      problems: policy.problems,
      health: healthView(),
    };
    return { snapshot, policy };
  }

  function refresh(): void {
    const { snapshot, policy } = evaluate();
    current = snapshot;
    const forgesGlobally = globalView === null || globalView.forging;
    metrics.forgeEnabled.set(forgeLabels, snapshot.forgingAllowed && localLeader && forgesGlobally ? 1 : 0);
    if (snapshot.effectivePriority !== null) metrics.priority.set(forgeLabels, snapshot.effectivePriority);
    const { observedAtMs: _ignored, ...comparable } = snapshot;
    const key = canonicalJson(comparable);
    if (key !== lastNotified) {
      lastNotified = key;
      log.info(
        {
          forgingAllowed: snapshot.forgingAllowed,
          state: snapshot.effectiveState,
          priority: snapshot.effectivePriority,
          reason: snapshot.reason,
        },
        'cluster policy changed',
      );
      for (const listener of [...listeners]) {
        try {
          listener(snapshot);
        } catch (error) {
          log.error({ err: describe(error) }, 'policy listener threw');
        }
      }
    }
    if (policy !== null) void writeStatus(snapshot, policy);
  }

  /** resourceVersions are opaque by contract but etcd revisions in practice: compare when numeric. */
  function isOlder(candidate: ClusterObject, current: ClusterObject | null): boolean {
    const a = candidate.metadata.resourceVersion;
    const b = current?.metadata.resourceVersion;
    if (typeof a !== 'string' || typeof b !== 'string' || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
    return BigInt(a) < BigInt(b);
  }

  function confirm(object: ClusterObject, atMs: number): void {
    // A resync GET sent before an edit can answer after the watch delivered the edit: never let
    // the older object replace the newer one (that would flap forging back on for a moment).
    if (!isOlder(object, cached)) {
      cached = object;
      lastKnownSpec = object.spec;
    }
    loadProblem = null;
    lastReadError = '';
    if (lastConfirmedMs === null || atMs > lastConfirmedMs) lastConfirmedMs = atMs;
  }

  // --- read / create ------------------------------------------------------------------------
  function ensure(): Promise<void> {
    ensuring ??= (async () => {
      try {
        const sentAt = clock.monotonicMs();
        const got = await gateway.get(name);
        if (!got.ok) {
          lastReadError = got.message;
          log.warn({ err: got.message }, 'reading the CardanoForgeCluster failed');
          return;
        }
        if (got.value !== null) {
          confirm(got.value, sentAt);
          return;
        }
        cached = null;
        const fresh = buildClusterObject(options);
        const recreating = lastKnownSpec !== undefined;
        const created = await gateway.create(recreating ? { ...fresh, spec: lastKnownSpec } : fresh);
        if (created.ok) {
          if (recreating)
            log.warn(
              { forgeState: (lastKnownSpec as { forgeState?: unknown } | null)?.forgeState },
              'the CardanoForgeCluster was missing; re-created it with its last known spec (not the defaults)',
            );
          else log.info('created the CardanoForgeCluster');
          confirm(created.value, sentAt);
        } else if (created.kind === 'already-exists') {
          const again = await gateway.get(name);
          if (again.ok && again.value !== null) confirm(again.value, sentAt);
        } else {
          // Not silently disabled (G10): the snapshot fails closed and says why.
          loadProblem = {
            reason: 'ClusterCreateFailed',
            message: `creating CardanoForgeCluster ${options.namespace}/${name} failed: ${created.message}`,
          };
          log.error({ err: created.message }, 'creating the CardanoForgeCluster failed');
        }
      } finally {
        ensuring = null;
        refresh();
      }
    })();
    return ensuring;
  }

  async function sleep(ms: number): Promise<boolean> {
    try {
      await clock.sleep(ms, internal.signal);
      return true;
    } catch {
      return false;
    }
  }

  async function resyncLoop(): Promise<void> {
    while (await sleep(resyncMs)) await ensure();
  }

  async function tickLoop(): Promise<void> {
    while (await sleep(tickMs)) refresh();
  }

  async function watchLoop(): Promise<void> {
    let backoffMs = 1000;
    while (!internal.signal.aborted) {
      const openedAt = clock.monotonicMs();
      let receivedAny = false;
      const ended = new Promise<unknown>((resolve) => {
        void gateway
          .watch(
            name,
            (type, object) => {
              receivedAny = true;
              if (object.metadata.name !== name) return;
              if (type === 'DELETED') {
                log.warn('the CardanoForgeCluster was deleted; re-creating it with its last known spec');
                cached = null;
                void ensure();
                return;
              }
              if (type === 'ADDED' || type === 'MODIFIED') {
                confirm(object, clock.monotonicMs());
                refresh();
              }
            },
            resolve,
          )
          .then((handle) => {
            watchHandle = handle;
            if (internal.signal.aborted) handle.abort();
          });
      });
      const error = await ended;
      watchHandle = null;
      if (internal.signal.aborted) return;
      const clean =
        error === null || error === undefined || (error as { name?: unknown }).name === 'TimeoutError';
      if (clean && receivedAny) {
        backoffMs = 1000;
        continue;
      }
      if (!clean)
        log.warn({ err: describe(error) }, 'CardanoForgeCluster watch ended with an error; re-opening');
      // A watch that closed at once (error, or nothing received) waits before retrying.
      const lived = clock.monotonicMs() - openedAt;
      if (!(await sleep(Math.max(0, backoffMs - lived)))) return;
      backoffMs = Math.min(30_000, backoffMs * 2);
    }
  }

  // --- status -------------------------------------------------------------------------------
  function leadershipView(): LeadershipView | null {
    if (localLeader) {
      return {
        mode: 'leader',
        activeLeader: options.podName,
        forgingEnabled: leadership?.isLeader === true ? leadership.forgingEnabled : null,
      };
    }
    if (wasWriter && cached?.status?.activeLeader === options.podName)
      return { mode: 'stepped-down', podName: options.podName };
    return null;
  }

  async function writeStatus(snapshot: PolicySnapshot, policy: EffectivePolicy): Promise<void> {
    if (!started || internal.signal.aborted || cached === null) return;
    const lead = leadershipView();
    if (lead === null) return;
    if (writing) {
      writeAgain = true;
      return;
    }
    if (clock.monotonicMs() < nextWriteAttemptMs) return;
    const object = cached;
    const spec = readSpecHealthCheck(object.spec).healthCheck;
    const desired = buildDesiredStatus({
      nowWall: clock.wallNow(),
      observed: object.status,
      generation: snapshot.generation,
      effectiveState: policy.effectiveState,
      effectivePriority: policy.effectivePriority,
      forgingAllowed: snapshot.forgingAllowed,
      reason: snapshot.reason,
      message: snapshot.message,
      stale: snapshot.stale,
      override: policy.override,
      problems: policy.problems,
      health: {
        configured: healthProbes.length > 0 && lead.mode === 'leader',
        lastRound,
        consecutiveFailures: counters.consecutiveFailures,
        failureThreshold: spec.failureThreshold ?? options.healthCheck.failureThreshold,
        recoveryStreak: counters.recoveryStreak,
      },
      leadership: lead,
      global: globalView,
    });
    const patch = statusPatch(desired, object.status);
    if (patch === null) {
      if (lead.mode === 'stepped-down') wasWriter = false;
      return;
    }
    writing = true;
    try {
      const guard = lead.mode === 'stepped-down' ? object.metadata.resourceVersion : undefined;
      const result = await gateway.patchStatus(name, patch, guard);
      if (result.ok) {
        writeBackoffMs = 1000;
        if (lead.mode === 'stepped-down') wasWriter = false;
        // The response is the whole current object, so it also confirms the policy. It is applied
        // unless the cache already holds something newer (confirm compares resourceVersions): the
        // next status is computed from it, so a dropped response would re-stamp condition times.
        confirm(result.value, clock.monotonicMs());
        log.debug({ keys: Object.keys(patch) }, 'status written');
      } else if (lead.mode === 'stepped-down' && result.kind === 'conflict') {
        wasWriter = false; // someone else wrote since: the new leader owns the status now
      } else {
        nextWriteAttemptMs = clock.monotonicMs() + writeBackoffMs;
        writeBackoffMs = Math.min(30_000, writeBackoffMs * 2);
        log.warn({ err: result.message }, 'writing CardanoForgeCluster status failed');
      }
    } finally {
      writing = false;
    }
    if (writeAgain) {
      writeAgain = false;
      refresh();
    }
  }

  // --- health -------------------------------------------------------------------------------
  function healthSettings(): { intervalMs: number; timeoutMs: number; recoveryThreshold: number } {
    const spec = readSpecHealthCheck(cached?.spec).healthCheck;
    return {
      intervalMs: spec.intervalMs ?? options.healthCheck.intervalSeconds * 1000,
      timeoutMs: spec.timeoutMs ?? options.healthCheck.timeoutSeconds * 1000,
      recoveryThreshold: spec.recoveryThreshold ?? options.healthCheck.recoveryThreshold,
    };
  }

  async function healthLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const settings = healthSettings();
      const round = await runHealthRound(healthProbes, clock, settings.timeoutMs, signal);
      if (signal.aborted) return;
      counters = nextHealthCounters(counters, round.healthy, settings.recoveryThreshold);
      lastRound = { ...round, atWall: clock.wallNow() };
      metrics.success.set(clusterLabel, round.healthy ? 1 : 0);
      metrics.failures.set(clusterLabel, counters.consecutiveFailures);
      metrics.duration.observe(clusterLabel, round.durationMs / 1000);
      if (round.healthy) metrics.lastSuccess.set(clusterLabel, lastRound.atWall.getTime() / 1000);
      if (!round.healthy)
        log.warn({ failures: counters.consecutiveFailures, detail: round.detail }, 'health round failed');
      refresh();
      try {
        await clock.sleep(settings.intervalMs, signal);
      } catch {
        return;
      }
    }
  }

  function startHealthLoop(): void {
    if (healthProbes.length === 0 || healthAbort !== null || !started || internal.signal.aborted) return;
    // Continue from the count the previous leader published, so a failover does not wipe a penalty.
    counters = { consecutiveFailures: observedFailures(), recoveryStreak: 0 };
    lastRound = null;
    const controller = new AbortController();
    healthAbort = controller;
    healthLoopDone = healthLoop(controller.signal).catch((error: unknown) =>
      log.error({ err: describe(error) }, 'health loop crashed'),
    );
  }

  function stopHealthLoop(): void {
    healthAbort?.abort(new Error('no longer the local leader'));
    healthAbort = null;
  }

  function applyLeader(isLeader: boolean): void {
    if (isLeader === localLeader) return;
    localLeader = isLeader;
    if (isLeader) {
      wasWriter = true;
      startHealthLoop();
    } else {
      stopHealthLoop();
      lastRound = null;
    }
    refresh();
  }

  // --- public -------------------------------------------------------------------------------
  return {
    async start(signal) {
      if (started) throw new Error('cluster manager already started');
      started = true;
      signal.addEventListener('abort', () => internal.abort(signal.reason), { once: true });
      if (signal.aborted) internal.abort(signal.reason);
      await ensure();
      loops.push(watchLoop(), resyncLoop(), tickLoop());
      if (localLeader) startHealthLoop();
      refresh();
    },
    snapshot() {
      // Staleness and override expiry depend on time: evaluate now, not at the last event.
      return started ? evaluate().snapshot : current;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    setLocalLeader(isLeader) {
      applyLeader(isLeader);
    },
    reportGlobal(view) {
      if (canonicalJson(view) === canonicalJson(globalView)) return;
      globalView = view;
      refresh();
    },
    async reportLeadership(report) {
      const changed = canonicalJson(report) !== canonicalJson(leadership);
      leadership = report;
      if (report.isLeader !== localLeader) applyLeader(report.isLeader);
      else if (changed) refresh();
    },
    async stop() {
      internal.abort(new Error('cluster manager stopped'));
      stopHealthLoop();
      watchHandle?.abort();
      // Probes belong to the plugin host, which closes them; the manager only stops using them.
      await Promise.allSettled([...loops, healthLoopDone, ensuring ?? Promise.resolve()]);
    },
  };
}
