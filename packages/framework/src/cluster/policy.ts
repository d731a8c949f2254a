/**
 * The effective forge policy of one CardanoForgeCluster, as a pure function of its spec, the wall
 * clock (override expiry), the health-failure count and the PriorityStrategy.
 *
 * The spec is untrusted input: the CRD schema catches most mistakes, but an edit can still be
 * meaningless (an override with nothing to force, a forcePriority that cannot matter) or come
 * from an older CRD without validation. Nothing here throws; every oddity becomes a `problem`
 * that ends up in the CR's status.
 */
import { z } from 'zod';
import type { ForgeState, PriorityStrategy } from '../contracts/index.js';

export const FORGE_STATES: readonly ForgeState[] = ['Enabled', 'Disabled', 'Priority-based'];

export interface PolicyDefaults {
  /** CLUSTER_PRIORITY: used when spec.priority is absent or invalid. */
  readonly basePriority: number;
  /** Used when spec.healthCheck.failureThreshold is absent or invalid. */
  readonly failureThreshold: number;
}

export interface OverrideView {
  /** The override is in force right now. */
  readonly active: boolean;
  /** The override is enabled but its expiresAt has passed, so it is ignored. */
  readonly expired: boolean;
  readonly message: string;
}

export interface EffectivePolicy {
  readonly effectiveState: ForgeState;
  readonly effectivePriority: number;
  /** Within one cluster only Disabled stops forging; priority matters across clusters only. */
  readonly forgingAllowed: boolean;
  readonly reason: string;
  readonly message: string;
  readonly override: OverrideView;
  /** Meaningless or invalid spec values, one sentence each (empty when the spec is sound). */
  readonly problems: readonly string[];
  /** The threshold handed to the strategy (spec.healthCheck.failureThreshold or the default). */
  readonly failureThreshold: number;
}

export interface PolicyInput {
  readonly spec: unknown;
  readonly nowWall: Date;
  readonly consecutiveFailures: number;
  readonly priorityStrategy: PriorityStrategy;
  readonly defaults: PolicyDefaults;
}

const priorityValue = z.number().int().min(1).max(999);
const durationValue = z.string().regex(/^[0-9]+(ms|s|m|h)$/);
const thresholdValue = z.number().int().min(1).max(10);
const objectValue = z.record(z.string(), z.unknown());
// Built once: the policy is evaluated on every snapshot, and building a zod schema costs more
// than using it.
const booleanValue = z.boolean();
const stringValue = z.string();
const forcedStateValue = z.enum(['Enabled', 'Disabled']);

/** Parses `30s`, `500ms`, `2m`, `1h` into milliseconds; null when malformed. */
export function parseDurationMs(value: string): number | null {
  const match = /^([0-9]+)(ms|s|m|h)$/.exec(value);
  if (!match) return null;
  const n = Number(match[1]);
  const unit = match[2] === 'ms' ? 1 : match[2] === 's' ? 1000 : match[2] === 'm' ? 60_000 : 3_600_000;
  return n * unit;
}

/** spec.healthCheck values that override the config; each absent/invalid field is undefined. */
export interface SpecHealthCheck {
  readonly intervalMs?: number | undefined;
  readonly timeoutMs?: number | undefined;
  readonly failureThreshold?: number | undefined;
  readonly recoveryThreshold?: number | undefined;
}

interface Reader {
  readonly problems: string[];
  /** Value at `path` if it satisfies `schema`; undefined (and a problem) when present but invalid. */
  read<T>(
    source: Record<string, unknown> | undefined,
    key: string,
    path: string,
    schema: z.ZodType<T>,
  ): T | undefined;
}

function reader(): Reader {
  const problems: string[] = [];
  return {
    problems,
    read(source, key, path, schema) {
      const value = source?.[key];
      if (value === undefined || value === null) return undefined;
      const parsed = schema.safeParse(value);
      if (parsed.success) return parsed.data;
      problems.push(
        `${path} ${JSON.stringify(value)} is invalid (${parsed.error.issues[0]?.message ?? 'rejected'}); ignored`,
      );
      return undefined;
    },
  };
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  // Absent is the common case (no override, no healthCheck): skip building zod's error for it.
  if (value === undefined || value === null) return undefined;
  const parsed = objectValue.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

export function readSpecHealthCheck(spec: unknown): { healthCheck: SpecHealthCheck; problems: string[] } {
  return readHealthCheckOf(asObject(spec));
}

/** readSpecHealthCheck on a spec already read as an object (the policy reads it once). */
function readHealthCheckOf(spec: Record<string, unknown> | undefined): {
  healthCheck: SpecHealthCheck;
  problems: string[];
} {
  const r = reader();
  const hc = asObject(spec?.healthCheck);
  const interval = r.read(hc, 'interval', 'spec.healthCheck.interval', durationValue);
  const timeout = r.read(hc, 'timeout', 'spec.healthCheck.timeout', durationValue);
  const intervalMs = interval === undefined ? undefined : (parseDurationMs(interval) ?? undefined);
  const timeoutMs = timeout === undefined ? undefined : (parseDurationMs(timeout) ?? undefined);
  const healthCheck: SpecHealthCheck = {
    intervalMs: intervalMs !== undefined && intervalMs > 0 ? intervalMs : undefined,
    timeoutMs: timeoutMs !== undefined && timeoutMs > 0 ? timeoutMs : undefined,
    failureThreshold: r.read(hc, 'failureThreshold', 'spec.healthCheck.failureThreshold', thresholdValue),
    recoveryThreshold: r.read(hc, 'recoveryThreshold', 'spec.healthCheck.recoveryThreshold', thresholdValue),
  };
  if (intervalMs === 0) r.problems.push('spec.healthCheck.interval is 0; the configured interval is used');
  if (timeoutMs === 0) r.problems.push('spec.healthCheck.timeout is 0; the configured timeout is used');
  return { healthCheck, problems: r.problems };
}

/** RFC 3339 with an explicit zone (Z or ±hh:mm); a naive local time is ambiguous, so rejected. */
function parseTimestamp(value: string): Date | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(value)) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function computeEffectivePolicy(input: PolicyInput): EffectivePolicy {
  const r = reader();
  const spec = asObject(input.spec);
  if (spec === undefined) r.problems.push('spec is missing or not an object; defaults apply');

  // An unrecognised state cannot be interpreted safely: treat it as Disabled (fail closed).
  const rawState = spec?.forgeState;
  let baseState: ForgeState = 'Priority-based';
  let unrecognisedState = false;
  if (rawState !== undefined && rawState !== null) {
    if (typeof rawState === 'string' && (FORGE_STATES as readonly string[]).includes(rawState)) {
      baseState = rawState as ForgeState;
    } else {
      unrecognisedState = true;
      baseState = 'Disabled';
      r.problems.push(
        `spec.forgeState ${JSON.stringify(rawState)} is not one of ${FORGE_STATES.join(', ')}; treated as Disabled`,
      );
    }
  }
  const basePriority =
    r.read(spec, 'priority', 'spec.priority', priorityValue) ?? input.defaults.basePriority;
  const { healthCheck, problems: hcProblems } = readHealthCheckOf(spec);
  r.problems.push(...hcProblems);
  const failureThreshold = healthCheck.failureThreshold ?? input.defaults.failureThreshold;

  // Override.
  const ov = asObject(spec?.override);
  if (spec?.override !== undefined && spec.override !== null && ov === undefined) {
    r.problems.push('spec.override is not an object; ignored');
  }
  const ovEnabled = r.read(ov, 'enabled', 'spec.override.enabled', booleanValue) ?? false;
  const forceState = r.read(ov, 'forceState', 'spec.override.forceState', forcedStateValue);
  const forcePriority = r.read(ov, 'forcePriority', 'spec.override.forcePriority', priorityValue);
  const ovReason = r.read(ov, 'reason', 'spec.override.reason', stringValue) ?? '';
  const rawExpiry = r.read(ov, 'expiresAt', 'spec.override.expiresAt', stringValue);
  const why = ovReason.trim() === '' ? 'no reason given' : ovReason.trim();

  let override: OverrideView = { active: false, expired: false, message: 'no override' };
  let overrideApplies = false;
  if (ovEnabled) {
    const expiry = rawExpiry === undefined ? undefined : parseTimestamp(rawExpiry);
    if (rawExpiry !== undefined && expiry === null) {
      r.problems.push(
        `spec.override.expiresAt ${JSON.stringify(rawExpiry)} is not an RFC 3339 timestamp with a zone; override ignored`,
      );
      override = {
        active: false,
        expired: false,
        message: `override ignored: unparsable expiresAt ${JSON.stringify(rawExpiry)}`,
      };
    } else if (expiry && input.nowWall.getTime() > expiry.getTime()) {
      override = {
        active: false,
        expired: true,
        message: `override expired at ${expiry.toISOString()} (${why}); ignored`,
      };
      r.problems.push(
        `spec.override expired at ${expiry.toISOString()}; set override.enabled=false or a new expiresAt`,
      );
    } else if (forceState === undefined && forcePriority === undefined) {
      override = { active: false, expired: false, message: `override enabled but forces nothing (${why})` };
      r.problems.push(
        'spec.override is enabled but sets neither forceState nor forcePriority; nothing is overridden',
      );
    } else {
      overrideApplies = true;
      const until = expiry ? `until ${expiry.toISOString()}` : 'until override.enabled is set to false';
      const forced = [
        forceState ? `state ${forceState}` : '',
        forcePriority ? `priority ${forcePriority}` : '',
      ]
        .filter((s) => s !== '')
        .join(', ');
      override = { active: true, expired: false, message: `manual override (${forced}) ${until}: ${why}` };
    }
  } else if (ov && (forceState !== undefined || forcePriority !== undefined)) {
    override = {
      active: false,
      expired: false,
      message: 'override fields set but override.enabled is false',
    };
  }

  const effectiveState: ForgeState = overrideApplies && forceState ? forceState : baseState;
  if (overrideApplies && forcePriority !== undefined && effectiveState !== 'Priority-based') {
    r.problems.push(
      `spec.override.forcePriority ${forcePriority} has no effect on forging while the state is ${effectiveState}`,
    );
  }

  let effectivePriority: number;
  let reason: string;
  let message: string;
  if (overrideApplies && forcePriority !== undefined) {
    // A forced priority is pinned: the operator chose it, health does not move it.
    effectivePriority = forcePriority;
    reason = 'manual_override';
    message = override.message;
  } else {
    let adjusted: { effectivePriority: number; reason: string; message: string };
    try {
      adjusted = input.priorityStrategy.compute({
        basePriority,
        consecutiveFailures: Math.max(0, input.consecutiveFailures),
        failureThreshold,
        state: effectiveState,
      });
      if (!Number.isFinite(adjusted.effectivePriority))
        throw new Error(`non-finite priority ${adjusted.effectivePriority}`);
    } catch (error) {
      r.problems.push(
        `priority strategy failed (${error instanceof Error ? error.message : String(error)}); base priority used`,
      );
      adjusted = {
        effectivePriority: basePriority,
        reason: 'priority_strategy_error',
        message: 'priority strategy failed',
      };
    }
    effectivePriority = adjusted.effectivePriority;
    if (overrideApplies) {
      reason = 'manual_override';
      message = override.message;
    } else if (unrecognisedState) {
      reason = 'invalid_forge_state';
      message = `spec.forgeState ${JSON.stringify(rawState)} is not recognised; forging disabled until it is fixed`;
    } else if (effectiveState === 'Disabled') {
      reason = 'cluster_disabled';
      message = 'spec.forgeState is Disabled: this cluster must not forge';
    } else if (effectiveState === 'Enabled') {
      reason = 'cluster_enabled';
      message = `spec.forgeState is Enabled (priority ${effectivePriority})`;
    } else {
      reason = adjusted.reason;
      message = adjusted.message;
    }
  }

  return {
    effectiveState,
    effectivePriority,
    forgingAllowed: effectiveState !== 'Disabled',
    reason,
    message,
    override,
    problems: r.problems,
    failureThreshold,
  };
}
