/**
 * `forge-manager maintenance <cluster> on|off`. The CRD's own "do not forge here" is
 * `spec.forgeState: Disabled` (docs/cluster-policy.md), so maintenance sets it and records the
 * state it replaced in an annotation; `off` restores that state and removes the annotation. The
 * patch carries the resourceVersion read, so a concurrent edit fails instead of being overwritten.
 * An active override that forces a state would beat forgeState, so `on` refuses while one is set.
 */
import { pick, listAll } from './find.js';
import { OpsError, patchCluster, type ClusterObject, type Target } from './kube.js';

export const MAINTENANCE_ANNOTATION = 'cardano.io/maintenance-previous-forge-state';
export const MAINTENANCE_SINCE_ANNOTATION = 'cardano.io/maintenance-since';

export interface MaintenanceResult {
  readonly context: string;
  readonly cluster: string;
  readonly changed: boolean;
  readonly forgeState: string;
  readonly message: string;
}

/** The merge patch for `on`/`off`, or null when nothing is to be done. Pure. */
export function maintenancePatch(
  cluster: ClusterObject,
  mode: 'on' | 'off',
  now: Date,
): { patch: object; forgeState: string; message: string } | null {
  const annotations = cluster.metadata.annotations ?? {};
  const current = cluster.spec?.forgeState ?? 'Priority-based';
  const previous = annotations[MAINTENANCE_ANNOTATION];
  const name = cluster.metadata.name;
  if (mode === 'on') {
    if (previous !== undefined) return null;
    const override = cluster.spec?.override;
    if (override?.enabled && override.forceState !== undefined && override.forceState !== 'Disabled')
      throw new OpsError(
        `${name}: an override forces state ${override.forceState}${override.expiresAt ? ` until ${override.expiresAt}` : ''}, which beats maintenance; clear it first (forge-manager failover --clear, or set spec.override.enabled=false)`,
      );
    return {
      patch: {
        metadata: {
          resourceVersion: cluster.metadata.resourceVersion,
          annotations: {
            [MAINTENANCE_ANNOTATION]: current,
            [MAINTENANCE_SINCE_ANNOTATION]: now.toISOString(),
          },
        },
        spec: { forgeState: 'Disabled' },
      },
      forgeState: 'Disabled',
      message: `${name}: maintenance on (forgeState Disabled, was ${current}); its leader withdraws credentials within one loop interval`,
    };
  }
  if (previous === undefined) {
    if (current === 'Disabled')
      throw new OpsError(
        `${name}: forgeState is Disabled but not by forge-manager maintenance (no ${MAINTENANCE_ANNOTATION} annotation); set spec.forgeState explicitly`,
      );
    return null;
  }
  return {
    patch: {
      metadata: {
        resourceVersion: cluster.metadata.resourceVersion,
        annotations: { [MAINTENANCE_ANNOTATION]: null, [MAINTENANCE_SINCE_ANNOTATION]: null },
      },
      spec: { forgeState: previous },
    },
    forgeState: previous,
    message: `${name}: maintenance off (forgeState ${previous} restored)`,
  };
}

export async function maintenance(
  targets: readonly Target[],
  clusterName: string,
  mode: 'on' | 'off',
  now: Date,
): Promise<MaintenanceResult> {
  const { target, cluster } = pick(await listAll(targets), clusterName, targets);
  const plan = maintenancePatch(cluster, mode, now);
  if (plan === null)
    return {
      context: target.context,
      cluster: clusterName,
      changed: false,
      forgeState: cluster.spec?.forgeState ?? 'Priority-based',
      message: `${clusterName}: maintenance already ${mode}`,
    };
  await patchCluster(target, clusterName, plan.patch, `set maintenance ${mode} on ${clusterName}`);
  return {
    context: target.context,
    cluster: clusterName,
    changed: true,
    forgeState: plan.forgeState,
    message: plan.message,
  };
}
