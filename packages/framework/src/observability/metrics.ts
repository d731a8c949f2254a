import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * How often the event-loop-lag metrics (nodejs_eventloop_lag_*) sample the loop. prom-client's
 * default, 10 ms, wakes an idle sidecar 100 times a second: ~0.3 s of CPU per minute, more than
 * everything else the sidecar does at steady state; once a second still cost ~0.008 s/min, 4 % of
 * its budget (bench/notes.md). Every 5 s still shows a loop that stalls (a stall shorter than the
 * interval may fall between two samples); the lease timings are seconds, and the loop's own
 * liveness is /health's business (the last tick's age), not this metric's.
 */
export const EVENT_LOOP_SAMPLE_MS = 5000;

/** One registry per manager instance (never prom-client's global one), with process metrics. */
export function createMetricsRegistry(options: { defaultMetrics?: boolean; prefix?: string } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics !== false) {
    collectDefaultMetrics({
      register: registry,
      eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
      ...(options.prefix ? { prefix: options.prefix } : {}),
    });
  }
  return registry;
}
