/**
 * `forge-manager status`: one table across the pool's clusters (every --context), built by a pure
 * function from the CardanoForgeCluster, CardanoLeader and Lease objects.
 */
import type { V1Lease } from '@kubernetes/client-node';
import { poolKey, type Located } from './find.js';
import { MAINTENANCE_ANNOTATION } from './maintenance.js';
import type { LeaderObject } from './kube.js';

export interface ClusterRow {
  readonly context: string;
  readonly namespace: string;
  readonly cluster: string;
  readonly region: string;
  readonly state: string;
  readonly effectiveState: string | null;
  readonly priority: number;
  readonly effectivePriority: number | null;
  readonly health: string;
  readonly leader: string;
  readonly forging: boolean;
  readonly since: string | null;
  readonly override: string | null;
  readonly maintenance: boolean;
  /** network/pool id: clusters with the same key belong to one pool. */
  readonly pool: string;
}

export interface LeaseRow {
  readonly context: string;
  readonly namespace: string;
  readonly lease: string;
  readonly holder: string;
  readonly renewed: string | null;
  readonly transitions: number;
  /** What the CardanoLeader of the same name reports. */
  readonly leaderPod: string | null;
  readonly forging: boolean | null;
}

export interface StatusView {
  readonly clusters: readonly ClusterRow[];
  readonly leases: readonly LeaseRow[];
}

function health(located: Located): string {
  const status = located.cluster.status;
  const h = status?.healthStatus;
  if (h?.healthy === true) return 'healthy';
  if (h?.healthy === false) return `failing (${h.consecutiveFailures ?? '?'})`;
  const condition = status?.conditions?.find((c) => c.type === 'HealthCheckPassing');
  return condition?.reason === 'NoProbesConfigured' ? 'no probes' : (condition?.reason ?? 'unknown');
}

/** Leases the forge manager uses: the names its CardanoLeaders carry, or its naming patterns. */
function isForgeLease(lease: V1Lease, leaderNames: ReadonlySet<string>): boolean {
  const name = lease.metadata?.name ?? '';
  return leaderNames.has(name) || name.startsWith('cardano-leader-') || name === 'cardano-node-leader';
}

export function statusView(
  clusters: readonly Located[],
  perTarget: ReadonlyArray<{
    context: string;
    namespace: string;
    leaders: readonly LeaderObject[];
    leases: readonly V1Lease[];
  }>,
): StatusView {
  const clusterRows = clusters.map((l): ClusterRow => {
    const { spec, status, metadata } = l.cluster;
    const override = spec?.override?.enabled
      ? status?.override?.active
        ? (status.override.message ?? 'active')
        : `inactive: ${status?.override?.message ?? 'not evaluated yet'}`
      : null;
    return {
      context: l.target.context,
      namespace: l.target.namespace,
      cluster: metadata.name,
      region: spec?.region ?? '',
      state: spec?.forgeState ?? 'Priority-based',
      effectiveState: status?.effectiveState ?? null,
      priority: spec?.priority ?? 100,
      effectivePriority: status?.effectivePriority ?? null,
      health: health(l),
      leader: status?.activeLeader ?? '',
      forging: status?.forgingEnabled === true,
      since: status?.lastTransition ?? null,
      override,
      maintenance: metadata.annotations?.[MAINTENANCE_ANNOTATION] !== undefined,
      pool: poolKey(l.cluster),
    };
  });
  const leaseRows = perTarget.flatMap((t) => {
    const leaders = new Map(t.leaders.map((l) => [l.metadata.name, l]));
    const names = new Set(leaders.keys());
    return t.leases
      .filter((lease) => isForgeLease(lease, names))
      .map((lease): LeaseRow => {
        const name = lease.metadata?.name ?? '';
        const leader = leaders.get(name);
        const renew = lease.spec?.renewTime;
        return {
          context: t.context,
          namespace: t.namespace,
          lease: name,
          holder: lease.spec?.holderIdentity ?? '',
          renewed: renew ? new Date(renew as unknown as string | Date).toISOString() : null,
          transitions: lease.spec?.leaseTransitions ?? 0,
          leaderPod: leader ? (leader.status?.leaderPod ?? '') : null,
          forging: leader ? leader.status?.forgingEnabled === true : null,
        };
      });
  });
  return { clusters: clusterRows, leases: leaseRows };
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const arrow = (spec: string | number, effective: string | number | null) => `${spec} → ${effective ?? '?'}`;

export function renderStatus(view: StatusView): string {
  const clusterTable = table(
    ['CONTEXT', 'CLUSTER', 'REGION', 'STATE', 'PRIORITY', 'HEALTH', 'LEADER', 'FORGING', 'SINCE'],
    view.clusters.map((r) => [
      r.context,
      r.cluster,
      r.region,
      arrow(r.state, r.effectiveState) + (r.maintenance ? ' (maintenance)' : r.override ? ' (override)' : ''),
      arrow(r.priority, r.effectivePriority),
      r.health,
      r.leader || '-',
      r.forging ? 'yes' : 'no',
      r.since ?? '-',
    ]),
  );
  const overrides = view.clusters
    .filter((r) => r.override !== null)
    .map((r) => `  ${r.context}/${r.cluster}: ${r.override}`);
  const leaseTable = table(
    ['CONTEXT', 'LEASE', 'HOLDER', 'RENEWED', 'TRANSITIONS', 'CARDANOLEADER', 'FORGING'],
    view.leases.map((r) => [
      r.context,
      r.lease,
      r.holder || '-',
      r.renewed ?? '-',
      String(r.transitions),
      r.leaderPod === null ? '(none)' : r.leaderPod || '-',
      r.forging === null ? '-' : r.forging ? 'yes' : 'no',
    ]),
  );
  const lines = [clusterTable];
  if (overrides.length > 0) lines.push('', 'Overrides:', ...overrides);
  lines.push('', leaseTable);
  for (const pool of new Set(view.clusters.map((r) => r.pool))) {
    const forgers = view.clusters.filter((r) => r.pool === pool && r.forging);
    if (forgers.length > 1)
      lines.push(
        '',
        `WARNING: ${forgers.length} clusters of pool ${pool} report forging (${forgers.map((r) => `${r.context}/${r.cluster}`).join(', ')}); at most one may forge`,
      );
  }
  return `${lines.join('\n')}\n`;
}
