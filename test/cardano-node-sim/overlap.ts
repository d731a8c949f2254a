// The safety checker: from simulator event logs, when did two nodes of one pool forge at the same time?
// Pure functions over events so the unit tests can feed synthetic logs.
// Erasable TypeScript only (shares the directory with the simulator that Node runs directly).
import type { SimEvent } from './events.ts';
import { hostClockMs } from './events.ts';

export { readEvents, parseEvents } from './events.ts';
export type { SimEvent, SimEventKind } from './events.ts';

/** One process (identity + pid) forging from startMs to endMs; open when the log ends while still forging. */
export interface ForgingInterval {
  pool: string;
  identity: string;
  pid: number;
  startMs: number;
  endMs: number;
  open: boolean;
}

export interface Overlap {
  pool: string;
  a: string;
  b: string;
  aPid: number;
  bPid: number;
  startMs: number;
  endMs: number;
  ms: number;
}

export interface OverlapReport {
  /** Time (summed over pools) during which at least two processes of one pool forged. */
  totalOverlapMs: number;
  byPool: Record<string, number>;
  /** Every pair of intervals of one pool that overlap, ordered by start. */
  overlaps: Overlap[];
}

export interface CheckOptions {
  /** Where still-open intervals end; defaults to now (hostClockMs()). */
  untilMs?: number;
}

function forgerKey(event: Pick<SimEvent, 'pool' | 'identity' | 'pid'>): string {
  return JSON.stringify([event.pool, event.identity, event.pid]);
}

function defaultUntil(options: CheckOptions | undefined): number {
  return options?.untilMs ?? hostClockMs();
}

/**
 * Forging intervals per process. forging-on opens, forging-off or exit closes; repeats are ignored.
 * A process that never logged its end stays open until untilMs: a missing exit must count as forging.
 */
export function forgingIntervals(events: readonly SimEvent[], options?: CheckOptions): ForgingInterval[] {
  const untilMs = defaultUntil(options);
  const ordered = [...events].sort((x, y) => x.ts - y.ts);
  const open = new Map<string, ForgingInterval>();
  const closed: ForgingInterval[] = [];
  for (const event of ordered) {
    const key = forgerKey(event);
    const current = open.get(key);
    if (event.event === 'forging-on' && current === undefined) {
      open.set(key, {
        pool: event.pool,
        identity: event.identity,
        pid: event.pid,
        startMs: event.ts,
        endMs: untilMs,
        open: true,
      });
    } else if ((event.event === 'forging-off' || event.event === 'exit') && current !== undefined) {
      closed.push({ ...current, endMs: event.ts, open: false });
      open.delete(key);
    }
  }
  const stillOpen = [...open.values()].map((interval) => ({
    ...interval,
    endMs: Math.max(interval.startMs, untilMs),
  }));
  return [...closed, ...stillOpen].sort((x, y) => x.startMs - y.startMs);
}

/** Measure of the time covered by at least two of the intervals (sweep over start/end points). */
function timeWithTwoOrMore(intervals: readonly ForgingInterval[]): number {
  const points = intervals.flatMap((interval) => [
    { at: interval.startMs, delta: 1 },
    { at: interval.endMs, delta: -1 },
  ]);
  // Ends before starts at the same instant: touching intervals are a handoff, not an overlap.
  points.sort((x, y) => x.at - y.at || x.delta - y.delta);
  let active = 0;
  let since = 0;
  let total = 0;
  for (const point of points) {
    if (active >= 2) total += point.at - since;
    active += point.delta;
    since = point.at;
  }
  return total;
}

export function computeOverlap(events: readonly SimEvent[], options?: CheckOptions): OverlapReport {
  const intervals = forgingIntervals(events, options);
  const pools = new Map<string, ForgingInterval[]>();
  for (const interval of intervals) pools.set(interval.pool, [...(pools.get(interval.pool) ?? []), interval]);
  const overlaps: Overlap[] = [];
  const byPool: Record<string, number> = {};
  let totalOverlapMs = 0;
  for (const [pool, poolIntervals] of pools) {
    for (let i = 0; i < poolIntervals.length; i += 1) {
      for (let j = i + 1; j < poolIntervals.length; j += 1) {
        const a = poolIntervals[i] as ForgingInterval;
        const b = poolIntervals[j] as ForgingInterval;
        const startMs = Math.max(a.startMs, b.startMs);
        const endMs = Math.min(a.endMs, b.endMs);
        if (endMs > startMs)
          overlaps.push({
            pool,
            a: a.identity,
            b: b.identity,
            aPid: a.pid,
            bPid: b.pid,
            startMs,
            endMs,
            ms: endMs - startMs,
          });
      }
    }
    const poolMs = timeWithTwoOrMore(poolIntervals);
    byPool[pool] = poolMs;
    totalOverlapMs += poolMs;
  }
  overlaps.sort((x, y) => x.startMs - y.startMs);
  return { totalOverlapMs, byPool, overlaps };
}

export interface Handoff {
  pool: string;
  /** The forger that held the pool just before; undefined for the first forger of a pool. */
  from: { identity: string; pid: number; offMs: number } | undefined;
  to: { identity: string; pid: number; onMs: number };
  /** onMs - offMs: positive is a gap without a forger, negative is an overlap. */
  gapMs: number | undefined;
}

/**
 * Every forging-on in order, paired with the forger that most recently held the pool before it
 * (the other process whose interval started last before this one). Useful to measure handoff times.
 */
export function handoffs(events: readonly SimEvent[], options?: CheckOptions & { pool?: string }): Handoff[] {
  const intervals = forgingIntervals(events, options).filter(
    (interval) => options?.pool === undefined || interval.pool === options.pool,
  );
  const result: Handoff[] = [];
  intervals.forEach((interval, index) => {
    const previous = intervals
      .slice(0, index)
      .filter((other) => other.pool === interval.pool && forgerKey(other) !== forgerKey(interval))
      .at(-1);
    result.push({
      pool: interval.pool,
      from:
        previous === undefined
          ? undefined
          : { identity: previous.identity, pid: previous.pid, offMs: previous.endMs },
      to: { identity: interval.identity, pid: interval.pid, onMs: interval.startMs },
      gapMs: previous === undefined ? undefined : interval.startMs - previous.endMs,
    });
  });
  return result;
}

/**
 * Time from `from` stopping to `to` starting: the first forging-on of `to` at or after afterMs, against
 * the last interval of `from` that began before it. Negative when they overlapped; undefined when either is missing.
 */
export function handoffGapMs(
  events: readonly SimEvent[],
  spec: { from: string; to: string; pool?: string; afterMs?: number; untilMs?: number },
): number | undefined {
  const intervals = forgingIntervals(events, { untilMs: spec.untilMs }).filter(
    (interval) => spec.pool === undefined || interval.pool === spec.pool,
  );
  const next = intervals.find(
    (interval) => interval.identity === spec.to && interval.startMs >= (spec.afterMs ?? -Infinity),
  );
  if (next === undefined) return undefined;
  const previous = intervals
    .filter(
      (interval) => interval.identity === spec.from && interval.startMs <= next.startMs && interval !== next,
    )
    .at(-1);
  if (previous === undefined) return undefined;
  return next.startMs - previous.endMs;
}
