/**
 * The options the built-in plugins take from the config sections (and so from the Python sidecar's
 * env vars) before a ref's own options merge over them. An unset election.leaseName is computed by
 * the naming rules (cluster/naming.ts), the same name the cluster manager uses (the Python sidecar
 * computed it and then ignored it, G12).
 */
import { namesFromConfig } from '../cluster/naming.js';
import type { ResolvedConfig } from '../config/schema.js';

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

export function builtinDefaultOptions(
  builtinName: string,
  config: ResolvedConfig,
): Record<string, unknown> | undefined {
  switch (builtinName) {
    case 'kubernetes-lease': {
      const names = namesFromConfig(config);
      return withoutUndefined({
        namespace: config.namespace,
        identity: config.podName,
        leaseName: names.leaseName,
        legacyLeaseName: names.legacyLeaseName ?? undefined,
        leaseDurationSeconds: config.election.leaseDurationSeconds,
        renewDeadlineSeconds: config.election.renewDeadlineSeconds,
        retryPeriodSeconds: config.election.retryPeriodSeconds,
      });
    }
    case 'files':
      return { source: { ...config.credentials.source }, target: { ...config.credentials.target } };
    default:
      return undefined;
  }
}
