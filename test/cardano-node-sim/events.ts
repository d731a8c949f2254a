// The simulator's event log: one JSON object per line, appended synchronously so that lines written just
// before a crash are on disk and lines from several processes never interleave within a line.
// Erasable TypeScript only (loaded by Node directly inside the simulator).
import { appendFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export type SimEventKind = 'start' | 'forging-on' | 'forging-off' | 'exit' | 'sighup';

export interface SimEvent {
  /** hostClockMs() when the line was written: comparable across processes on one host. */
  ts: number;
  /** Date.now() at the same moment, for a person matching the line with a log; never compared. */
  wallMs?: number;
  identity: string;
  pool: string;
  pid: number;
  event: SimEventKind;
  reason: string;
  /** Whether the node forged when the line was written (absent on lines written by an observer). */
  forging?: boolean;
}

/**
 * The host's monotonic clock in ms (CLOCK_MONOTONIC through process.hrtime), with sub-ms fractions.
 * Every process on the host reads the same clock, and NTP or a VM resume never steps it. A wall
 * clock does not do: hostClockMs() keeps each process's start-time
 * offset, so once the wall clock steps, processes started before and after disagree by the step
 * (a CI run of regions-e2e saw events seconds before the actions that caused them). Event timestamps and every instant a
 * test compares with them come from this function.
 */
export function hostClockMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function appendEvent(path: string, event: SimEvent): void {
  appendFileSync(path, `${JSON.stringify(event)}\n`);
}

const KINDS: ReadonlySet<string> = new Set(['start', 'forging-on', 'forging-off', 'exit', 'sighup']);

function isSimEvent(value: unknown): value is SimEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.ts === 'number' &&
    typeof v.identity === 'string' &&
    typeof v.pool === 'string' &&
    typeof v.pid === 'number' &&
    typeof v.event === 'string' &&
    KINDS.has(v.event)
  );
}

/** Parses event-log text; blank or malformed lines (e.g. a torn last line) are skipped. */
export function parseEvents(text: string): SimEvent[] {
  const events: SimEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed: unknown = JSON.parse(line);
      if (isSimEvent(parsed)) events.push(parsed);
    } catch {
      // A torn line can only be the one being written when a process died; it carries no finished event.
    }
  }
  return events;
}

/** Reads and merges event logs (missing files count as empty), ordered by timestamp. */
export async function readEvents(paths: readonly string[]): Promise<SimEvent[]> {
  const texts = await Promise.all(
    paths.map(async (path) => {
      try {
        return await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
        throw error;
      }
    }),
  );
  return texts.flatMap(parseEvents).sort((a, b) => a.ts - b.ts);
}
