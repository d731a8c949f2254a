// What the lab observes, shared by the single-region and the regions mode: a pod (its node's own
// forging metric, its sidecar's decision) and the CardanoForgeClusters of a namespace.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { ForgePod } from '../support/forge-pod.ts';
import type { ClusterObservation, PodObservation } from './view.ts';

export async function observePod(pod: ForgePod): Promise<PodObservation> {
  const node = pod.node;
  const nodeRunning = node?.isRunning() ?? false;
  const sidecarRunning =
    pod.sidecar !== null && pod.sidecar.exitCode === null && pod.sidecar.signalCode === null;
  const [status, metrics] = await Promise.all([
    sidecarRunning ? pod.status() : Promise.resolve(null),
    nodeRunning && node ? node.metrics(1500).catch(() => null) : Promise.resolve(null),
  ]);
  return {
    name: pod.options.name,
    sidecarPid: sidecarRunning ? (pod.sidecar?.pid ?? null) : null,
    nodePid: nodeRunning ? (node?.pid ?? null) : null,
    nodeRunning,
    nodeForging: metrics === null ? null : metrics.forgingEnabled,
    sidecar: status
      ? { forge: status.decision.forge, leader: status.decision.leader, reason: status.decision.reason }
      : null,
  };
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}

export function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function arbiterOf(value: unknown): ClusterObservation['arbiter'] {
  if (typeof value !== 'object' || value === null) return null;
  const arbiter = value as Record<string, unknown>;
  return {
    forgingRegion: stringOrNull(arbiter.forgingRegion),
    rank: numberOrNull(arbiter.rank),
    role: stringOrNull(arbiter.role),
    reason: stringOrNull(arbiter.reason),
  };
}

export async function observeClusters(kc: KubeConfig, namespace: string): Promise<ClusterObservation[]> {
  const list = (await kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({
    group: 'cardano.io',
    version: 'v1',
    namespace,
    plural: 'cardanoforgeclusters',
  })) as { items?: Array<Record<string, Record<string, unknown> | undefined>> };
  return (list.items ?? []).map((item) => {
    const spec = item.spec ?? {};
    const status = item.status ?? {};
    const health = status.healthStatus as { healthy?: unknown } | undefined;
    return {
      name: String(item.metadata?.name ?? '?'),
      basePriority: numberOrNull(spec.priority),
      effectivePriority: numberOrNull(status.effectivePriority),
      effectiveState: stringOrNull(status.effectiveState),
      healthy: typeof health?.healthy === 'boolean' ? health.healthy : null,
      activeLeader: stringOrNull(status.activeLeader),
      reason: stringOrNull(status.reason),
      arbiter: arbiterOf(status.globalArbiter),
    };
  });
}
