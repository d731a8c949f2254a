import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { PriorityStrategy } from '../contracts/index.js';
import { computeEffectivePolicy, parseDurationMs, readSpecHealthCheck } from './policy.js';

/** The seed's penalty rule (+10 below the threshold, +100 at it), Priority-based only. */
const penalty: PriorityStrategy = {
  compute: ({ basePriority, consecutiveFailures, failureThreshold, state }) => {
    if (state !== 'Priority-based' || consecutiveFailures === 0)
      return { effectivePriority: basePriority, reason: 'healthy_operation', message: 'ok' };
    return consecutiveFailures >= failureThreshold
      ? { effectivePriority: basePriority + 100, reason: 'health_degraded', message: 'degraded' }
      : { effectivePriority: basePriority + 10, reason: 'health_intermittent', message: 'intermittent' };
  },
};

const NOW = new Date('2030-01-01T12:00:00Z');
const defaults = { basePriority: 100, failureThreshold: 3 };
const policy = (spec: unknown, consecutiveFailures = 0) =>
  computeEffectivePolicy({ spec, nowWall: NOW, consecutiveFailures, priorityStrategy: penalty, defaults });

describe('computeEffectivePolicy: table', () => {
  const future = '2030-01-01T13:00:00Z';
  const past = '2030-01-01T11:00:00Z';
  it.each<
    [
      string,
      unknown,
      number,
      {
        state: string;
        priority: number;
        allowed: boolean;
        reason: string;
        active?: boolean;
        expired?: boolean;
        problems?: number;
      },
    ]
  >([
    [
      'empty spec = defaults',
      {},
      0,
      { state: 'Priority-based', priority: 100, allowed: true, reason: 'healthy_operation', problems: 0 },
    ],
    [
      'missing spec',
      undefined,
      0,
      { state: 'Priority-based', priority: 100, allowed: true, reason: 'healthy_operation', problems: 1 },
    ],
    [
      'Enabled',
      { forgeState: 'Enabled', priority: 5 },
      0,
      { state: 'Enabled', priority: 5, allowed: true, reason: 'cluster_enabled' },
    ],
    [
      'Disabled',
      { forgeState: 'Disabled' },
      0,
      { state: 'Disabled', priority: 100, allowed: false, reason: 'cluster_disabled' },
    ],
    [
      'Priority-based 1 failure',
      { priority: 5 },
      1,
      { state: 'Priority-based', priority: 15, allowed: true, reason: 'health_intermittent' },
    ],
    [
      'Priority-based 3 failures',
      { priority: 5 },
      3,
      { state: 'Priority-based', priority: 105, allowed: true, reason: 'health_degraded' },
    ],
    [
      'spec threshold',
      { priority: 5, healthCheck: { failureThreshold: 1 } },
      1,
      { state: 'Priority-based', priority: 105, allowed: true, reason: 'health_degraded' },
    ],
    [
      'Enabled ignores failures',
      { forgeState: 'Enabled', priority: 5 },
      7,
      { state: 'Enabled', priority: 5, allowed: true, reason: 'cluster_enabled' },
    ],
    [
      'override Disabled without expiry (G3)',
      { override: { enabled: true, forceState: 'Disabled' } },
      0,
      {
        state: 'Disabled',
        priority: 100,
        allowed: false,
        reason: 'manual_override',
        active: true,
        problems: 0,
      },
    ],
    [
      'override Disabled future expiry',
      { override: { enabled: true, forceState: 'Disabled', expiresAt: future } },
      0,
      { state: 'Disabled', priority: 100, allowed: false, reason: 'manual_override', active: true },
    ],
    [
      'override expired',
      { forgeState: 'Enabled', override: { enabled: true, forceState: 'Disabled', expiresAt: past } },
      0,
      {
        state: 'Enabled',
        priority: 100,
        allowed: true,
        reason: 'cluster_enabled',
        active: false,
        expired: true,
        problems: 1,
      },
    ],
    [
      'override disabled flag',
      { override: { enabled: false, forceState: 'Disabled' } },
      0,
      { state: 'Priority-based', priority: 100, allowed: true, reason: 'healthy_operation', active: false },
    ],
    [
      'override Enabled over Disabled',
      { forgeState: 'Disabled', override: { enabled: true, forceState: 'Enabled' } },
      0,
      { state: 'Enabled', priority: 100, allowed: true, reason: 'manual_override', active: true },
    ],
    [
      'forcePriority is pinned (no penalty)',
      { override: { enabled: true, forcePriority: 7 } },
      5,
      {
        state: 'Priority-based',
        priority: 7,
        allowed: true,
        reason: 'manual_override',
        active: true,
        problems: 0,
      },
    ],
    [
      'forcePriority with forceState Enabled',
      { override: { enabled: true, forceState: 'Enabled', forcePriority: 7 } },
      0,
      { state: 'Enabled', priority: 7, allowed: true, reason: 'manual_override', active: true, problems: 1 },
    ],
    [
      'override forcing nothing',
      { override: { enabled: true, reason: 'oops' } },
      0,
      {
        state: 'Priority-based',
        priority: 100,
        allowed: true,
        reason: 'healthy_operation',
        active: false,
        problems: 1,
      },
    ],
    [
      'unparsable expiry',
      { override: { enabled: true, forceState: 'Disabled', expiresAt: 'tomorrow' } },
      0,
      {
        state: 'Priority-based',
        priority: 100,
        allowed: true,
        reason: 'healthy_operation',
        active: false,
        expired: false,
        problems: 1,
      },
    ],
    [
      'naive expiry (no zone)',
      { override: { enabled: true, forceState: 'Disabled', expiresAt: '2031-01-01T00:00:00' } },
      0,
      {
        state: 'Priority-based',
        priority: 100,
        allowed: true,
        reason: 'healthy_operation',
        active: false,
        problems: 1,
      },
    ],
    [
      'unknown forgeState fails closed',
      { forgeState: 'disabled' },
      0,
      { state: 'Disabled', priority: 100, allowed: false, reason: 'invalid_forge_state', problems: 1 },
    ],
    [
      'invalid priority falls back',
      { priority: 5000 },
      0,
      { state: 'Priority-based', priority: 100, allowed: true, reason: 'healthy_operation', problems: 1 },
    ],
    [
      'wrong types tolerated',
      { priority: 'high', override: 'yes', healthCheck: { interval: 'often' } },
      0,
      { state: 'Priority-based', priority: 100, allowed: true, reason: 'healthy_operation', problems: 3 },
    ],
  ])('%s', (_name, spec, failures, want) => {
    const p = policy(spec, failures);
    expect(p.effectiveState).toBe(want.state);
    expect(p.effectivePriority).toBe(want.priority);
    expect(p.forgingAllowed).toBe(want.allowed);
    expect(p.reason).toBe(want.reason);
    if (want.active !== undefined) expect(p.override.active).toBe(want.active);
    if (want.expired !== undefined) expect(p.override.expired).toBe(want.expired);
    if (want.problems !== undefined) expect(p.problems).toHaveLength(want.problems);
  });

  it('an expiry exactly now is still active; one millisecond later it is expired', () => {
    const spec = { override: { enabled: true, forceState: 'Disabled', expiresAt: NOW.toISOString() } };
    expect(policy(spec).override.active).toBe(true);
    const later = computeEffectivePolicy({
      spec,
      nowWall: new Date(NOW.getTime() + 1),
      consecutiveFailures: 0,
      priorityStrategy: penalty,
      defaults,
    });
    expect(later.override).toMatchObject({ active: false, expired: true });
    expect(later.forgingAllowed).toBe(true);
  });

  it('a throwing strategy is reported, never thrown', () => {
    const broken: PriorityStrategy = {
      compute: () => {
        throw new Error('boom');
      },
    };
    const p = computeEffectivePolicy({
      spec: { priority: 9 },
      nowWall: NOW,
      consecutiveFailures: 1,
      priorityStrategy: broken,
      defaults,
    });
    expect(p.effectivePriority).toBe(9);
    expect(p.problems.join()).toContain('boom');
  });
});

describe('computeEffectivePolicy: properties', () => {
  const arbSpec = fc.record(
    {
      forgeState: fc.oneof(fc.constantFrom('Enabled', 'Disabled', 'Priority-based'), fc.anything()),
      priority: fc.oneof(fc.integer({ min: 1, max: 999 }), fc.anything()),
      healthCheck: fc.oneof(
        fc.record({ failureThreshold: fc.integer({ min: -2, max: 12 }) }, { requiredKeys: [] }),
        fc.anything(),
      ),
      override: fc.oneof(
        fc.record(
          {
            enabled: fc.boolean(),
            forceState: fc.constantFrom('Enabled', 'Disabled'),
            forcePriority: fc.integer({ min: 1, max: 999 }),
            expiresAt: fc.oneof(
              fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
              fc.string(),
            ),
            reason: fc.string(),
          },
          { requiredKeys: [] },
        ),
        fc.anything(),
      ),
    },
    { requiredKeys: [] },
  );

  it('never throws; forging is allowed exactly when the state is not Disabled; Disabled wins', () => {
    fc.assert(
      fc.property(arbSpec, fc.nat(20), fc.date({ noInvalidDate: true }), (spec, failures, now) => {
        const p = computeEffectivePolicy({
          spec,
          nowWall: now,
          consecutiveFailures: failures,
          priorityStrategy: penalty,
          defaults,
        });
        expect(p.forgingAllowed).toBe(p.effectiveState !== 'Disabled');
        expect(Number.isFinite(p.effectivePriority)).toBe(true);
        const s = spec as Record<string, unknown>;
        if (s.forgeState === 'Disabled' && !p.override.active) expect(p.forgingAllowed).toBe(false);
        const ov = s.override as Record<string, unknown> | undefined;
        if (p.override.active && ov?.forceState === 'Disabled') expect(p.forgingAllowed).toBe(false);
        if (p.override.expired) expect(p.override.active).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('health failures never change whether a cluster may forge (priority only)', () => {
    fc.assert(
      fc.property(arbSpec, fc.nat(20), fc.nat(20), (spec, f1, f2) => {
        const a = computeEffectivePolicy({
          spec,
          nowWall: NOW,
          consecutiveFailures: f1,
          priorityStrategy: penalty,
          defaults,
        });
        const b = computeEffectivePolicy({
          spec,
          nowWall: NOW,
          consecutiveFailures: f2,
          priorityStrategy: penalty,
          defaults,
        });
        expect(a.forgingAllowed).toBe(b.forgingAllowed);
        expect(a.effectiveState).toBe(b.effectiveState);
      }),
      { numRuns: 500 },
    );
  });

  it('is deterministic', () => {
    fc.assert(
      fc.property(arbSpec, fc.nat(20), (spec, failures) => {
        expect(policy(spec, failures)).toEqual(policy(spec, failures));
      }),
      { numRuns: 300 },
    );
  });
});

describe('spec.healthCheck', () => {
  it('parses durations and thresholds and reports invalid ones', () => {
    expect(parseDurationMs('30s')).toBe(30_000);
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('2m')).toBe(120_000);
    expect(parseDurationMs('1h')).toBe(3_600_000);
    expect(parseDurationMs('1d')).toBeNull();
    expect(
      readSpecHealthCheck({
        healthCheck: { interval: '5s', timeout: '1s', failureThreshold: 2, recoveryThreshold: 3 },
      }),
    ).toEqual({
      healthCheck: { intervalMs: 5000, timeoutMs: 1000, failureThreshold: 2, recoveryThreshold: 3 },
      problems: [],
    });
    const bad = readSpecHealthCheck({ healthCheck: { interval: '0s', failureThreshold: 0 } });
    expect(bad.healthCheck.intervalMs).toBeUndefined();
    expect(bad.healthCheck.failureThreshold).toBeUndefined();
    expect(bad.problems).toHaveLength(2);
  });
});
