/**
 * What `validate` and `run` say about the coordination mode, from the config alone (no imports
 * beyond the config type, so the CLI pays nothing for it).
 */
import type { ResolvedConfig } from '../../config/schema.js';

/** One line naming the mode in force. */
export function coordinationModeLine(config: ResolvedConfig): string {
  return config.etcdArbiter.enabled
    ? `coordination mode: global — one forger across regions via etcd (${config.etcdArbiter.endpoints.length} endpoint(s), region ${config.etcdArbiter.region ?? config.cluster.region})`
    : 'coordination mode: cluster — the Kubernetes Lease alone, no etcd';
}

/** Settings that do nothing in the mode in force. */
export function coordinationWarnings(config: ResolvedConfig): string[] {
  const warnings: string[] = [];
  const n = config.plugins.health.length;
  if (n > 0 && !config.etcdArbiter.enabled)
    warnings.push(
      config.cluster.enabled
        ? `${n} health plugin(s) configured without cross-region mode (etcdArbiter.enabled): their results only change this cluster's effective priority, which decides nothing within one cluster`
        : `${n} health plugin(s) configured with neither cluster management (cluster.enabled) nor cross-region mode (etcdArbiter.enabled): they run for nothing`,
    );
  return warnings;
}
