/**
 * Stand-ins for the two plugin kinds other code consumes (the health loop, the cluster policy):
 * a health probe whose answers a test sets, and a priority strategy with a fixed rule.
 */
import type { HealthProbe, HealthResult, PriorityInput, PriorityStrategy } from '../contracts/index.js';

export interface ScriptedHealthProbe extends HealthProbe {
  /** What the next check() answers; change it to make the target fail or recover. */
  next: { healthy: boolean; reason: string; message: string };
  /** Every check() so far, in order (the signal each got, whether it was already aborted). */
  readonly checks: Array<{ readonly aborted: boolean }>;
  /** close() was called. */
  readonly closed: boolean;
}

/** A HealthProbe that answers what the test set last; healthy until told otherwise. */
export function scriptedHealthProbe(id = 'scripted'): ScriptedHealthProbe {
  let closed = false;
  const probe: ScriptedHealthProbe = {
    id,
    next: { healthy: true, reason: 'Healthy', message: 'scripted: healthy' },
    checks: [],
    get closed() {
      return closed;
    },
    async check(signal: AbortSignal): Promise<HealthResult> {
      probe.checks.push({ aborted: signal.aborted });
      if (signal.aborted)
        return { healthy: false, reason: 'Aborted', message: 'the check was aborted', latencyMs: 0 };
      return { ...probe.next, latencyMs: 0 };
    },
    async close() {
      closed = true;
    },
  };
  return probe;
}

/**
 * A PriorityStrategy: the base priority plus `penalty` once the failure count reaches the
 * threshold; unchanged below it. Every call is recorded in `inputs`.
 */
export function thresholdPriorityStrategy(penalty = 100): PriorityStrategy & {
  readonly inputs: PriorityInput[];
} {
  const inputs: PriorityInput[] = [];
  return {
    inputs,
    compute(input) {
      inputs.push(input);
      const failing = input.consecutiveFailures >= input.failureThreshold;
      return failing
        ? {
            effectivePriority: input.basePriority + penalty,
            reason: 'health_degraded',
            message: `${input.consecutiveFailures} failed rounds`,
          }
        : { effectivePriority: input.basePriority, reason: 'healthy_operation', message: 'healthy' };
    },
  };
}
