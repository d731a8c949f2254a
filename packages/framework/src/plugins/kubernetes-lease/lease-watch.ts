/**
 * Keeps one watch of the Lease open: restarted after every end, with backoff after failures.
 * The elector learns of each event and of each end (then it polls until a new watch delivers).
 */
import type { V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Clock } from '../../contracts/index.js';
import type { ClassifiedK8sError } from '../../kube/errors.js';
import type { LeaseApi, LeaseWatchEventType } from './lease-api.js';
import type { LeaseMetrics } from './metrics.js';

export interface LeaseWatchLoopDeps {
  readonly api: LeaseApi;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: LeaseMetrics;
  readonly random: () => number;
  readonly retryPeriodMs: number;
}

export interface LeaseWatchListener {
  /** A watch is being opened (nothing delivered by it yet). */
  opening(): void;
  event(type: LeaseWatchEventType, lease: V1Lease): void;
  /** The watch ended (not called when `signal` stopped it). */
  ended(): void;
}

export async function runLeaseWatch(
  deps: LeaseWatchLoopDeps,
  listener: LeaseWatchListener,
  signal: AbortSignal,
): Promise<void> {
  const baseBackoffMs = Math.min(500, deps.retryPeriodMs);
  const maxBackoffMs = Math.max(baseBackoffMs, 30_000);
  let backoffMs = baseBackoffMs;
  while (!signal.aborted) {
    let sawEvent = false;
    listener.opening();
    let handle: { stop(): void } | null = null;
    const error = await new Promise<ClassifiedK8sError | null>((resolve) => {
      const onAbort = (): void => resolve(null);
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        handle = deps.api.watch(
          (type, lease) => {
            sawEvent = true;
            listener.event(type, lease);
          },
          (err) => {
            signal.removeEventListener('abort', onAbort);
            resolve(err);
          },
        );
      } catch (err) {
        signal.removeEventListener('abort', onAbort);
        resolve({ kind: 'unknown', message: `watch could not start: ${String(err)}` });
      }
    });
    (handle as { stop(): void } | null)?.stop();
    if (signal.aborted) break;
    listener.ended();
    // The client ends quiet watches with a TimeoutError after 30 s: a normal close.
    const normalClose = error === null || error.kind === 'timeout';
    backoffMs = sawEvent || normalClose ? baseBackoffMs : Math.min(backoffMs * 2, maxBackoffMs);
    const delayMs = backoffMs * (1 + deps.random() * 0.2);
    if (normalClose) deps.log.debug({ delayMs }, 'lease watch closed; restarting');
    else {
      deps.metrics.countError(error.kind);
      deps.log.warn(
        { kind: error.kind, status: error.status, message: error.message, delayMs },
        'lease watch failed; restarting after backoff',
      );
    }
    await pause(deps.clock, delayMs, signal);
  }
}

async function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return;
  try {
    await clock.sleep(ms, signal);
  } catch {
    // aborted
  }
}
