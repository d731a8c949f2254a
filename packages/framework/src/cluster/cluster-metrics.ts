/**
 * The cluster manager's metrics, registered into the manager's own Registry (get-or-create, so two
 * managers on one registry — tests, two pools — share the series instead of failing to register).
 */
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { HealthCounters, HealthRound } from './health.js';

export interface ClusterMetricLabels {
  readonly cluster: string;
  readonly region: string;
  readonly network: string;
  /** The short pool id ('unknown' when no pool id is configured). */
  readonly poolId: string;
}

export interface ClusterMetrics {
  /** One health round on the leader: pass/fail, consecutive failures, duration, last success. */
  recordHealthRound(round: HealthRound, counters: HealthCounters, atWall: Date): void;
  /** Whether this pod may forge by the cluster policy, and the effective priority once it is known. */
  recordPolicy(forgeEnabled: boolean, effectivePriority: number | null): void;
}

function getOrCreateGauge(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly string[],
): Gauge<string> {
  const existing = registry.getSingleMetric(name);
  return existing instanceof Gauge ? existing : new Gauge({ name, help, labelNames, registers: [registry] });
}

function getOrCreateHistogram(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly string[],
): Histogram<string> {
  const existing = registry.getSingleMetric(name);
  return existing instanceof Histogram
    ? existing
    : new Histogram({
        name,
        help,
        labelNames,
        buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers: [registry],
      });
}

export function createClusterMetrics(registry: Registry, labels: ClusterMetricLabels): ClusterMetrics {
  const clusterLabel = { cluster: labels.cluster };
  const forgeLabels = {
    cluster: labels.cluster,
    region: labels.region,
    network: labels.network,
    pool_id: labels.poolId,
  };
  const success = getOrCreateGauge(
    registry,
    'cardano_cluster_health_check_success',
    '1 if the last health round on this leader passed every probe, 0 if not',
    ['cluster'],
  );
  const failures = getOrCreateGauge(
    registry,
    'cardano_cluster_health_check_consecutive_failures',
    'Consecutive failed health rounds (after recovery hysteresis)',
    ['cluster'],
  );
  const duration = getOrCreateHistogram(
    registry,
    'cardano_cluster_health_check_duration_seconds',
    'Duration of a health round (all probes, in parallel)',
    ['cluster'],
  );
  const lastSuccess = getOrCreateGauge(
    registry,
    'cardano_cluster_health_check_last_success_timestamp_seconds',
    'Wall-clock time of the last healthy round',
    ['cluster'],
  );
  const forgeEnabled = getOrCreateGauge(
    registry,
    'cardano_cluster_forge_enabled',
    '1 if this pod holds the lease and the cluster policy allows forging (global mode: and its region holds the forger key); 0 otherwise (sum by pool_id > 1 means two clusters may forge)',
    ['cluster', 'region', 'network', 'pool_id'],
  );
  const priority = getOrCreateGauge(
    registry,
    'cardano_cluster_forge_priority',
    'Effective priority of this cluster (lower is preferred); absent until the policy is known',
    ['cluster', 'region', 'network', 'pool_id'],
  );
  return {
    recordHealthRound(round, counters, atWall) {
      success.set(clusterLabel, round.healthy ? 1 : 0);
      failures.set(clusterLabel, counters.consecutiveFailures);
      duration.observe(clusterLabel, round.durationMs / 1000);
      if (round.healthy) lastSuccess.set(clusterLabel, atWall.getTime() / 1000);
    },
    recordPolicy(enabled, effectivePriority) {
      forgeEnabled.set(forgeLabels, enabled ? 1 : 0);
      if (effectivePriority !== null) priority.set(forgeLabels, effectivePriority);
    },
  };
}
