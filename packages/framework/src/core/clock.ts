import type { Clock } from '../contracts/index.js';

/**
 * A pause on a plain timer. An abort rejects with the signal's reason, as the simulation's clock
 * does: node:timers/promises builds an AbortError with a stack trace instead, and every bounded
 * call (core/deadline.ts) aborts its timer when the call settles, many times a tick.
 */
function sleepOnTimer(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The real clock: performance.now() is monotonic (immune to wall-clock steps). */
export function createSystemClock(): Clock {
  return {
    monotonicMs: () => performance.now(),
    wallNow: () => new Date(),
    sleep: sleepOnTimer,
  };
}
