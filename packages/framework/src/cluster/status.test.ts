import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  buildDesiredStatus,
  canonicalJson,
  sameCanonicalJson,
  statusPatch,
  type StatusInputs,
} from './status.js';

const T0 = new Date('2030-01-01T00:00:00Z');
const T1 = new Date('2030-01-01T00:05:00Z');
const base: StatusInputs = {
  nowWall: T0,
  observed: undefined,
  generation: 1,
  effectiveState: 'Priority-based',
  effectivePriority: 100,
  forgingAllowed: true,
  reason: 'healthy_operation',
  message: 'healthy',
  stale: false,
  override: { active: false, expired: false, message: 'no override' },
  problems: [],
  health: {
    configured: false,
    lastRound: null,
    consecutiveFailures: 0,
    failureThreshold: 3,
    recoveryStreak: 0,
  },
  leadership: { mode: 'leader', activeLeader: 'bp-0', forgingEnabled: true },
};
const cond = (s: Record<string, unknown>, type: string) =>
  (s.conditions as { type: string }[]).find((c) => c.type === type) as Record<string, unknown>;

describe('buildDesiredStatus / statusPatch', () => {
  it('writes nothing when the observed status already matches (no heartbeat churn)', () => {
    const first = buildDesiredStatus(base);
    const observed = JSON.parse(JSON.stringify(first)) as Record<string, unknown>;
    const second = buildDesiredStatus({ ...base, nowWall: T1, observed });
    expect(statusPatch(second, observed)).toBeNull();
  });

  it('moves lastTransitionTime only for conditions whose status flipped', () => {
    const observed = JSON.parse(JSON.stringify(buildDesiredStatus(base))) as Record<string, unknown>;
    const next = buildDesiredStatus({
      ...base,
      nowWall: T1,
      observed,
      generation: 2,
      effectiveState: 'Disabled',
      forgingAllowed: false,
      reason: 'cluster_disabled',
    });
    expect(cond(next, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ForgingNotAllowed',
      lastTransitionTime: T1.toISOString(),
    });
    expect(cond(next, 'PolicyValid')).toMatchObject({ status: 'True', lastTransitionTime: T0.toISOString() });
    expect(next.lastTransition).toBe(T1.toISOString());
    expect(Object.keys(statusPatch(next, observed) ?? {}).sort()).toEqual([
      'conditions',
      'effectiveState',
      'lastTransition',
      'observedGeneration',
      'reason',
    ]);
  });

  it('reports problems in message and PolicyValid', () => {
    const s = buildDesiredStatus({ ...base, problems: ['a is wrong', 'b is wrong'] });
    expect(s.message).toBe('healthy | problems: a is wrong; b is wrong');
    expect(cond(s, 'PolicyValid')).toMatchObject({
      status: 'False',
      reason: 'SpecProblems',
      message: 'a is wrong; b is wrong',
    });
  });

  it('a former leader only clears its own name; stale status says PolicyStale', () => {
    const s = buildDesiredStatus({
      ...base,
      stale: true,
      leadership: { mode: 'stepped-down', podName: 'bp-0' },
    });
    expect(s).toMatchObject({ activeLeader: '', forgingEnabled: false });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'PolicyStale' });
    expect(cond(s, 'LeaderElected')).toMatchObject({ status: 'False', reason: 'LeaderReleased' });
  });

  it('health: degraded at the threshold, lastProbeTime kept while the outcome is unchanged', () => {
    const round = { healthy: false, message: 'failing: x (Timeout)', atWall: T0, durationMs: 12 };
    const health = {
      configured: true,
      lastRound: round,
      consecutiveFailures: 3,
      failureThreshold: 3,
      recoveryStreak: 0,
    };
    const s = buildDesiredStatus({ ...base, health });
    expect(s.healthStatus).toEqual({
      healthy: false,
      consecutiveFailures: 3,
      message: 'failing: x (Timeout)',
      lastProbeTime: T0.toISOString(),
      responseTime: '12ms',
    });
    expect(cond(s, 'HealthCheckPassing')).toMatchObject({ status: 'False', reason: 'HealthDegraded' });
    const observed = JSON.parse(JSON.stringify(s)) as Record<string, unknown>;
    const again = buildDesiredStatus({
      ...base,
      nowWall: T1,
      observed,
      health: { ...health, lastRound: { ...round, atWall: T1, durationMs: 40 } },
    });
    expect(statusPatch(again, observed)).toBeNull();
  });

  it('canonicalJson ignores key order', () => {
    expect(canonicalJson({ a: 1, b: [{ c: 2, d: 3 }] })).toBe(canonicalJson({ b: [{ d: 3, c: 2 }], a: 1 }));
  });

  it("global mode: the status shows the forging region, this region's rank and why; cluster mode has no such block", () => {
    expect(buildDesiredStatus(base).globalArbiter).toBeUndefined();
    const status = buildDesiredStatus({
      ...base,
      global: {
        forging: false,
        forgerRegion: 'us-east',
        region: 'eu-west',
        rank: 2,
        eligibleCandidates: 3,
        role: 'standby',
        reason: 'Standby',
        message: 'region us-east forges; this region ranks 2 of 3',
        connected: true,
      },
    });
    expect(status.globalArbiter).toEqual({
      forgingRegion: 'us-east',
      region: 'eu-west',
      rank: 2,
      eligibleRegions: 3,
      role: 'standby',
      reason: 'Standby',
      message: 'region us-east forges; this region ranks 2 of 3',
      etcdReachable: true,
    });
  });
});

describe('sameCanonicalJson', () => {
  // Values as they reach the comparison: JSON from the API server, objects we built (keys in any
  // order, undefined values), and odd leaves.
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom(null, undefined, true, false, 0, -0, 1, 1.5, Number.NaN, Infinity, '', 'a', 'b'),
      fc.string({ maxLength: 3 }),
      fc.integer({ min: -3, max: 3 }),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom('a', 'b', 'c', 'type'), tie('value'), { maxKeys: 3 }),
    ),
  }));
  /** The same value with every object's keys in reverse order. */
  const reordered = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(reordered)
      : typeof v === 'object' && v !== null
        ? Object.fromEntries(
            Object.entries(v)
              .reverse()
              .map(([k, x]) => [k, reordered(x)]),
          )
        : v;

  it('answers exactly what comparing the canonical JSON strings answers', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(sameCanonicalJson(a, b)).toBe(canonicalJson(a) === canonicalJson(b));
        expect(sameCanonicalJson(a, reordered(a))).toBe(true);
        expect(sameCanonicalJson(reordered(a), b)).toBe(canonicalJson(a) === canonicalJson(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('treats an undefined value like an absent key, and tells arrays from records', () => {
    expect(sameCanonicalJson({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(sameCanonicalJson({ a: 1 }, { a: 1, b: null })).toBe(false);
    expect(sameCanonicalJson([], {})).toBe(false);
    expect(sameCanonicalJson([undefined], [null])).toBe(true);
    expect(sameCanonicalJson({ a: [1, { b: 2, c: 3 }] }, { a: [1, { c: 3, b: 2 }] })).toBe(true);
    expect(sameCanonicalJson({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
  });
});
