import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  computeOverlap,
  forgingIntervals,
  handoffGapMs,
  handoffs,
  readEvents,
} from '../cardano-node-sim/overlap.ts';
import type { SimEvent, SimEventKind } from '../cardano-node-sim/overlap.ts';
import { hostClockMs } from '../cardano-node-sim/events.ts';

const T0 = 1_700_000_000_000.25;
const PIDS: Record<string, number> = { a: 101, b: 102, c: 103 };

function ev(identity: string, event: SimEventKind, atMs: number, pool = 'pool1'): SimEvent {
  return { ts: T0 + atMs, identity, pool, pid: PIDS[identity] ?? 999, event, reason: 'test' };
}

/** Events for one forging interval [on, off) of an identity. */
function interval(identity: string, on: number, off: number, pool = 'pool1'): SimEvent[] {
  return [ev(identity, 'forging-on', on, pool), ev(identity, 'forging-off', off, pool)];
}

describe('computeOverlap', () => {
  it('measures two nodes forging together for 120 ms', () => {
    const events = [...interval('a', 0, 1000), ...interval('b', 880.4, 2000)];
    const report = computeOverlap(events, { untilMs: T0 + 5000 });
    expect(report.totalOverlapMs).toBeGreaterThanOrEqual(119);
    expect(report.totalOverlapMs).toBeLessThanOrEqual(121);
    expect(report.overlaps).toHaveLength(1);
    expect(report.overlaps[0]).toMatchObject({
      pool: 'pool1',
      a: 'a',
      b: 'b',
      startMs: T0 + 880.4,
      endMs: T0 + 1000,
    });
    expect(report.byPool.pool1).toBeCloseTo(119.6, 3);
  });

  it('is 0 when the nodes never forge together, including an exact handoff instant', () => {
    const events = [...interval('a', 0, 1000), ...interval('b', 1000, 2000), ...interval('a', 2500, 3000)];
    const report = computeOverlap(events, { untilMs: T0 + 5000 });
    expect(report.totalOverlapMs).toBe(0);
    expect(report.overlaps).toEqual([]);
  });

  it('chains three nodes and counts each pairwise overlap once', () => {
    const events = [...interval('a', 0, 100), ...interval('b', 80, 200), ...interval('c', 170, 300)];
    const report = computeOverlap(events, { untilMs: T0 + 1000 });
    expect(report.totalOverlapMs).toBeCloseTo(50, 3);
    expect(report.overlaps.map((o) => [o.a, o.b, Math.round(o.ms)])).toEqual([
      ['a', 'b', 20],
      ['b', 'c', 30],
    ]);
  });

  it('counts time with three forgers once in the total but in every pair', () => {
    const events = [...interval('a', 0, 100), ...interval('b', 0, 100), ...interval('c', 0, 100)];
    const report = computeOverlap(events, { untilMs: T0 + 1000 });
    expect(report.totalOverlapMs).toBeCloseTo(100, 3);
    expect(report.overlaps).toHaveLength(3);
  });

  it('counts a node still forging at the end of the log until untilMs', () => {
    const events = [...interval('a', 0, 1000), ev('b', 'forging-on', 500)];
    expect(computeOverlap(events, { untilMs: T0 + 800 }).totalOverlapMs).toBeCloseTo(300, 3);
    const twoStillOn = [ev('a', 'forging-on', 0), ev('b', 'forging-on', 500)];
    expect(computeOverlap(twoStillOn, { untilMs: T0 + 2000 }).totalOverlapMs).toBeCloseTo(1500, 3);
  });

  it('defaults untilMs to now, so an unterminated pair keeps growing', () => {
    const now = hostClockMs();
    const events: SimEvent[] = [
      { ...ev('a', 'forging-on', 0), ts: now - 1000 },
      { ...ev('b', 'forging-on', 0), ts: now - 400 },
    ];
    expect(computeOverlap(events).totalOverlapMs).toBeGreaterThanOrEqual(400);
  });

  it('ends forging at exit even without forging-off, and ignores other pools', () => {
    const events = [
      ev('a', 'forging-on', 0),
      ev('a', 'exit', 100),
      ...interval('b', 50, 300),
      ...interval('c', 0, 300, 'pool2'),
    ];
    const report = computeOverlap(events, { untilMs: T0 + 1000 });
    expect(report.totalOverlapMs).toBeCloseTo(50, 3);
    expect(report.byPool).toEqual({ pool1: 50, pool2: 0 });
  });

  it('treats two processes of one identity as two forgers', () => {
    const events: SimEvent[] = [
      ev('a', 'forging-on', 0),
      { ...ev('a', 'forging-on', 40), pid: 555 },
      ev('a', 'forging-off', 100),
    ];
    const report = computeOverlap(events, { untilMs: T0 + 200 });
    expect(report.totalOverlapMs).toBeCloseTo(60, 3);
    expect(report.overlaps[0]).toMatchObject({ a: 'a', b: 'a', aPid: 101, bPid: 555 });
  });
});

describe('forgingIntervals', () => {
  it('ignores repeated forging-on and a forging-off while not forging', () => {
    const events = [
      ev('a', 'forging-off', 0),
      ev('a', 'forging-on', 10),
      ev('a', 'forging-on', 20),
      ev('a', 'sighup', 30),
      ev('a', 'forging-off', 40),
    ];
    expect(forgingIntervals(events, { untilMs: T0 + 100 })).toEqual([
      { pool: 'pool1', identity: 'a', pid: 101, startMs: T0 + 10, endMs: T0 + 40, open: false },
    ]);
  });
});

describe('handoff gaps', () => {
  const events = [...interval('a', 0, 1000), ...interval('b', 1250, 2000), ...interval('a', 1900, 3000)];

  it('reports the time from one forging-off to the next forging-on', () => {
    expect(handoffGapMs(events, { from: 'a', to: 'b' })).toBeCloseTo(250, 3);
    expect(handoffGapMs(events, { from: 'b', to: 'a', afterMs: T0 + 1 })).toBeCloseTo(-100, 3);
    expect(handoffGapMs(events, { from: 'c', to: 'a' })).toBeUndefined();
  });

  it('lists every handoff in order', () => {
    const list = handoffs(events, { untilMs: T0 + 4000 });
    expect(
      list.map((h) => [
        h.from?.identity,
        h.to.identity,
        h.gapMs === undefined ? undefined : Math.round(h.gapMs),
      ]),
    ).toEqual([
      [undefined, 'a', undefined],
      ['a', 'b', 250],
      ['b', 'a', -100],
    ]);
  });
});

describe('readEvents', () => {
  it('merges logs by timestamp, skipping a torn last line and missing files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'overlap-'));
    try {
      const first = join(dir, 'a.jsonl');
      const second = join(dir, 'b.jsonl');
      await writeFile(
        first,
        `${JSON.stringify(ev('a', 'forging-on', 0))}\n${JSON.stringify(ev('a', 'forging-off', 200))}\n{"ts":`,
      );
      await writeFile(second, `${JSON.stringify(ev('b', 'forging-on', 100))}\n`);
      const events = await readEvents([first, second, join(dir, 'missing.jsonl')]);
      expect(events.map((e) => [e.identity, e.event])).toEqual([
        ['a', 'forging-on'],
        ['b', 'forging-on'],
        ['a', 'forging-off'],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('overlap properties', () => {
  const arbInterval = fc.record({
    start: fc.integer({ min: 0, max: 10_000 }),
    length: fc.integer({ min: 1, max: 5_000 }),
  });
  const arbGapAndLength = fc.record({
    gap: fc.integer({ min: 1, max: 3_000 }),
    length: fc.integer({ min: 1, max: 5_000 }),
  });
  /** [on, off) pairs of one process, each starting a positive gap after the previous one ended. */
  const endToEnd = (parts: readonly { gap: number; length: number }[]): [number, number][] => {
    let at = -1;
    return parts.map(({ gap, length }) => {
      const on = at + gap;
      at = on + length;
      return [on, at];
    });
  };

  it('is symmetric: swapping who is who (and event order) does not change the overlap', () => {
    fc.assert(
      fc.property(
        fc.array(arbGapAndLength, { maxLength: 4 }),
        fc.array(arbGapAndLength, { maxLength: 4 }),
        (first, second) => {
          // One process's own intervals never overlap or touch (it logs on, off, on... with time
          // passing between): the checker keeps a log's order only for events at the same instant.
          const build = (x: string, y: string) => [
            ...endToEnd(first).flatMap(([on, off]) => interval(x, on, off)),
            ...endToEnd(second).flatMap(([on, off]) => interval(y, on, off)),
          ];
          const forward = computeOverlap(build('a', 'b'), { untilMs: T0 + 20_000 });
          const swapped = computeOverlap(build('b', 'a').reverse(), { untilMs: T0 + 20_000 });
          expect(swapped.totalOverlapMs).toBeCloseTo(forward.totalOverlapMs, 3);
          expect(swapped.overlaps.length).toBe(forward.overlaps.length);
        },
      ),
    );
  });

  it('is 0 when the intervals are disjoint (laid end to end, any gap >= 0)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 1_000 }), { minLength: 2, maxLength: 12 }),
        fc.nat({ max: 500 }),
        (lengths, gap) => {
          // Intervals laid end to end (with a gap >= 0), alternating between identities.
          let at = 0;
          const events = lengths.flatMap((length, index) => {
            const identity = ['a', 'b', 'c'][index % 3] as string;
            const built = interval(identity, at, at + length);
            at += length + gap;
            return built;
          });
          expect(computeOverlap(events, { untilMs: T0 + at + 1 }).totalOverlapMs).toBe(0);
        },
      ),
    );
  });

  it('equals the intersection length for two single intervals', () => {
    fc.assert(
      fc.property(arbInterval, arbInterval, (x, y) => {
        const events = [
          ...interval('a', x.start, x.start + x.length),
          ...interval('b', y.start, y.start + y.length),
        ];
        const expected = Math.max(
          0,
          Math.min(x.start + x.length, y.start + y.length) - Math.max(x.start, y.start),
        );
        expect(computeOverlap(events, { untilMs: T0 + 20_000 }).totalOverlapMs).toBeCloseTo(expected, 3);
      }),
    );
  });
});
