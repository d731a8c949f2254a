// Pure functions over the simulators' event logs for the three-region test: which region forged
// when, how long a cross-region move took from the action that caused it, and how often the
// forging region changed in a window (flapping). Only the nodes' own forging transitions count —
// never what a sidecar says. Erasable-only TypeScript (runs under Node 24 directly too).
import { forgingIntervals, type ForgingInterval } from '../cardano-node-sim/overlap.ts';
import type { SimEvent } from '../cardano-node-sim/events.ts';

/** Pod identities are `<region>-<pod>`: the region is the part before the first '-'. */
export function regionOfIdentity(identity: string): string {
  const dash = identity.indexOf('-');
  return dash < 0 ? identity : identity.slice(0, dash);
}

export interface RegionInterval extends ForgingInterval {
  readonly region: string;
}

export function regionIntervals(events: readonly SimEvent[], untilMs: number): RegionInterval[] {
  return forgingIntervals(events, { untilMs }).map((interval) => ({
    ...interval,
    region: regionOfIdentity(interval.identity),
  }));
}

/** The regions (and pods) forging at instant `atMs`. */
export function forgingAt(intervals: readonly RegionInterval[], atMs: number): RegionInterval[] {
  return intervals.filter((interval) => interval.startMs <= atMs && atMs < interval.endMs);
}

export interface RegionMove {
  /** Region forging at the action (undefined: none). */
  readonly fromRegion: string | undefined;
  readonly toRegion: string;
  readonly toIdentity: string;
  /** Action → the old region's node stopped forging (undefined when nobody forged at the action). */
  readonly offAfterMs: number | undefined;
  /** Action → a node of `toRegion` forging: the handoff / failover time. */
  readonly onAfterMs: number;
  /** off → on: time without a forger (negative would be an overlap). */
  readonly gapMs: number | undefined;
}

/**
 * The first time after `actionMs` that a node of `toRegion` started forging, and when the forger at
 * `actionMs` (if any) stopped. undefined when `toRegion` never started forging after the action.
 */
export function regionMove(
  events: readonly SimEvent[],
  actionMs: number,
  toRegion: string,
  untilMs: number,
): RegionMove | undefined {
  const intervals = regionIntervals(events, untilMs);
  const next = intervals.find((interval) => interval.region === toRegion && interval.startMs >= actionMs);
  if (next === undefined) return undefined;
  const before = forgingAt(intervals, actionMs).at(-1);
  const offMs = before === undefined ? undefined : before.endMs;
  return {
    fromRegion: before?.region,
    toRegion,
    toIdentity: next.identity,
    offAfterMs: offMs === undefined ? undefined : offMs - actionMs,
    onAfterMs: next.startMs - actionMs,
    gapMs: offMs === undefined ? undefined : next.startMs - offMs,
  };
}

/** Forging-on events in [fromMs, toMs] whose region differs from the previous forger's: flaps. */
export function regionChanges(
  events: readonly SimEvent[],
  fromMs: number,
  toMs: number,
): { atMs: number; from: string | undefined; to: string }[] {
  const intervals = regionIntervals(events, toMs);
  const changes: { atMs: number; from: string | undefined; to: string }[] = [];
  let current = forgingAt(intervals, fromMs).at(-1)?.region;
  for (const interval of intervals) {
    if (interval.startMs < fromMs || interval.startMs > toMs) continue;
    if (interval.region !== current)
      changes.push({ atMs: interval.startMs, from: current, to: interval.region });
    current = interval.region;
  }
  return changes;
}

/** Forging transitions (on/off) of any node in [fromMs, toMs]: "nothing changed" means none. */
export function transitionsBetween(events: readonly SimEvent[], fromMs: number, toMs: number): SimEvent[] {
  return events.filter(
    (event) =>
      (event.event === 'forging-on' || event.event === 'forging-off') &&
      event.ts >= fromMs &&
      event.ts <= toMs,
  );
}

/** Total time in [fromMs, toMs] during which some node forged. */
export function forgingTimeBetween(
  intervals: readonly RegionInterval[],
  fromMs: number,
  toMs: number,
): number {
  return intervals.reduce(
    (sum, interval) => sum + Math.max(0, Math.min(interval.endMs, toMs) - Math.max(interval.startMs, fromMs)),
    0,
  );
}
