import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface LeaseMetrics {
  observeRenewDuration(seconds: number): void;
  countError(kind: string): void;
  setLastRenew(wallTime: Date): void;
  setLeader(isLeader: boolean): void;
}

const NOOP: LeaseMetrics = {
  observeRenewDuration: () => undefined,
  countError: () => undefined,
  setLastRenew: () => undefined,
  setLeader: () => undefined,
};

/** Reuses metrics already in the registry, so several electors (tests, restarts) can share it. */
function getOrCreate<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

export function createLeaseMetrics(registry: Registry | undefined): LeaseMetrics {
  if (registry === undefined) return NOOP;
  const renewDuration = getOrCreate(
    registry,
    'cardano_forge_lease_renew_duration_seconds',
    () =>
      new Histogram({
        name: 'cardano_forge_lease_renew_duration_seconds',
        help: 'Duration of successful lease acquire/renew writes (send to response).',
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [registry],
      }),
  );
  const errors = getOrCreate(
    registry,
    'cardano_forge_lease_request_errors_total',
    () =>
      new Counter({
        name: 'cardano_forge_lease_request_errors_total',
        help: 'Failed lease API requests by error kind (conflict, timeout, network, ...).',
        labelNames: ['kind'],
        registers: [registry],
      }),
  );
  const lastRenew = getOrCreate(
    registry,
    'cardano_forge_lease_last_renew_timestamp_seconds',
    () =>
      new Gauge({
        name: 'cardano_forge_lease_last_renew_timestamp_seconds',
        help: 'Wall-clock time of the last successful acquire/renew of the lease by this candidate.',
        registers: [registry],
      }),
  );
  const isLeader = getOrCreate(
    registry,
    'cardano_forge_lease_is_leader',
    () =>
      new Gauge({
        name: 'cardano_forge_lease_is_leader',
        help: '1 while this candidate holds the lease within its renew deadline, else 0.',
        registers: [registry],
      }),
  );
  return {
    observeRenewDuration: (seconds) => renewDuration.observe(seconds),
    countError: (kind) => errors.inc({ kind }),
    setLastRenew: (wallTime) => lastRenew.set(wallTime.getTime() / 1000),
    setLeader: (leader) => isLeader.set(leader ? 1 : 0),
  };
}
