/**
 * What the cross-region arbiter adds to a CardanoForgeCluster's status and metrics (global mode
 * only): which region forges, this region's rank among the eligible ones, and why. Pure.
 */

export interface GlobalForgeView {
  /** This pod may forge by the global arbiter right now (holds the forger key, deadline and grace OK). */
  readonly forging: boolean;
  /** Region named by the forger key; null = none; '?' = a value that cannot be read. */
  readonly forgerRegion: string | null;
  readonly region: string;
  /** 1 = best among eligible regions; null = not ranked (not eligible, or not the region leader). */
  readonly rank: number | null;
  readonly eligibleCandidates: number;
  readonly role: string;
  readonly reason: string;
  readonly message: string;
  /** Whether the last round reached etcd. */
  readonly connected: boolean;
}

/** The `status.globalArbiter` block (sorted, bounded text). */
export function globalArbiterStatus(view: GlobalForgeView): Record<string, unknown> {
  return {
    forgingRegion: view.forgerRegion ?? '',
    region: view.region,
    ...(view.rank === null ? {} : { rank: view.rank }),
    eligibleRegions: view.eligibleCandidates,
    role: view.role,
    reason: view.reason.slice(0, 128),
    message: view.message.slice(0, 1024),
    etcdReachable: view.connected,
  };
}
