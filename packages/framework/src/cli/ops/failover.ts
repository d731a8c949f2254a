/**
 * `forge-manager failover --to <cluster> [--for 2h]`: moves forging to one cluster of a pool with
 * overrides (docs/cluster-policy.md): every other cluster of the same pool gets
 * `override.forceState: Disabled`, then the target gets `override.forcePriority: 1` (it stays
 * Priority-based, so health and cross-cluster priority still apply to it). With --for, each
 * override carries `expiresAt` and lapses by itself; without, it stays until `failover --clear`.
 * The others are disabled before the target is preferred (fail closed: a partial run leaves
 * fewer forgers, never more). Overrides it wrote are marked with an annotation; an override
 * someone else set is never overwritten.
 */
import { listAll, pick, poolKey, type Located } from './find.js';
import { OpsError, patchCluster, type ClusterObject, type Target } from './kube.js';

export const FAILOVER_ANNOTATION = 'cardano.io/failover-to';

export interface FailoverStep {
  readonly context: string;
  readonly cluster: string;
  readonly override: string;
}

/** "2h", "90m", "1h30m", "45s" → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text.trim());
  if (!match || text.trim() === '')
    throw new OpsError(`--for expects a duration like 2h, 90m, 1h30m or 45s, got ${JSON.stringify(text)}`, 2);
  const ms = ((Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0)) * 60 + Number(match[3] ?? 0)) * 1000;
  if (ms <= 0) throw new OpsError(`--for must be longer than 0, got ${JSON.stringify(text)}`, 2);
  return ms;
}

function ours(cluster: ClusterObject): boolean {
  return cluster.metadata.annotations?.[FAILOVER_ANNOTATION] !== undefined;
}

function refuseForeignOverride(located: Located): void {
  const override = located.cluster.spec?.override;
  if (override?.enabled && !ours(located.cluster))
    throw new OpsError(
      `${located.target.context}/${located.cluster.metadata.name} has an override set by someone else (${override.reason ?? 'no reason given'}); clear it first (spec.override.enabled=false) — failover does not overwrite it`,
    );
}

function overridePatch(
  cluster: ClusterObject,
  to: string,
  override: { forceState: string | null; forcePriority: number | null },
  expiresAt: string | null,
  reason: string,
): object {
  return {
    metadata: {
      resourceVersion: cluster.metadata.resourceVersion,
      annotations: { [FAILOVER_ANNOTATION]: to },
    },
    spec: { override: { enabled: true, reason, expiresAt, ...override } },
  };
}

export async function failover(
  targets: readonly Target[],
  to: string,
  forMs: number | null,
  now: Date,
): Promise<FailoverStep[]> {
  const all = await listAll(targets);
  const target = pick(all, to, targets);
  if ((target.cluster.spec?.forgeState ?? 'Priority-based') === 'Disabled')
    throw new OpsError(
      `${to}: forgeState is Disabled (maintenance?); it cannot take over forging — run forge-manager maintenance ${to} off first`,
    );
  const pool = poolKey(target.cluster);
  const others = all.filter((l) => l !== target && poolKey(l.cluster) === pool);
  for (const l of [target, ...others]) refuseForeignOverride(l);
  const expiresAt = forMs === null ? null : new Date(now.getTime() + forMs).toISOString();
  const until = expiresAt ? `until ${expiresAt}` : 'until forge-manager failover --clear';
  const reason = `failover to ${to} by forge-manager (${until})`;
  const steps: FailoverStep[] = [];
  for (const other of others) {
    await patchCluster(
      other.target,
      other.cluster.metadata.name,
      overridePatch(other.cluster, to, { forceState: 'Disabled', forcePriority: null }, expiresAt, reason),
      `disable ${other.cluster.metadata.name} for the failover (done so far: ${steps.map((s) => s.cluster).join(', ') || 'nothing'})`,
    );
    steps.push({
      context: other.target.context,
      cluster: other.cluster.metadata.name,
      override: `forceState Disabled ${until}`,
    });
  }
  await patchCluster(
    target.target,
    to,
    overridePatch(target.cluster, to, { forceState: null, forcePriority: 1 }, expiresAt, reason),
    `prefer ${to} (the other clusters are already disabled: ${steps.map((s) => s.cluster).join(', ') || 'none'})`,
  );
  steps.push({ context: target.target.context, cluster: to, override: `forcePriority 1 ${until}` });
  return steps;
}

/** Removes the overrides failover wrote: the target's preference first, then the others' Disabled. */
export async function clearFailover(targets: readonly Target[]): Promise<FailoverStep[]> {
  const marked = (await listAll(targets)).filter((l) => ours(l.cluster));
  if (marked.length === 0) throw new OpsError('no failover override found (nothing to clear)', 2);
  const isTarget = (l: Located) =>
    l.cluster.metadata.annotations?.[FAILOVER_ANNOTATION] === l.cluster.metadata.name;
  const ordered = [...marked.filter(isTarget), ...marked.filter((l) => !isTarget(l))];
  const steps: FailoverStep[] = [];
  for (const l of ordered) {
    await patchCluster(
      l.target,
      l.cluster.metadata.name,
      {
        metadata: {
          resourceVersion: l.cluster.metadata.resourceVersion,
          annotations: { [FAILOVER_ANNOTATION]: null },
        },
        spec: { override: { enabled: false } },
      },
      `clear the failover override of ${l.cluster.metadata.name}`,
    );
    steps.push({ context: l.target.context, cluster: l.cluster.metadata.name, override: 'cleared' });
  }
  return steps;
}
