// The three-region test's measurements over simulator event logs, on synthetic logs.
import { describe, expect, it } from 'vitest';
import type { SimEvent } from '../cardano-node-sim/events.ts';
import { healthStatusAt } from '../regions/health-endpoint.ts';
import {
  forgingTimeBetween,
  regionChanges,
  regionIntervals,
  regionMove,
  regionOfIdentity,
  transitionsBetween,
} from '../regions/timeline.ts';

function ev(ts: number, identity: string, event: SimEvent['event'], pid = identity.length): SimEvent {
  return { ts, identity, pool: 'p', pid, event, reason: 'test' };
}

describe('regions timeline', () => {
  it('takes the region from the pod identity', () => {
    expect(regionOfIdentity('eu-bp-0')).toBe('eu');
    expect(regionOfIdentity('solo')).toBe('solo');
  });

  it('measures a cross-region move from the action: off, on and the gap between', () => {
    const events = [
      ev(1_000, 'eu-bp-0', 'forging-on', 1),
      ev(10_400, 'eu-bp-0', 'forging-off', 1),
      ev(11_000, 'us-bp-1', 'forging-on', 2),
    ];
    expect(regionMove(events, 10_000, 'us', 20_000)).toEqual({
      fromRegion: 'eu',
      toRegion: 'us',
      toIdentity: 'us-bp-1',
      offAfterMs: 400,
      onAfterMs: 1_000,
      gapMs: 600,
    });
    expect(regionMove(events, 10_000, 'ap', 20_000)).toBeUndefined();
    // Nobody forged at the action (e.g. after a quorum loss): no "off", only the on time.
    expect(regionMove(events, 10_500, 'us', 20_000)).toMatchObject({ fromRegion: undefined, onAfterMs: 500 });
  });

  it('counts region changes, not handoffs inside a region', () => {
    const events = [
      ev(0, 'eu-bp-0', 'forging-on', 1),
      ev(100, 'eu-bp-0', 'forging-off', 1),
      ev(200, 'eu-bp-1', 'forging-on', 2),
      ev(300, 'eu-bp-1', 'forging-off', 2),
      ev(400, 'us-bp-0', 'forging-on', 3),
      ev(500, 'us-bp-0', 'forging-off', 3),
      ev(600, 'eu-bp-0', 'forging-on', 4),
    ];
    expect(regionChanges(events, 50, 1_000)).toEqual([
      { atMs: 400, from: 'eu', to: 'us' },
      { atMs: 600, from: 'us', to: 'eu' },
    ]);
    expect(regionChanges(events, 50, 350)).toEqual([]);
    expect(transitionsBetween(events, 150, 350).map((e) => e.ts)).toEqual([200, 300]);
  });

  it('sums forging time in a window; an open interval (no exit logged) counts until the end', () => {
    const events = [
      ev(0, 'eu-bp-0', 'forging-on', 1),
      ev(1_000, 'eu-bp-0', 'forging-off', 1),
      ev(3_000, 'us-bp-0', 'forging-on', 2),
    ];
    const intervals = regionIntervals(events, 5_000);
    expect(forgingTimeBetween(intervals, 500, 4_000)).toBe(500 + 1_000);
    expect(intervals.at(-1)).toMatchObject({ region: 'us', open: true, endMs: 5_000 });
  });
});

describe('regions health endpoint', () => {
  it('answers 200/503 as set, and alternates starting unhealthy', () => {
    expect(healthStatusAt({ kind: 'healthy' }, 0)).toBe(200);
    expect(healthStatusAt({ kind: 'unhealthy' }, 0)).toBe(503);
    const alternating = { kind: 'alternating', periodMs: 1_000, sinceMs: 10_000 } as const;
    expect([10_000, 10_999, 11_000, 12_000, 13_500].map((t) => healthStatusAt(alternating, t))).toEqual([
      503, 503, 200, 503, 200,
    ]);
  });
});
