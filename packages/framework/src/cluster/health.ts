/**
 * Health rounds: every configured HealthProbe runs once per round, bounded by a timeout, and the
 * round is healthy only when every probe is (one failing signal is enough to deprioritise a
 * cluster; an "any healthy" rule would hide a dead node behind a live dashboard).
 */
import type { Clock, HealthProbe, HealthResult } from '../contracts/index.js';
import { withDeadline } from '../core/deadline.js';

export interface HealthCounters {
  /** Consecutive failed rounds, held until the recovery hysteresis is satisfied. */
  readonly consecutiveFailures: number;
  /** Healthy rounds in a row since the last failure (only counted while failures > 0). */
  readonly recoveryStreak: number;
}

export const INITIAL_HEALTH_COUNTERS: HealthCounters = Object.freeze({
  consecutiveFailures: 0,
  recoveryStreak: 0,
});

/**
 * Failure counting with recovery hysteresis: a failed round adds one; after failures, the count
 * only returns to 0 once `recoveryThreshold` healthy rounds have followed in a row (1 = Python's
 * behaviour, one success resets).
 */
export function nextHealthCounters(
  previous: HealthCounters,
  roundHealthy: boolean,
  recoveryThreshold: number,
): HealthCounters {
  if (!roundHealthy) return { consecutiveFailures: previous.consecutiveFailures + 1, recoveryStreak: 0 };
  if (previous.consecutiveFailures === 0) return INITIAL_HEALTH_COUNTERS;
  const streak = previous.recoveryStreak + 1;
  return streak >= Math.max(1, recoveryThreshold)
    ? INITIAL_HEALTH_COUNTERS
    : { consecutiveFailures: previous.consecutiveFailures, recoveryStreak: streak };
}

export interface ProbeOutcome extends HealthResult {
  readonly probeId: string;
}

export interface HealthRound {
  readonly healthy: boolean;
  readonly probes: readonly ProbeOutcome[];
  readonly durationMs: number;
  /**
   * Stable summary (probe ids and reasons only): probe messages often carry latencies, and the
   * status is written on change only (no churn every interval).
   */
  readonly message: string;
  /** The probes' own messages, for logs and the snapshot. */
  readonly detail: string;
}

async function runOne(
  probe: HealthProbe,
  clock: Clock,
  timeoutMs: number,
  parent: AbortSignal,
): Promise<ProbeOutcome> {
  const began = clock.monotonicMs();
  const failed = (error: unknown): ProbeOutcome => ({
    probeId: probe.id,
    healthy: false,
    reason: 'ProbeError',
    message: `probe threw: ${error instanceof Error ? error.message : String(error)}`,
    latencyMs: clock.monotonicMs() - began,
  });
  // The deadline also ends the wait for a probe that ignores its signal.
  return withDeadline(
    clock,
    timeoutMs,
    (signal) =>
      probe.check(signal).then((result): ProbeOutcome => ({ ...result, probeId: probe.id }), failed),
    {
      parent,
      onTimeout: (): ProbeOutcome => ({
        probeId: probe.id,
        healthy: false,
        reason: 'Timeout',
        message: `no answer within ${timeoutMs} ms`,
        latencyMs: timeoutMs,
      }),
    },
  ).catch(failed);
}

export async function runHealthRound(
  probes: readonly HealthProbe[],
  clock: Clock,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<HealthRound> {
  const began = clock.monotonicMs();
  const outcomes = await Promise.all(probes.map((p) => runOne(p, clock, timeoutMs, signal)));
  const healthy = outcomes.length > 0 && outcomes.every((o) => o.healthy);
  const failing = outcomes.filter((o) => !o.healthy);
  const message = healthy
    ? `all ${outcomes.length} probe(s) healthy`
    : `failing: ${failing.map((o) => `${o.probeId} (${o.reason})`).join(', ')}`;
  const detail = outcomes
    .map((o) => `${o.probeId}: ${o.healthy ? 'healthy' : o.reason}: ${o.message}`)
    .join('; ');
  return { healthy, probes: outcomes, durationMs: clock.monotonicMs() - began, message, detail };
}
