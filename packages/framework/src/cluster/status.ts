/**
 * What the local leader writes to the CardanoForgeCluster `/status`, as pure functions: the desired
 * status from the current policy, health and leadership, and the merge patch that brings the
 * observed status there (null when nothing changed, so there is no heartbeat churn; G20).
 * Condition `lastTransitionTime` only moves when the condition's status flips (G9).
 */
import type { ForgeState } from '../contracts/index.js';
import type { OverrideView } from './policy.js';
import { globalArbiterStatus, type GlobalForgeView } from './global-status.js';

export const CONDITION_TYPES = ['Ready', 'HealthCheckPassing', 'LeaderElected', 'PolicyValid'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];
export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration?: number;
}

export interface HealthView {
  /** False when no HealthProbe is configured (nothing about health is written then). */
  readonly configured: boolean;
  /** The last round on this leader; null before the first one. */
  readonly lastRound: {
    readonly healthy: boolean;
    readonly message: string;
    readonly atWall: Date;
    readonly durationMs: number;
  } | null;
  readonly consecutiveFailures: number;
  readonly failureThreshold: number;
  readonly recoveryStreak: number;
}

export type LeadershipView =
  | { readonly mode: 'leader'; readonly activeLeader: string; readonly forgingEnabled: boolean | null }
  /** This pod held the lease and gave it up: it clears its own name (guarded by resourceVersion). */
  | { readonly mode: 'stepped-down'; readonly podName: string };

export interface StatusInputs {
  readonly nowWall: Date;
  readonly observed: Readonly<Record<string, unknown>> | undefined;
  readonly generation: number | null;
  readonly effectiveState: ForgeState;
  readonly effectivePriority: number;
  readonly forgingAllowed: boolean;
  readonly reason: string;
  readonly message: string;
  readonly stale: boolean;
  readonly override: OverrideView;
  readonly problems: readonly string[];
  readonly health: HealthView;
  readonly leadership: LeadershipView;
  /** Global mode only: the cross-region arbiter's view (status.globalArbiter). */
  readonly global?: GlobalForgeView | null | undefined;
}

const MAX_MESSAGE = 1024;
const MAX_REASON = 128;
const clip = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** JSON with sorted keys: the API server does not keep our key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = asRecord(value);
  if (record) {
    return `{${Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Whether canonicalJson(a) === canonicalJson(b), without building the strings (the status writer
 * and the cluster manager compare on every tick): records compare by their keys with defined
 * values, in any order; arrays element by element; anything else as JSON.
 */
export function sameCanonicalJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameCanonicalJson(item, b[i]));
  }
  const ra = asRecord(a);
  const rb = asRecord(b);
  if (ra || rb) {
    if (!ra || !rb) return false;
    const keys = Object.keys(ra).filter((k) => ra[k] !== undefined);
    if (keys.length !== Object.keys(rb).filter((k) => rb[k] !== undefined).length) return false;
    return keys.every((k) => rb[k] !== undefined && Object.hasOwn(rb, k) && sameCanonicalJson(ra[k], rb[k]));
  }
  return (JSON.stringify(a) ?? 'null') === (JSON.stringify(b) ?? 'null');
}

function observedConditions(
  observed: Readonly<Record<string, unknown>> | undefined,
): Map<string, Record<string, unknown>> {
  const list = Array.isArray(observed?.conditions) ? (observed.conditions as unknown[]) : [];
  const byType = new Map<string, Record<string, unknown>>();
  for (const item of list) {
    const c = asRecord(item);
    if (c && typeof c.type === 'string') byType.set(c.type, c);
  }
  return byType;
}

function condition(
  previous: Map<string, Record<string, unknown>>,
  nowIso: string,
  generation: number | null,
  type: ConditionType,
  status: ConditionStatus,
  reason: string,
  message: string,
): Condition {
  const before = previous.get(type);
  const keep = before?.status === status && typeof before.lastTransitionTime === 'string';
  return {
    type,
    status,
    reason: clip(reason, MAX_REASON),
    message: clip(message, MAX_MESSAGE),
    lastTransitionTime: keep ? (before.lastTransitionTime as string) : nowIso,
    ...(generation === null ? {} : { observedGeneration: generation }),
  };
}

export function buildDesiredStatus(input: StatusInputs): Record<string, unknown> {
  const nowIso = input.nowWall.toISOString();
  const observed = input.observed;
  const previous = observedConditions(observed);
  const cond = (type: ConditionType, status: ConditionStatus, reason: string, message: string): Condition =>
    condition(previous, nowIso, input.generation, type, status, reason, message);

  const problemsText = input.problems.join('; ');
  const policyValid =
    input.problems.length === 0
      ? cond('PolicyValid', 'True', 'SpecValid', 'spec is consistent')
      : cond('PolicyValid', 'False', 'SpecProblems', problemsText);

  const h = input.health;
  let healthCondition: Condition;
  if (!h.configured)
    healthCondition = cond(
      'HealthCheckPassing',
      'Unknown',
      'NoProbesConfigured',
      'no health probe is configured',
    );
  else if (h.lastRound === null && h.consecutiveFailures === 0)
    healthCondition = cond(
      'HealthCheckPassing',
      'Unknown',
      'NotProbedYet',
      'no health round has completed on the current leader yet',
    );
  else if (h.consecutiveFailures === 0)
    healthCondition = cond('HealthCheckPassing', 'True', 'ProbesHealthy', h.lastRound?.message ?? 'healthy');
  else {
    const degraded = h.consecutiveFailures >= h.failureThreshold;
    const recovering =
      h.lastRound?.healthy === true ? ` (recovering: ${h.recoveryStreak} healthy round(s) so far)` : '';
    healthCondition = cond(
      'HealthCheckPassing',
      'False',
      degraded ? 'HealthDegraded' : 'ProbesFailing',
      `${h.consecutiveFailures} consecutive failed round(s), threshold ${h.failureThreshold}${recovering}: ${h.lastRound?.message ?? ''}`,
    );
  }

  const lead = input.leadership;
  const leaderCondition =
    lead.mode === 'leader'
      ? cond('LeaderElected', 'True', 'LeaderElected', `pod ${lead.activeLeader} holds the lease`)
      : cond(
          'LeaderElected',
          'False',
          'LeaderReleased',
          `pod ${lead.podName} gave up the lease; no leader has reported yet`,
        );

  let ready: Condition;
  if (input.stale) ready = cond('Ready', 'False', 'PolicyStale', input.message);
  else if (!input.forgingAllowed)
    ready = cond('Ready', 'False', 'ForgingNotAllowed', `${input.reason}: ${input.message}`);
  else if (lead.mode !== 'leader') ready = cond('Ready', 'False', 'NoLeader', 'no pod holds the lease');
  else if (lead.forgingEnabled === null)
    ready = cond(
      'Ready',
      'Unknown',
      'LeadershipNotReported',
      `leader ${lead.activeLeader} has not reported whether it forges`,
    );
  else if (lead.forgingEnabled)
    ready = cond('Ready', 'True', 'Forging', `leader ${lead.activeLeader} forges`);
  else
    ready = cond(
      'Ready',
      'False',
      'LeaderNotForging',
      `leader ${lead.activeLeader} holds the lease but does not forge`,
    );

  const stateChanged = observed?.effectiveState !== input.effectiveState;
  const status: Record<string, unknown> = {
    effectiveState: input.effectiveState,
    effectivePriority: input.effectivePriority,
    reason: clip(input.reason, MAX_REASON),
    message: clip(
      input.problems.length === 0 ? input.message : `${input.message} | problems: ${problemsText}`,
      MAX_MESSAGE,
    ),
    override: {
      active: input.override.active,
      expired: input.override.expired,
      message: clip(input.override.message, MAX_MESSAGE),
    },
    lastTransition:
      !stateChanged && typeof observed?.lastTransition === 'string' ? observed.lastTransition : nowIso,
    conditions: [ready, healthCondition, leaderCondition, policyValid],
  };
  if (input.generation !== null) status.observedGeneration = input.generation;
  if (input.global) status.globalArbiter = globalArbiterStatus(input.global);

  if (h.configured && (h.lastRound !== null || h.consecutiveFailures > 0)) {
    const healthy = h.consecutiveFailures === 0;
    const message = clip(
      h.lastRound?.message ?? `${h.consecutiveFailures} consecutive failed round(s)`,
      MAX_MESSAGE,
    );
    const before = asRecord(observed?.healthStatus);
    const same =
      before?.healthy === healthy &&
      before.consecutiveFailures === h.consecutiveFailures &&
      before.message === message;
    status.healthStatus = {
      healthy,
      consecutiveFailures: h.consecutiveFailures,
      message,
      // Only refreshed when the outcome changes: a per-round timestamp would rewrite the CR every interval.
      lastProbeTime:
        same && typeof before.lastProbeTime === 'string'
          ? before.lastProbeTime
          : (h.lastRound?.atWall ?? input.nowWall).toISOString(),
      responseTime:
        same && typeof before.responseTime === 'string'
          ? before.responseTime
          : `${Math.round(h.lastRound?.durationMs ?? 0)}ms`,
    };
  }

  if (lead.mode === 'leader') {
    status.activeLeader = lead.activeLeader;
    if (lead.forgingEnabled !== null) status.forgingEnabled = lead.forgingEnabled;
  } else {
    status.activeLeader = '';
    status.forgingEnabled = false;
  }
  return status;
}

/** The keys of `desired` whose value differs from `observed`; null when there is nothing to write. */
export function statusPatch(
  desired: Readonly<Record<string, unknown>>,
  observed: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> | null {
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(desired)) {
    if (!sameCanonicalJson(value, observed?.[key])) patch[key] = value;
  }
  return Object.keys(patch).length === 0 ? null : patch;
}
