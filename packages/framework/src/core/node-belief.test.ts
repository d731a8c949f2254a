import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { CredentialState, NodeObservation } from '../contracts/index.js';
import {
  UNKNOWN_BELIEF,
  believeObservation,
  believeSignal,
  believeTermination,
  nextFault,
  unobservable,
  type NodeLoaded,
} from './node-belief.js';

const creds = (presence: CredentialState['presence']): CredentialState => ({
  presence,
  upToDate: presence === 'all',
  sourcesValid: true,
  sourceFingerprint: 'f1',
  reason: 'ok',
  message: 'ok',
});
const up = (patch: Partial<NodeObservation> = {}): NodeObservation => ({
  socket: 'up',
  pid: 42,
  forgingMetric: null,
  atTip: null,
  message: 'up',
  ...patch,
});
const withMetrics = { metricsConfigured: true, sighupLatencyBoundMs: 2000, startAsNonProducing: true };
const noMetrics = { ...withMetrics, metricsConfigured: false };
const delivered = { delivered: true, pid: 42, reason: 'Delivered', message: 'ok' };
const forging: NodeLoaded = { ...UNKNOWN_BELIEF, forging: true, fingerprint: 'f1', source: 'node-metric' };

describe('node belief', () => {
  it('a failed observation never turns a belief into "not forging"', () => {
    fc.assert(
      fc.property(fc.constantFrom(true, false, null), (prior) => {
        const prev = { ...UNKNOWN_BELIEF, forging: prior };
        const next = believeObservation(prev, up(), unobservable('timed out'), creds('all'), 0, withMetrics);
        expect(next.forging).not.toBe(false);
      }),
    );
  });

  it("the node's forging metric is the authority when it is readable", () => {
    const prev = { ...UNKNOWN_BELIEF, forging: false as const };
    expect(
      believeObservation(prev, up(), up({ forgingMetric: true }), creds('none'), 0, withMetrics).forging,
    ).toBe(true);
    expect(
      believeObservation(forging, up(), up({ forgingMetric: false }), creds('all'), 0, withMetrics),
    ).toMatchObject({ forging: false, source: 'node-metric' });
  });

  it('a delivered disable is confirmed only when the metric says 0 (not while it still says 1)', () => {
    const told = believeSignal(forging, false, delivered, creds('none'), 1000);
    expect(told.forging).toBe(true);
    const slow = believeObservation(
      told,
      up(),
      up({ forgingMetric: true }),
      creds('none'),
      1500,
      withMetrics,
    );
    expect(slow).toMatchObject({ forging: true, pending: { forging: false } });
    const done = believeObservation(
      slow,
      up(),
      up({ forgingMetric: false }),
      creds('none'),
      1600,
      withMetrics,
    );
    expect(done).toMatchObject({ forging: false, pending: null });
  });

  it('with metrics configured but unreadable, the latency bound is not taken as confirmation', () => {
    const told = believeSignal(forging, false, delivered, creds('none'), 0);
    expect(believeObservation(told, up(), up(), creds('none'), 60_000, withMetrics).forging).toBe(true);
  });

  it('without node metrics a delivered SIGHUP counts after the latency bound, not before', () => {
    const told = believeSignal(forging, false, delivered, creds('none'), 0);
    expect(believeObservation(told, up(), up(), creds('none'), 1999, noMetrics).forging).toBe(true);
    expect(believeObservation(told, up(), up(), creds('none'), 2000, noMetrics)).toMatchObject({
      forging: false,
      source: 'sighup-assumed',
    });
  });

  it('an enable makes the node "may be forging" at once, and forging (with the fingerprint) once confirmed', () => {
    const off = { ...UNKNOWN_BELIEF, forging: false as const };
    const told = believeSignal(off, true, delivered, creds('all'), 0);
    expect(told.forging).toBeNull();
    expect(
      believeObservation(told, up(), up({ forgingMetric: true }), creds('all'), 10, withMetrics),
    ).toMatchObject({
      forging: true,
      fingerprint: 'f1',
    });
  });

  it('a process that is gone forges nothing; a restart as a producer with files forges', () => {
    const gone = believeObservation(
      forging,
      up(),
      up({ socket: 'stale', pid: null }),
      creds('all'),
      0,
      withMetrics,
    );
    expect(gone).toMatchObject({ forging: false, source: 'process-gone' });
    const restarted = believeObservation(
      gone,
      up({ pid: 41 }),
      up({ startsNonProducing: false }),
      creds('all'),
      0,
      withMetrics,
    );
    expect(restarted.forging).toBe(true);
    expect(believeTermination(forging, { ...delivered, reason: 'ProcessGone' }).forging).toBe(false);
    expect(believeTermination(forging, { ...delivered, delivered: false }).forging).toBe(true);
  });

  it('faults: PID unknown, failed SIGHUP, behind the tip; the start time sticks while the fault persists', () => {
    const cfg = { disableSocketCheck: false, confirmTimeoutMs: 1000 };
    const a = nextFault(null, up({ pid: null }), UNKNOWN_BELIEF, 100, cfg);
    expect(a).toMatchObject({ reason: 'NodePidUnknown', sinceMs: 100 });
    expect(nextFault(a, up({ pid: null }), UNKNOWN_BELIEF, 900, cfg)?.sinceMs).toBe(100);
    const failed = believeSignal(
      UNKNOWN_BELIEF,
      true,
      { delivered: false, pid: 42, reason: 'PermissionDenied', message: 'EPERM' },
      creds('all'),
      0,
    );
    expect(nextFault(null, up(), failed, 0, cfg)?.reason).toBe('SignalFailed');
    expect(nextFault(null, up({ atTip: false }), UNKNOWN_BELIEF, 0, cfg)?.reason).toBe('BehindTip');
    const told = believeSignal(UNKNOWN_BELIEF, true, delivered, creds('all'), 0);
    expect(nextFault(null, up({ forgingMetric: false }), told, 1001, cfg)?.reason).toBe('NodeNotForging');
    expect(nextFault(null, up(), forging, 0, cfg)).toBeNull();
  });
});
