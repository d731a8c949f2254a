/**
 * Exponential backoff for retries after failures (a watch that keeps closing, a write that keeps
 * failing): each failure waits twice as long as the one before, up to a cap; a success starts over.
 */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Extra random share of each delay (0.2 = up to +20 %), so many pods do not retry in step. */
  readonly jitter?: number;
  /** A number in [0, 1); injected so the simulation stays deterministic. Needed with `jitter`. */
  readonly random?: () => number;
}

export interface Backoff {
  /** The delay before the next attempt after a failure; the following one is twice as long (capped). */
  next(): number;
  /** After a success: the next failure waits `initialMs` again. */
  reset(): void;
}

export function createBackoff(policy: BackoffPolicy): Backoff {
  if (!(policy.initialMs > 0) || !(policy.maxMs >= policy.initialMs))
    throw new Error(
      `backoff needs 0 < initialMs <= maxMs, got initialMs ${policy.initialMs}, maxMs ${policy.maxMs}`,
    );
  const jitter = policy.jitter ?? 0;
  if (jitter > 0 && policy.random === undefined) throw new Error('backoff with jitter needs a random source');
  let currentMs = policy.initialMs;
  return {
    next() {
      const delayMs = jitter > 0 && policy.random ? currentMs * (1 + policy.random() * jitter) : currentMs;
      currentMs = Math.min(policy.maxMs, currentMs * 2);
      return delayMs;
    },
    reset() {
      currentMs = policy.initialMs;
    },
  };
}
