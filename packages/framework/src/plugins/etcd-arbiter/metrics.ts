/**
 * Prometheus metrics of the cross-region arbiter: etcd connectivity, keepalive latency, the
 * global fencing deadline, and who forges. Registered into the manager's registry.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ArbiterSnapshot } from './arbiter.js';

export interface ArbiterMetrics {
  observeKeepAlive(seconds: number): void;
  countCall(call: string, outcome: 'ok' | 'timeout' | 'error'): void;
  update(snapshot: ArbiterSnapshot, region: string): void;
}

function getOrCreate<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

export function createArbiterMetrics(registry: Registry, wallOffsetMs: () => number): ArbiterMetrics {
  const keepAlive = getOrCreate(
    registry,
    'cardano_forge_etcd_keepalive_duration_seconds',
    () =>
      new Histogram({
        name: 'cardano_forge_etcd_keepalive_duration_seconds',
        help: 'Round trip of acknowledged etcd lease keepalives (send to answer).',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
        registers: [registry],
      }),
  );
  const calls = getOrCreate(
    registry,
    'cardano_forge_etcd_requests_total',
    () =>
      new Counter({
        name: 'cardano_forge_etcd_requests_total',
        help: 'etcd calls of the arbiter by call and outcome (ok, timeout, error).',
        labelNames: ['call', 'outcome'],
        registers: [registry],
      }),
  );
  const connected = getOrCreate(
    registry,
    'cardano_forge_etcd_connected',
    () =>
      new Gauge({
        name: 'cardano_forge_etcd_connected',
        help: '1 when the last arbiter round reached etcd (keepalive and read answered), else 0.',
        registers: [registry],
      }),
  );
  const holder = getOrCreate(
    registry,
    'cardano_forge_global_forger',
    () =>
      new Gauge({
        name: 'cardano_forge_global_forger',
        help: '1 when this pod holds the global forger key (confirmed or possibly), else 0.',
        labelNames: ['region'],
        registers: [registry],
      }),
  );
  const deadline = getOrCreate(
    registry,
    'cardano_forge_global_fencing_deadline_timestamp_seconds',
    () =>
      new Gauge({
        name: 'cardano_forge_global_fencing_deadline_timestamp_seconds',
        help: 'Wall-clock time at which this holder stops forging unless etcd confirms its hold again (0 when not holding).',
        registers: [registry],
      }),
  );
  const rank = getOrCreate(
    registry,
    'cardano_forge_global_rank',
    () =>
      new Gauge({
        name: 'cardano_forge_global_rank',
        help: "This region's rank among eligible candidates (1 = best); absent when not ranked.",
        labelNames: ['region'],
        registers: [registry],
      }),
  );
  return {
    observeKeepAlive: (seconds) => keepAlive.observe(seconds),
    countCall: (call, outcome) => calls.inc({ call, outcome }),
    update(snapshot, region) {
      connected.set(snapshot.connected ? 1 : 0);
      holder.set({ region }, snapshot.held ? 1 : 0);
      deadline.set(snapshot.leaderUntilMs > 0 ? (snapshot.leaderUntilMs + wallOffsetMs()) / 1000 : 0);
      if (snapshot.status.rank === null) rank.remove({ region });
      else rank.set({ region }, snapshot.status.rank);
    },
  };
}
