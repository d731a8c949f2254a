/**
 * The health loop of the lease holder: a round of every probe each interval (cluster/health.ts),
 * failure counting with recovery hysteresis, and the health metrics. Only the pod that holds the
 * lease probes, so followers never overwrite the leader's view (G7, G13).
 */
import type { Logger } from 'pino';
import type { Clock, HealthProbe } from '../contracts/index.js';
import type { ClusterMetrics } from './cluster-metrics.js';
import {
  INITIAL_HEALTH_COUNTERS,
  nextHealthCounters,
  runHealthRound,
  type HealthCounters,
} from './health.js';
import type { TimedHealthRound } from './policy-snapshot.js';

export interface HealthSettings {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly recoveryThreshold: number;
}

export interface HealthLoopDeps {
  readonly probes: readonly HealthProbe[];
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: ClusterMetrics;
  /** Read before every round: spec.healthCheck may change them at any time. */
  readonly settings: () => HealthSettings;
  /** Called after every round. */
  readonly onRound: () => void;
}

export interface HealthLoop {
  /** Starts probing (no-op without probes or when running), continuing from `failures`. */
  start(failures: number): void;
  /** Stops probing (the manager stops); the last round stays readable. */
  stop(): void;
  /** Stops probing and forgets the last round: a follower shows the leader's view. */
  resign(): void;
  counters(): HealthCounters;
  lastRound(): TimedHealthRound | null;
  /** Settles when the loop that ran last has ended. */
  done(): Promise<void>;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function createHealthLoop(deps: HealthLoopDeps): HealthLoop {
  const { probes, clock, metrics } = deps;
  const log = deps.logger;
  let counters: HealthCounters = INITIAL_HEALTH_COUNTERS;
  let lastRound: TimedHealthRound | null = null;
  let running: AbortController | null = null;
  let loopDone: Promise<void> = Promise.resolve();

  async function loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const settings = deps.settings();
      const round = await runHealthRound(probes, clock, settings.timeoutMs, signal);
      if (signal.aborted) return;
      counters = nextHealthCounters(counters, round.healthy, settings.recoveryThreshold);
      const finished: TimedHealthRound = { ...round, atWall: clock.wallNow() };
      lastRound = finished;
      metrics.recordHealthRound(round, counters, finished.atWall);
      if (!round.healthy)
        log.warn({ failures: counters.consecutiveFailures, detail: round.detail }, 'health round failed');
      deps.onRound();
      try {
        await clock.sleep(settings.intervalMs, signal);
      } catch {
        return;
      }
    }
  }

  function stop(): void {
    running?.abort(new Error('no longer the local leader'));
    running = null;
  }

  return {
    start(failures) {
      if (probes.length === 0 || running !== null) return;
      // Continue from the count the previous leader published, so a failover does not wipe a penalty.
      counters = { consecutiveFailures: failures, recoveryStreak: 0 };
      lastRound = null;
      const controller = new AbortController();
      running = controller;
      loopDone = loop(controller.signal).catch((error: unknown) =>
        log.error({ err: describe(error) }, 'health loop crashed'),
      );
    },
    stop,
    resign() {
      stop();
      lastRound = null;
    },
    counters: () => counters,
    lastRound: () => lastRound,
    done: () => loopDone,
  };
}
