import type { PriorityInput, PriorityResult, PriorityStrategy } from '@cardano-forge/framework';

export interface StaticPenaltyOptions {
  /** Added while 1 ≤ consecutive failures < threshold (intermittent trouble). */
  readonly minorPenalty: number;
  /** Added once consecutive failures ≥ threshold (degraded cluster). */
  readonly majorPenalty: number;
  /** When set, replaces the threshold the host passes in (spec.healthCheck.failureThreshold). */
  readonly failureThreshold?: number | undefined;
}

export type StaticPenaltyReason =
  'healthy_operation' | 'health_intermittent' | 'health_degraded' | 'not_priority_based';

/**
 * The seed's fixed-penalty rule, with the numbers configurable. Pure: same input, same output.
 * Enabled/Disabled clusters report their base priority: in those states priority does not decide
 * anything, and a penalty would only make the status misleading.
 */
export function computeStaticPriority(
  input: PriorityInput,
  options: StaticPenaltyOptions,
): PriorityResult & { readonly reason: StaticPenaltyReason } {
  const base = input.basePriority;
  if (input.state !== 'Priority-based') {
    return {
      effectivePriority: base,
      reason: 'not_priority_based',
      message: `forgeState is ${input.state}; health does not adjust priority (effective ${base})`,
    };
  }
  // A threshold below 1 would make "0 failures" degraded; clamp so a healthy cluster is never penalised.
  const threshold = Math.max(1, options.failureThreshold ?? input.failureThreshold);
  const failures = input.consecutiveFailures;
  if (!(failures >= 1)) {
    return {
      effectivePriority: base,
      reason: 'healthy_operation',
      message: `healthy; effective priority ${base}`,
    };
  }
  if (failures < threshold) {
    const effectivePriority = base + options.minorPenalty;
    return {
      effectivePriority,
      reason: 'health_intermittent',
      message: `${failures} consecutive health failure(s), below threshold ${threshold}: ${base} + ${options.minorPenalty} = ${effectivePriority}`,
    };
  }
  const effectivePriority = base + options.majorPenalty;
  return {
    effectivePriority,
    reason: 'health_degraded',
    message: `${failures} consecutive health failures, threshold ${threshold} reached: ${base} + ${options.majorPenalty} = ${effectivePriority}`,
  };
}

export function createStaticPriorityStrategy(options: StaticPenaltyOptions): PriorityStrategy {
  return { compute: (input) => computeStaticPriority(input, options) };
}
