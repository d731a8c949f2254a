/**
 * Built-in LeaderElector plugin `kubernetes-lease`: one coordination.k8s.io/v1 Lease in the
 * local cluster, client-go semantics (see elector.ts).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock, LeaderElector } from '../../contracts/index.js';
import { definePlugin } from '../../plugin/define.js';
import { randomUUID } from 'node:crypto';
import { createLeaseElector } from './elector.js';
import { createKubernetesLeaseApi } from './lease-api.js';
import { createMultiLeaseElector } from './multi-lease.js';
import {
  assertValidLeaseTiming,
  kubernetesLeaseOptionsSchema,
  type KubernetesLeaseOptions,
} from './options.js';

export * from './options.js';
export * from './lease-api.js';
export * from './record.js';
export {
  KubernetesLeaseElector,
  LeaseReason,
  createLeaseElector,
  incarnationIdentity,
  type LeaseElectorDeps,
} from './elector.js';
export { MultiLeaseElector, createMultiLeaseElector } from './multi-lease.js';
// The in-memory FakeLeaseStore is exported from '@cardano-forge/framework/testing', not from here.

export interface KubernetesLeaseElectorDeps {
  readonly kubeConfig: KubeConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry?: Registry | undefined;
}

/**
 * Throws (naming the options) when the timing violates leaseDuration > renewDeadline > 1.2·retryPeriod > 0.
 * With `legacyLeaseName` the candidate must hold both leases to lead (multi-lease.ts).
 */
export function createKubernetesLeaseElector(
  deps: KubernetesLeaseElectorDeps,
  options: KubernetesLeaseOptions,
): LeaderElector {
  // Validate before touching the KubeConfig, so bad timing is reported as such.
  assertValidLeaseTiming(options);
  // The same name twice is one lease (e.g. leaseName set explicitly to the legacy name).
  const legacyName = options.legacyLeaseName === options.leaseName ? undefined : options.legacyLeaseName;
  const incarnationId = randomUUID();
  const api = createKubernetesLeaseApi(deps.kubeConfig, options.namespace, options.leaseName);
  const primary = createLeaseElector(
    api,
    { clock: deps.clock, logger: deps.logger, registry: deps.registry, incarnationId },
    options,
  );
  if (legacyName === undefined) return primary;
  // The lease metrics describe the primary lease; the legacy one only gates it.
  const legacy = createLeaseElector(
    createKubernetesLeaseApi(deps.kubeConfig, options.namespace, legacyName),
    { clock: deps.clock, logger: deps.logger, incarnationId },
    { ...options, leaseName: legacyName },
  );
  // Loud on purpose: every pool of the namespace that uses the default shares the legacy lease
  // (as the Python sidecars did), so only one of them forges until this is turned off.
  deps.logger.warn(
    { lease: options.leaseName, legacyLease: legacyName },
    'holding the Python sidecar lease too, so old and new pods never forge together; once no Python sidecar is left (and always when several pools share this namespace without LEASE_NAME), set election.legacyLeaseName: false',
  );
  return createMultiLeaseElector(primary, legacy);
}

export const kubernetesLeasePlugin = definePlugin({
  kind: 'leader-elector',
  name: 'kubernetes-lease',
  version: '0.1.0',
  description:
    'Leader election on a coordination.k8s.io/v1 Lease in the local cluster (client-go semantics, request timeouts, self-fencing renew deadline, release on handover).',
  optionsSchema: kubernetesLeaseOptionsSchema,
  create(context, options) {
    return createKubernetesLeaseElector(
      {
        kubeConfig: context.kube.config(),
        clock: context.clock,
        logger: context.logger,
        registry: context.metrics.registry,
      },
      {
        ...options,
        namespace: options.namespace ?? context.identity.namespace,
        identity: options.identity ?? context.identity.podName,
      },
    );
  },
});
