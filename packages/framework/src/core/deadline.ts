/**
 * Timeouts on the injected Clock instead of AbortSignal.timeout/setTimeout, so the deterministic
 * simulation (test/dst) controls every deadline the sidecar has. The one place that turns "at most
 * this long" into a signal (`clockTimeout`), a bounded call (`withDeadline`) or a stoppable pause
 * (`sleepUnlessAborted`).
 */
import type { Clock } from '../contracts/index.js';

export interface ClockTimeout {
  /** Aborts with a TimeoutError after `ms` on the clock, or when `parent` aborts. */
  readonly signal: AbortSignal;
  /** Stops the timer (always call it, or the sleep stays pending until it fires). */
  cancel(): void;
}

/**
 * Why a deadline's own timer is stopped once the call settled. Only the timer's sleep sees it (and
 * drops it); a fixed reason spares building a DOMException on every bounded call.
 */
const TIMER_STOPPED = 'deadline timer stopped: the call settled';

export function clockTimeout(clock: Clock, ms: number, parent?: AbortSignal): ClockTimeout {
  const timer = new AbortController();
  const controller = new AbortController();
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  clock.sleep(ms, timer.signal).then(
    () => controller.abort(new DOMException(`timed out after ${Math.round(ms)} ms`, 'TimeoutError')),
    () => undefined,
  );
  return {
    signal: controller.signal,
    cancel: () => {
      timer.abort(TIMER_STOPPED);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}

export interface DeadlineOptions<T> {
  /** Aborting it aborts the call's signal and ends the wait at once, rejecting with its reason. */
  readonly parent?: AbortSignal | undefined;
  /** What the call yields when the deadline passes first; without it the call rejects with a TimeoutError. */
  readonly onTimeout?: (() => T) | undefined;
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/**
 * Runs `call` with a signal that aborts after `ms` on the clock (or when `options.parent` aborts)
 * and settles no later than that, also when the call ignores its signal: the loop that waits must
 * reach its own deadlines even when a plugin hangs (the abandoned promise settles on its own).
 */
export async function withDeadline<T>(
  clock: Clock,
  ms: number,
  call: (signal: AbortSignal) => Promise<T>,
  options: DeadlineOptions<T> = {},
): Promise<T> {
  const timeout = clockTimeout(clock, ms, options.parent);
  const { signal } = timeout;
  const { onTimeout } = options;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<T>((resolve, reject) => {
    onAbort = () => {
      const timedOut = options.parent?.aborted !== true;
      if (timedOut && onTimeout) resolve(onTimeout());
      else reject(asError(signal.reason));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([call(signal), aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    timeout.cancel();
  }
}

/** Sleeps `ms` on the clock; false when `signal` aborted first (the caller should stop). */
export async function sleepUnlessAborted(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await clock.sleep(ms, signal);
    return true;
  } catch {
    return false;
  }
}
