// The invariant, checked continuously from the simulators' shared JSONL event log while the chaos runs:
// never two forgers of the pool at any instant (zero overlap), and once the system has been whole and
// fault-free for the liveness bound, some node forges. Pure apart from reading the log file.
// Erasable TypeScript only.
import { open } from 'node:fs/promises';
import { computeOverlap, forgingIntervals, parseEvents } from '../cardano-node-sim/overlap.ts';
import type { ForgingInterval, Overlap, SimEvent } from '../cardano-node-sim/overlap.ts';

export type Violation =
  | { kind: 'overlap'; atMs: number; overlaps: Overlap[] }
  | { kind: 'liveness'; atMs: number; healthySinceMs: number; boundMs: number }
  | { kind: 'not-recovered'; atMs: number; what: string };

/** Reads only what was appended since the last call; a torn last line waits for its newline. */
export class EventLogTail {
  readonly path: string;
  readonly events: SimEvent[] = [];
  private offset = 0;
  private pending = '';

  constructor(path: string) {
    this.path = path;
  }

  async poll(): Promise<void> {
    let handle;
    try {
      handle = await open(this.path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    try {
      for (;;) {
        const chunk = Buffer.alloc(64 * 1024);
        const { bytesRead } = await handle.read(chunk, 0, chunk.length, this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        this.pending += chunk.subarray(0, bytesRead).toString('utf8');
      }
    } finally {
      await handle.close();
    }
    const lastNewline = this.pending.lastIndexOf('\n');
    if (lastNewline < 0) return;
    this.events.push(...parseEvents(this.pending.slice(0, lastNewline + 1)));
    this.pending = this.pending.slice(lastNewline + 1);
    // Lines of several processes are appended in order of writing, which is time order up to a few ms.
    this.events.sort((a, b) => a.ts - b.ts);
  }
}

export interface InvariantInput {
  readonly events: readonly SimEvent[];
  readonly nowMs: number;
  /** Since when every process is up and no fault is active; null while not. */
  readonly healthySinceMs: number | null;
  readonly livenessBoundMs: number;
}

/** The decision of one check: the first violation found, if any. */
export function checkInvariant(input: InvariantInput): Violation | null {
  const report = computeOverlap(input.events, { untilMs: input.nowMs });
  if (report.overlaps.length > 0) return { kind: 'overlap', atMs: input.nowMs, overlaps: report.overlaps };
  if (input.healthySinceMs !== null && input.nowMs - input.healthySinceMs > input.livenessBoundMs) {
    const forgingNow = forgingIntervals(input.events, { untilMs: input.nowMs }).some((i) => i.open);
    if (!forgingNow)
      return {
        kind: 'liveness',
        atMs: input.nowMs,
        healthySinceMs: input.healthySinceMs,
        boundMs: input.livenessBoundMs,
      };
  }
  return null;
}

export interface ForgingStats {
  totalForgingMs: number;
  /** Longest stretch with no forger, between the first forging-on and untilMs. */
  maxGapMs: number;
  maxGapStartMs: number | null;
  forgingIntervals: number;
}

export function forgingStats(events: readonly SimEvent[], untilMs: number): ForgingStats {
  const intervals: ForgingInterval[] = forgingIntervals(events, { untilMs });
  let totalForgingMs = 0;
  let maxGapMs = 0;
  let maxGapStartMs: number | null = null;
  let coveredUntil: number | null = null;
  for (const interval of intervals) {
    if (coveredUntil !== null && interval.startMs > coveredUntil) {
      const gap = interval.startMs - coveredUntil;
      if (gap > maxGapMs) {
        maxGapMs = gap;
        maxGapStartMs = coveredUntil;
      }
    }
    const from = coveredUntil === null ? interval.startMs : Math.max(interval.startMs, coveredUntil);
    if (interval.endMs > from) totalForgingMs += interval.endMs - from;
    coveredUntil = coveredUntil === null ? interval.endMs : Math.max(coveredUntil, interval.endMs);
  }
  if (coveredUntil !== null && untilMs - coveredUntil > maxGapMs) {
    maxGapMs = untilMs - coveredUntil;
    maxGapStartMs = coveredUntil;
  }
  return { totalForgingMs, maxGapMs, maxGapStartMs, forgingIntervals: intervals.length };
}

/** Identities forging at nowMs (open intervals). */
export function currentForgers(events: readonly SimEvent[], nowMs: number): string[] {
  return forgingIntervals(events, { untilMs: nowMs })
    .filter((i) => i.open)
    .map((i) => i.identity);
}
