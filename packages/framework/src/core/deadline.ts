/**
 * Timeouts on the injected Clock instead of AbortSignal.timeout/setTimeout, so the deterministic
 * simulation (test/dst) controls every deadline the control loop has.
 */
import type { Clock } from '../contracts/index.js';

export interface ClockTimeout {
  /** Aborts with a TimeoutError after `ms` on the clock, or when `parent` aborts. */
  readonly signal: AbortSignal;
  /** Stops the timer (always call it, or the sleep stays pending until it fires). */
  cancel(): void;
}

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
      timer.abort();
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}
