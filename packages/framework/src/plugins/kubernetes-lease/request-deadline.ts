/**
 * One lease API call with a deadline on the elector's own clock: it never waits past the deadline
 * even if the call hangs, and the request is aborted when the deadline passes or the caller's
 * signal fires (shutdown, loss of leadership, release).
 */
import type { Clock } from '../../contracts/index.js';
import type { ClassifiedK8sError } from '../../kube/errors.js';
import type { LeaseCallOptions, LeaseCallResult } from './lease-api.js';

function timeoutError(ms: number): ClassifiedK8sError {
  return { kind: 'timeout', message: `lease request did not complete within ${Math.round(ms)} ms` };
}

/** Holds the request in flight, so others (release, loss of leadership) can abort it. */
export interface InFlight {
  current: AbortController | null;
}

export async function callWithDeadline(
  clock: Clock,
  run: (options: LeaseCallOptions) => Promise<LeaseCallResult>,
  timeoutMs: number,
  outer: AbortSignal,
  inFlight: InFlight,
): Promise<LeaseCallResult> {
  const controller = new AbortController();
  const timer = new AbortController();
  inFlight.current = controller;
  const onOuterAbort = (): void => controller.abort(outer.reason);
  outer.addEventListener('abort', onOuterAbort, { once: true });
  if (outer.aborted) controller.abort(outer.reason);
  const timedOut = clock.sleep(timeoutMs, timer.signal).then(
    () => {
      controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError'));
      return { ok: false, error: timeoutError(timeoutMs) } as LeaseCallResult;
    },
    () => new Promise<LeaseCallResult>(() => undefined),
  );
  const aborted = new Promise<LeaseCallResult>((resolve) => {
    const done = (): void => {
      const reason: unknown = controller.signal.reason;
      const timedOut =
        typeof reason === 'object' &&
        reason !== null &&
        (reason as { name?: unknown }).name === 'TimeoutError';
      resolve({
        ok: false,
        error: {
          kind: timedOut ? 'timeout' : 'unknown',
          message: `lease request aborted: ${String(reason)}`,
        },
      });
    };
    if (controller.signal.aborted) done();
    else controller.signal.addEventListener('abort', done, { once: true });
  });
  try {
    return await Promise.race([run({ timeoutMs, signal: controller.signal }), timedOut, aborted]);
  } catch (error) {
    return { ok: false, error: { kind: 'unknown', message: String(error) } };
  } finally {
    // A fixed reason: the default builds a DOMException with a stack trace on every renewal.
    timer.abort('lease request settled');
    outer.removeEventListener('abort', onOuterAbort);
    if (inFlight.current === controller) inFlight.current = null;
  }
}
