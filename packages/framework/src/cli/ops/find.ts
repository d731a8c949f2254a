/** Finding CardanoForgeClusters by name across the requested contexts. */
import { listClusters, OpsError, type ClusterObject, type Target } from './kube.js';

export interface Located {
  readonly target: Target;
  readonly cluster: ClusterObject;
}

export async function listAll(targets: readonly Target[]): Promise<Located[]> {
  const found: Located[] = [];
  for (const target of targets)
    for (const cluster of await listClusters(target)) found.push({ target, cluster });
  return found;
}

/** The one cluster of that name; an unknown or ambiguous name is a usage error listing the choices. */
export function pick(all: readonly Located[], name: string, targets: readonly Target[]): Located {
  const matches = all.filter((l) => l.cluster.metadata.name === name);
  const where = targets.map((t) => `${t.context}/${t.namespace}`).join(', ');
  if (matches.length === 0)
    throw new OpsError(
      `no CardanoForgeCluster "${name}" in ${where} (found: ${all.map((l) => l.cluster.metadata.name).join(', ') || 'none'}); pass --context for the region it is in`,
      2,
    );
  if (matches.length > 1)
    throw new OpsError(
      `CardanoForgeCluster "${name}" exists in several contexts (${matches.map((m) => m.target.context).join(', ')}); pass one --context`,
      2,
    );
  return matches[0]!;
}

/** Clusters of the same pool: same network and pool id (or ticker, or both empty = legacy). */
export function poolKey(cluster: ClusterObject): string {
  const spec = cluster.spec ?? {};
  return `${spec.network?.name ?? ''}/${spec.pool?.id ?? spec.pool?.ticker ?? ''}`;
}
