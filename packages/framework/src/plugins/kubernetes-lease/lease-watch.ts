/**
 * Keeps one watch of the Lease open: restarted after every end, with backoff after failures,
 * and closed while the elector leads (LeaseWatchGate). The elector learns of each event and of
 * each end (then it polls until a new watch delivers).
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

/**
 * Closes the watch while `paused` (the elector pauses it while it leads: its renewals are
 * compare-and-swap writes, so a foreign write shows up as the next renewal's 409 anyway, and
 * the leader is spared decoding an event for each of its own renewals) and opens it again when
 * unpaused.
 */
export class LeaseWatchGate {
  #paused = false;
  #onChange: (() => void) | null = null;

  get paused(): boolean {
    return this.#paused;
  }

  set(paused: boolean): void {
    if (paused === this.#paused) return;
    this.#paused = paused;
    this.#onChange?.();
  }

  /** The watch loop's hook: called on every change (one listener at a time). */
  listen(onChange: (() => void) | null): void {
    this.#onChange = onChange;
  }
}

/** Resolves once `gate` is unpaused or `signal` aborts. */
function whilePaused(gate: LeaseWatchGate, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      gate.listen(null);
      signal.removeEventListener('abort', done);
      resolve();
    };
    if (!gate.paused || signal.aborted) return resolve();
    signal.addEventListener('abort', done, { once: true });
    gate.listen(() => {
      if (!gate.paused) done();
    });
  });
}

const PAUSED = Symbol('paused');

export async function runLeaseWatch(
  deps: LeaseWatchLoopDeps,
  listener: LeaseWatchListener,
  signal: AbortSignal,
  gate: LeaseWatchGate = new LeaseWatchGate(),
): Promise<void> {
  const baseBackoffMs = Math.min(500, deps.retryPeriodMs);
  const maxBackoffMs = Math.max(baseBackoffMs, 30_000);
  let backoffMs = baseBackoffMs;
  while (!signal.aborted) {
    if (gate.paused) {
      await whilePaused(gate, signal);
      continue;
    }
    let sawEvent = false;
    listener.opening();
    let handle: { stop(): void } | null = null;
    const error = await new Promise<ClassifiedK8sError | null | typeof PAUSED>((resolve) => {
      const onAbort = (): void => resolve(null);
      signal.addEventListener('abort', onAbort, { once: true });
      gate.listen(() => {
        if (!gate.paused) return;
        signal.removeEventListener('abort', onAbort);
        resolve(PAUSED);
      });
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
    gate.listen(null);
    (handle as { stop(): void } | null)?.stop();
    if (signal.aborted) break;
    listener.ended();
    if (error === PAUSED) {
      deps.log.debug('lease watch closed while leading');
      backoffMs = baseBackoffMs;
      continue;
    }
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
