/**
 * `@cardano-forge/default-plugins`: the plugin set a sidecar relies on by default, installed as one
 * package (the container image ships it). Installing it puts each plugin next to the framework,
 * where the plugin loader finds them by package name; nothing here is loaded until asked for, so
 * listing the set does not import @kubernetes/client-node.
 */
import type { ForgePlugin } from '@cardano-forge/framework';

/** The packages of the default set, in the order `forge-manager` documents them. */
export const DEFAULT_PLUGIN_PACKAGES = [
  '@cardano-forge/priority-static',
  '@cardano-forge/health-http',
  '@cardano-forge/health-prometheus',
  '@cardano-forge/health-k8s-probe',
] as const;

export type DefaultPluginPackage = (typeof DEFAULT_PLUGIN_PACKAGES)[number];

/** Imports every plugin of the set; keyed by package name. */
export async function loadDefaultPlugins(): Promise<Record<DefaultPluginPackage, ForgePlugin>> {
  const [priorityStatic, healthHttp, healthPrometheus, healthK8sProbe] = await Promise.all([
    import('@cardano-forge/priority-static'),
    import('@cardano-forge/health-http'),
    import('@cardano-forge/health-prometheus'),
    import('@cardano-forge/health-k8s-probe'),
  ]);
  return {
    '@cardano-forge/priority-static': priorityStatic.default,
    '@cardano-forge/health-http': healthHttp.default,
    '@cardano-forge/health-prometheus': healthPrometheus.default,
    '@cardano-forge/health-k8s-probe': healthK8sProbe.default,
  };
}
