/**
 * Built-in LeaderElector plugin `kubernetes-lease`: one coordination.k8s.io/v1 Lease in the
 * local cluster, client-go semantics (see elector.ts).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock, LeaderElector } from '../../contracts/index.js';
import { definePlugin } from '../../plugin/define.js';
import { createLeaseElector } from './elector.js';
import { createKubernetesLeaseApi } from './lease-api.js';
import {
  assertValidLeaseTiming,
  kubernetesLeaseOptionsSchema,
  type KubernetesLeaseOptions,
} from './options.js';

export * from './options.js';
export * from './lease-api.js';
export * from './record.js';
export { KubernetesLeaseElector, LeaseReason, createLeaseElector, type LeaseElectorDeps } from './elector.js';
export {
  FakeLeaseStore,
  type FakeLeaseApi,
  type FakeLeaseFault,
  type FakeLeaseWrite,
} from './fake-lease-api.js';

export interface KubernetesLeaseElectorDeps {
  readonly kubeConfig: KubeConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry?: Registry | undefined;
}

/** Throws (naming the options) when the timing violates leaseDuration > renewDeadline > 1.2·retryPeriod > 0. */
export function createKubernetesLeaseElector(
  deps: KubernetesLeaseElectorDeps,
  options: KubernetesLeaseOptions,
): LeaderElector {
  // Validate before touching the KubeConfig, so bad timing is reported as such.
  assertValidLeaseTiming(options);
  const api = createKubernetesLeaseApi(deps.kubeConfig, options.namespace, options.leaseName);
  return createLeaseElector(
    api,
    { clock: deps.clock, logger: deps.logger, registry: deps.registry },
    options,
  );
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
