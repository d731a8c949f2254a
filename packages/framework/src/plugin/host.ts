/** Default implementations of the shared parts of a PluginContext. */
// Loads the library's KubeConfig without its generated models (kube/kubeconfig.ts).
import { KubeConfig } from '../kube/kubeconfig.js';
import type { Dispatcher } from 'undici';
import { Agent } from '../net/undici.js';
import type { ResolvedConfig } from '../config/schema.js';
import type { ForgeIdentity } from './define.js';

/**
 * A lazily built, cached KubeConfig of the local cluster: in-cluster service account when the
 * kubelet-injected env is present, else KUBECONFIG / ~/.kube/config.
 */
export function createKubeConfigFactory(
  env: Readonly<Record<string, string | undefined>> = process.env,
): () => KubeConfig {
  let cached: KubeConfig | undefined;
  return () => {
    if (cached) return cached;
    const kc = new KubeConfig();
    if (env.KUBERNETES_SERVICE_HOST && env.KUBERNETES_SERVICE_PORT) kc.loadFromCluster();
    else kc.loadFromDefault();
    cached = kc;
    return kc;
  };
}

/** One pooled undici dispatcher per manager, with bounded connect and header timeouts. */
export function createHttpDispatcher(
  options: { connectTimeoutMs?: number; headersTimeoutMs?: number } = {},
): Dispatcher {
  return new Agent({
    connect: { timeout: options.connectTimeoutMs ?? 5_000 },
    headersTimeout: options.headersTimeoutMs ?? 10_000,
    bodyTimeout: options.headersTimeoutMs ?? 10_000,
  });
}

/** The identity every plugin context carries, from the loaded config. */
export function identityFromConfig(config: ResolvedConfig): ForgeIdentity {
  return {
    podName: config.podName,
    namespace: config.namespace,
    network: config.pool.network,
    poolId: config.pool.id,
    region: config.cluster.region,
  };
}
