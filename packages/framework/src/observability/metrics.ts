import { collectDefaultMetrics, Registry } from 'prom-client';

/** One registry per manager instance (never prom-client's global one), with process metrics. */
export function createMetricsRegistry(options: { defaultMetrics?: boolean; prefix?: string } = {}): Registry {
  const registry = new Registry();
  if (options.defaultMetrics !== false) {
    collectDefaultMetrics(
      options.prefix ? { register: registry, prefix: options.prefix } : { register: registry },
    );
  }
  return registry;
}
