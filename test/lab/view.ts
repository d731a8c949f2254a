// The lab's status view as a pure function: one snapshot of what the lab observed → the lines to
// draw. Which pod forges comes from each node's own forging metric (what the node has loaded), never
// from the sidecar's belief; the sidecar's decision is shown beside it as the reason.

export interface PodObservation {
  readonly name: string;
  readonly sidecarPid: number | null;
  readonly nodePid: number | null;
  /** The node's forging metric; null when the node runs but its metrics did not answer. */
  readonly nodeForging: boolean | null;
  readonly nodeRunning: boolean;
  /** The sidecar's last decision from /status; null when it did not answer. */
  readonly sidecar: { readonly forge: boolean; readonly leader: boolean; readonly reason: string } | null;
}

export interface ClusterObservation {
  readonly name: string;
  readonly basePriority: number | null;
  readonly effectivePriority: number | null;
  readonly effectiveState: string | null;
  /** null when no health probe writes a health status. */
  readonly healthy: boolean | null;
  readonly activeLeader: string | null;
  readonly reason: string | null;
  /** status.globalArbiter (global mode only): the region that forges, this one's rank and why. */
  readonly arbiter?: {
    readonly forgingRegion: string | null;
    readonly rank: number | null;
    readonly role: string | null;
    readonly reason: string | null;
  } | null;
}

export interface LabSnapshot {
  readonly pods: readonly PodObservation[];
  readonly lease: { readonly holder: string | null; readonly acquiredAt: string | null } | null;
  /** null: cluster management is off in this lab. */
  readonly clusters: readonly ClusterObservation[] | null;
  /** Wall-clock time (ISO) when the set of forging pods last changed, as the lab saw it. */
  readonly forgersSince: string | null;
  /** What the lab is doing (a scripted step); null when idle. */
  readonly activity: string | null;
  readonly keys: string;
}

export type PodState = 'FORGING' | 'standby' | 'UNKNOWN' | 'node down';

/** A node whose metric did not answer may still be forging: it counts as UNKNOWN, never as standby. */
export function podState(pod: PodObservation): PodState {
  if (!pod.nodeRunning) return 'node down';
  if (pod.nodeForging === null) return 'UNKNOWN';
  return pod.nodeForging ? 'FORGING' : 'standby';
}

export function forgingPods(snapshot: LabSnapshot): string[] {
  return snapshot.pods.filter((p) => podState(p) === 'FORGING').map((p) => p.name);
}

function clock(iso: string | null): string {
  return iso === null ? '-' : iso.slice(11, 19);
}

function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

function pad(text: string, width: number): string {
  return fit(text, width).padEnd(width);
}

function forgerLine(snapshot: LabSnapshot): string {
  const forgers = forgingPods(snapshot);
  const unknown = snapshot.pods.filter((p) => podState(p) === 'UNKNOWN').map((p) => p.name);
  const since = `since ${clock(snapshot.forgersSince)}`;
  const head =
    forgers.length === 0
      ? 'forger: none'
      : forgers.length === 1
        ? `forger: ${forgers[0]}`
        : `forger: ${forgers.length} PODS AT ONCE (${forgers.join(', ')}) — invariant broken`;
  const tail = unknown.length > 0 ? `; may be forging (metric unanswered): ${unknown.join(', ')}` : '';
  return `${head} ${since}${tail}`;
}

function clusterLines(clusters: readonly ClusterObservation[] | null): string[] {
  if (clusters === null) return ['cluster management: off'];
  if (clusters.length === 0) return ['cluster management: on; no CardanoForgeCluster yet'];
  return clusters.flatMap((c) => {
    const health = c.healthy === null ? 'no probe' : c.healthy ? 'healthy' : 'UNHEALTHY';
    return [
      `cluster ${c.name}: priority ${c.basePriority ?? '-'} base → ${c.effectivePriority ?? '-'} effective, health ${health}`,
      `  state ${c.effectiveState ?? '-'}, active leader ${c.activeLeader ?? '-'}${c.reason ? `, ${c.reason}` : ''}`,
    ];
  });
}

/** The whole view, each line at most `width` characters. */
export function renderLabView(snapshot: LabSnapshot, width = 100): string[] {
  const lease = snapshot.lease
    ? `lease:  held by ${snapshot.lease.holder ?? 'nobody'} since ${clock(snapshot.lease.acquiredAt)}`
    : 'lease:  not created yet';
  const leaders = snapshot.pods.filter((p) => p.sidecar?.leader).map((p) => p.name);
  const header = `${pad('pod', 14)} ${pad('node', 9)} ${pad('sidecar says', 13)} ${pad('pids s/n', 13)} why (sidecar decision)`;
  const rows = snapshot.pods.map((p) => {
    const says =
      p.sidecar === null
        ? 'no answer'
        : `${p.sidecar.forge ? 'forge' : 'standby'}${p.sidecar.leader ? ' L' : ''}`;
    const pids = `${p.sidecarPid ?? '-'}/${p.nodePid ?? '-'}`;
    return `${pad(p.name, 14)} ${pad(podState(p), 9)} ${pad(says, 13)} ${pad(pids, 13)} ${p.sidecar?.reason ?? '-'}`;
  });
  const lines = [
    'cardano-forge lab — which node forges (from the node’s own forging metric)',
    '',
    forgerLine(snapshot),
    `leader: ${leaders.length === 0 ? 'none' : leaders.join(', ')} (sidecars that say they lead)`,
    lease,
    ...clusterLines(snapshot.clusters),
    '',
    header,
    ...rows,
    '',
    snapshot.activity === null ? '' : `> ${snapshot.activity}`,
    snapshot.keys,
  ];
  return lines.map((l) => fit(l, width));
}

// --- regions mode (`npm start -- --regions 2|3`) ---------------------------------------------

export interface RegionObservation {
  readonly name: string;
  readonly priority: number;
  /** The region's CardanoForgeCluster as its own apiserver shows it; null when it did not answer. */
  readonly cluster: ClusterObservation | null;
  /** What the region's health endpoint answers now. */
  readonly healthEndpoint: 'healthy' | 'unhealthy' | 'alternating';
  readonly pods: readonly PodObservation[];
}

export interface RegionsSnapshot {
  readonly regions: readonly RegionObservation[];
  /** Wall-clock time (ISO) when the set of forging pods last changed, as the lab saw it. */
  readonly forgersSince: string | null;
  readonly activity: string | null;
  readonly keys: string;
}

/** Forging pods across every region (from the nodes' own metrics), as `region/pod`. */
export function forgingPodsAcrossRegions(snapshot: RegionsSnapshot): string[] {
  return snapshot.regions.flatMap((region) =>
    region.pods.filter((pod) => podState(pod) === 'FORGING').map((pod) => `${region.name}/${pod.name}`),
  );
}

function regionForgerLine(snapshot: RegionsSnapshot): string {
  const forgers = forgingPodsAcrossRegions(snapshot);
  const unknown = snapshot.regions.flatMap((region) =>
    region.pods.filter((pod) => podState(pod) === 'UNKNOWN').map((pod) => `${region.name}/${pod.name}`),
  );
  const head =
    forgers.length === 0
      ? 'forging region: none'
      : forgers.length === 1
        ? `forging region: ${forgers[0]?.split('/')[0]} (pod ${forgers[0]?.split('/')[1]})`
        : `forging: ${forgers.length} PODS AT ONCE (${forgers.join(', ')}) — invariant broken`;
  const tail = unknown.length > 0 ? `; may be forging (metric unanswered): ${unknown.join(', ')}` : '';
  return `${head} since ${clock(snapshot.forgersSince)}${tail}`;
}

function regionLines(region: RegionObservation): string[] {
  const cluster = region.cluster;
  const forging = region.pods.some((pod) => podState(pod) === 'FORGING');
  const policy =
    cluster === null
      ? '  CardanoForgeCluster: no answer'
      : `  state ${cluster.effectiveState ?? '-'}, effective priority ${cluster.effectivePriority ?? '-'}, ` +
        `health ${cluster.healthy === null ? 'no probe' : cluster.healthy ? 'healthy' : 'UNHEALTHY'} (endpoint: ${region.healthEndpoint})`;
  const head = `region ${region.name}, priority ${region.priority}${forging ? ' ◀ FORGING' : ''}`;
  const rows = region.pods.map((p) => {
    const says =
      p.sidecar === null
        ? 'no answer'
        : `${p.sidecar.forge ? 'forge' : 'standby'}${p.sidecar.leader ? ' L' : ''}`;
    return `  ${pad(p.name, 10)} ${pad(podState(p), 9)} ${pad(says, 12)} ${p.sidecar?.reason ?? '-'}`;
  });
  const why = cluster?.reason ? [`  why: ${cluster.reason}`] : [];
  const arbiter = cluster?.arbiter;
  const global = arbiter
    ? [
        `  arbiter: forging region ${arbiter.forgingRegion ?? 'none'}, rank ${arbiter.rank ?? '-'}, ` +
          `${arbiter.role ?? '-'}${arbiter.reason ? ` (${arbiter.reason})` : ''}`,
      ]
    : [];
  return [head, policy, ...global, ...why, ...rows];
}

/** The regions view, each line at most `width` characters. */
export function renderRegionsView(snapshot: RegionsSnapshot, width = 100): string[] {
  const lines = [
    'cardano-forge lab — regions on one etcd arbiter (forging from each node’s own metric)',
    '',
    regionForgerLine(snapshot),
    '',
    ...snapshot.regions.flatMap((region) => [...regionLines(region), '']),
    snapshot.activity === null ? '' : `> ${snapshot.activity}`,
    snapshot.keys,
  ];
  return lines.map((l) => fit(l, width));
}
