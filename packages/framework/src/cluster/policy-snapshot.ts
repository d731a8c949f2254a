/**
 * What the decision loop reads from the cluster manager: a PolicySnapshot, computed as a pure
 * function of the cached CardanoForgeCluster, the time since it was last confirmed, and the health
 * state. Fail closed (docs/cluster-policy.md): until the object has been read, when it cannot be
 * created, and when it has not been confirmed for `policyStaleAfterSeconds`, forging is not allowed.
 */
import type { ForgeState } from '../contracts/index.js';
import type { ClusterObject } from './gateway.js';
import type { HealthCounters, HealthRound } from './health.js';
import type { EffectivePolicy, OverrideView } from './policy.js';

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

/** Why the object is not in the cache although it was looked for. */
export interface LoadProblem {
  readonly reason: 'ClusterCreateFailed' | 'PolicyUnavailable';
  readonly message: string;
}

/** The cache's state (cluster/policy-cache.ts) as the snapshot needs it. */
export interface PolicyCacheView {
  readonly object: ClusterObject | null;
  /** Monotonic time of the last confirmation (null = never). */
  readonly lastConfirmedMs: number | null;
  readonly loadProblem: LoadProblem | null;
  /** The last failed read's message ('' when the last read succeeded). */
  readonly lastReadError: string;
}

/** A completed health round with the wall-clock time it ended. */
export type TimedHealthRound = HealthRound & { readonly atWall: Date };

export interface HealthState {
  readonly probesConfigured: boolean;
  /** Only the lease holder probes; the others take the count the leader published. */
  readonly localLeader: boolean;
  readonly counters: HealthCounters;
  readonly lastRound: TimedHealthRound | null;
}

/** The consecutive-failure count the leader published in status.healthStatus (0 when absent). */
export function publishedFailures(object: ClusterObject | null): number {
  const hs = object?.status?.healthStatus;
  const n =
    typeof hs === 'object' && hs !== null
      ? (hs as { consecutiveFailures?: unknown }).consecutiveFailures
      : undefined;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : 0;
}

/** Followers take the leader's count from status, so every pod computes the same priority. */
export function failuresForPolicy(health: HealthState, object: ClusterObject | null): number {
  return health.localLeader && health.probesConfigured
    ? health.counters.consecutiveFailures
    : publishedFailures(object);
}

export function healthView(health: HealthState, object: ClusterObject | null): PolicySnapshot['health'] {
  if (!health.probesConfigured)
    return { healthy: null, consecutiveFailures: 0, message: 'no health probe configured' };
  if (!health.localLeader) {
    const observed = publishedFailures(object);
    return { healthy: null, consecutiveFailures: observed, message: 'health is probed by the leader only' };
  }
  const { counters, lastRound } = health;
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

/** A snapshot while the policy is unknown: forging not allowed. */
export function notLoadedSnapshot(
  reason: string,
  message: string,
  lastConfirmedMs: number | null,
  health: PolicySnapshot['health'],
): PolicySnapshot {
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
    health,
  };
}

export interface SnapshotInput {
  readonly nowMs: number;
  readonly cache: PolicyCacheView;
  readonly policyStaleAfterSeconds: number;
  readonly health: HealthState;
  /** The effective policy of the cached object (called only when there is one). */
  readonly policyOf: (object: ClusterObject) => EffectivePolicy;
}

/** Pure: the snapshot at `nowMs`, and the effective policy it came from (null while unknown). */
export function evaluatePolicySnapshot(input: SnapshotInput): {
  snapshot: PolicySnapshot;
  policy: EffectivePolicy | null;
} {
  const { cache, nowMs } = input;
  const { object, lastConfirmedMs, loadProblem, lastReadError } = cache;
  if (object === null) {
    const health = healthView(input.health, object);
    if (loadProblem)
      return {
        snapshot: notLoadedSnapshot(loadProblem.reason, loadProblem.message, lastConfirmedMs, health),
        policy: null,
      };
    return {
      snapshot: notLoadedSnapshot(
        'PolicyNotLoaded',
        lastReadError === ''
          ? 'the CardanoForgeCluster has not been read yet'
          : `the CardanoForgeCluster could not be read: ${lastReadError}`,
        lastConfirmedMs,
        health,
      ),
      policy: null,
    };
  }
  const policy = input.policyOf(object);
  const ageMs = lastConfirmedMs === null ? Infinity : nowMs - lastConfirmedMs;
  const stale = ageMs > input.policyStaleAfterSeconds * 1000;
  const generation = typeof object.metadata.generation === 'number' ? object.metadata.generation : null;
  const snapshot: PolicySnapshot = {
    enabled: true,
    forgingAllowed: stale ? false : policy.forgingAllowed,
    effectiveState: policy.effectiveState,
    effectivePriority: policy.effectivePriority,
    reason: stale ? 'PolicyStale' : policy.reason,
    message: stale
      ? `policy not confirmed for ${Math.round(ageMs / 1000)} s (bound ${input.policyStaleAfterSeconds} s)${lastReadError === '' ? '' : `: ${lastReadError}`}; forging stopped until it is read again`
      : policy.message,
    stale,
    observedAtMs: lastConfirmedMs ?? 0,
    generation,
    override: policy.override,
    problems: policy.problems,
    health: healthView(input.health, object),
  };
  return { snapshot, policy };
}
