import { definePlugin } from '@cardano-forge/framework';
import { healthK8sProbeOptionsSchema, type HealthK8sProbeOptions } from './options.js';
import { KubernetesHealthProbe } from './probe.js';
import { PLUGIN_NAME, PLUGIN_VERSION } from './version.js';

export const healthK8sProbePlugin = definePlugin<'health-probe', HealthK8sProbeOptions>({
  kind: 'health-probe',
  name: PLUGIN_NAME,
  version: PLUGIN_VERSION,
  description:
    'Kubernetes health probe: pods Ready by label selector, Deployment/StatefulSet available replicas, Node Ready.',
  optionsSchema: healthK8sProbeOptionsSchema,
  create: (context, options) => new KubernetesHealthProbe(context, options),
});

export default healthK8sProbePlugin;
export { PLUGIN_NAME, PLUGIN_VERSION } from './version.js';
export * from './options.js';
export { KubernetesHealthProbe } from './probe.js';
export {
  classifyKubeError,
  evaluateNodes,
  evaluatePods,
  evaluateWorkload,
  isPodReady,
  type CheckOutcome,
  type K8sProbeReason,
} from './evaluate.js';
