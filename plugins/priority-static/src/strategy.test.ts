import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { pluginShapeProblems, type ForgeState, type PriorityInput } from '@cardano-forge/framework';
import plugin, {
  PLUGIN_VERSION,
  computeStaticPriority,
  priorityStaticOptionsSchema,
  priorityStaticPlugin,
  type PriorityStaticOptions,
} from './index.js';

const defaults: PriorityStaticOptions = priorityStaticOptionsSchema.parse({});

function input(partial: Partial<PriorityInput>): PriorityInput {
  return {
    basePriority: 5,
    consecutiveFailures: 0,
    failureThreshold: 3,
    state: 'Priority-based',
    ...partial,
  };
}

describe('computeStaticPriority (table)', () => {
  const cases: ReadonlyArray<{
    name: string;
    in: Partial<PriorityInput>;
    opts?: Partial<PriorityStaticOptions>;
    effective: number;
    reason: string;
  }> = [
    { name: 'healthy', in: { consecutiveFailures: 0 }, effective: 5, reason: 'healthy_operation' },
    { name: 'one failure', in: { consecutiveFailures: 1 }, effective: 15, reason: 'health_intermittent' },
    {
      name: 'threshold-1 failures',
      in: { consecutiveFailures: 2 },
      effective: 15,
      reason: 'health_intermittent',
    },
    { name: 'at threshold', in: { consecutiveFailures: 3 }, effective: 105, reason: 'health_degraded' },
    {
      name: 'far beyond threshold',
      in: { consecutiveFailures: 50 },
      effective: 105,
      reason: 'health_degraded',
    },
    {
      name: 'Enabled ignores failures',
      in: { state: 'Enabled', consecutiveFailures: 9 },
      effective: 5,
      reason: 'not_priority_based',
    },
    {
      name: 'Disabled ignores failures',
      in: { state: 'Disabled', consecutiveFailures: 9 },
      effective: 5,
      reason: 'not_priority_based',
    },
    {
      name: 'threshold 1: first failure is degraded',
      in: { consecutiveFailures: 1, failureThreshold: 1 },
      effective: 105,
      reason: 'health_degraded',
    },
    {
      name: 'option threshold overrides input',
      in: { consecutiveFailures: 3 },
      opts: { failureThreshold: 5 },
      effective: 15,
      reason: 'health_intermittent',
    },
    {
      name: 'option threshold reached',
      in: { consecutiveFailures: 5, failureThreshold: 99 },
      opts: { failureThreshold: 5 },
      effective: 105,
      reason: 'health_degraded',
    },
    {
      name: 'custom penalties minor',
      in: { basePriority: 2, consecutiveFailures: 1 },
      opts: { minorPenalty: 3, majorPenalty: 7 },
      effective: 5,
      reason: 'health_intermittent',
    },
    {
      name: 'custom penalties major',
      in: { basePriority: 2, consecutiveFailures: 4 },
      opts: { minorPenalty: 3, majorPenalty: 7 },
      effective: 9,
      reason: 'health_degraded',
    },
    {
      name: 'zero threshold from host is clamped to 1',
      in: { consecutiveFailures: 0, failureThreshold: 0 },
      effective: 5,
      reason: 'healthy_operation',
    },
    {
      name: 'negative failures count as healthy',
      in: { consecutiveFailures: -1 },
      effective: 5,
      reason: 'healthy_operation',
    },
  ];
  it.each(cases)('$name → $effective ($reason)', (c) => {
    const r = computeStaticPriority(input(c.in), { ...defaults, ...c.opts });
    expect(r.effectivePriority).toBe(c.effective);
    expect(r.reason).toBe(c.reason);
    expect(r.message).toContain(String(c.effective));
  });
});

describe('computeStaticPriority (properties)', () => {
  const state = fc.constantFrom<ForgeState>('Enabled', 'Disabled', 'Priority-based');
  const opts = fc
    .record({ minorPenalty: fc.integer({ min: 0, max: 500 }), extra: fc.integer({ min: 0, max: 500 }) })
    .map(({ minorPenalty, extra }) => ({ minorPenalty, majorPenalty: minorPenalty + extra }));
  const base = fc.integer({ min: 1, max: 999 });
  const threshold = fc.integer({ min: 1, max: 20 });

  it('is monotone (non-decreasing) in consecutive failures', () => {
    fc.assert(
      fc.property(base, threshold, state, opts, fc.nat(100), fc.nat(100), (b, t, s, o, f1, f2) => {
        const [lo, hi] = f1 <= f2 ? [f1, f2] : [f2, f1];
        const a = computeStaticPriority(
          { basePriority: b, failureThreshold: t, state: s, consecutiveFailures: lo },
          o,
        );
        const z = computeStaticPriority(
          { basePriority: b, failureThreshold: t, state: s, consecutiveFailures: hi },
          o,
        );
        expect(z.effectivePriority).toBeGreaterThanOrEqual(a.effectivePriority);
      }),
    );
  });

  it('is never below the base priority, and equals base when healthy or not Priority-based', () => {
    fc.assert(
      fc.property(base, threshold, state, opts, fc.nat(100), (b, t, s, o, f) => {
        const r = computeStaticPriority(
          { basePriority: b, failureThreshold: t, state: s, consecutiveFailures: f },
          o,
        );
        expect(r.effectivePriority).toBeGreaterThanOrEqual(b);
        if (f === 0 || s !== 'Priority-based') expect(r.effectivePriority).toBe(b);
      }),
    );
  });

  it('adds exactly one of {0, minor, major} and picks it by the threshold', () => {
    fc.assert(
      fc.property(base, threshold, opts, fc.nat(100), (b, t, o, f) => {
        const r = computeStaticPriority(
          { basePriority: b, failureThreshold: t, state: 'Priority-based', consecutiveFailures: f },
          o,
        );
        const expected = f === 0 ? b : f < t ? b + o.minorPenalty : b + o.majorPenalty;
        expect(r.effectivePriority).toBe(expected);
      }),
    );
  });

  it('gives 5 → 5 / 15 / 105 with threshold 3 and default penalties', () => {
    fc.assert(
      fc.property(fc.nat(1000), (f) => {
        const r = computeStaticPriority(input({ consecutiveFailures: f, failureThreshold: 3 }), defaults);
        expect(r.effectivePriority).toBe(f === 0 ? 5 : f < 3 ? 15 : 105);
      }),
    );
  });
});

describe('options schema', () => {
  it('applies the seed defaults', () => {
    expect(priorityStaticOptionsSchema.parse({})).toEqual({ minorPenalty: 10, majorPenalty: 100 });
  });
  it.each([
    [{ minorPenalty: -1 }, 'minorPenalty'],
    [{ majorPenalty: 1.5 }, 'majorPenalty'],
    [{ failureThreshold: 0 }, 'failureThreshold'],
    [{ minorPenalty: 50, majorPenalty: 20 }, 'majorPenalty'],
    [{ minorPenalty: 1, typo: true }, ''],
  ])('rejects %j', (value, path) => {
    const r = priorityStaticOptionsSchema.safeParse(value);
    expect(r.success).toBe(false);
    if (path) expect(r.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });
  it('validates through the Standard Schema interface the host uses', async () => {
    const ok = await plugin.optionsSchema['~standard'].validate({ failureThreshold: 4 });
    expect(ok).toEqual({ value: { minorPenalty: 10, majorPenalty: 100, failureThreshold: 4 } });
    const bad = await plugin.optionsSchema['~standard'].validate({ minorPenalty: 'ten' });
    expect('issues' in bad && bad.issues?.length).toBeTruthy();
  });
});

describe('plugin object', () => {
  it('is a well-formed priority-strategy plugin, default and named export alike', async () => {
    expect(plugin).toBe(priorityStaticPlugin);
    expect(pluginShapeProblems(plugin)).toEqual([]);
    expect(plugin.kind).toBe('priority-strategy');
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      name: string;
      version: string;
      keywords?: string[];
    };
    expect(plugin.name).toBe(pkg.name);
    expect(PLUGIN_VERSION).toBe(pkg.version);
    expect(pkg.keywords).toContain('cardano-forge-plugin');
    // create() ignores the context: a pure strategy needs none of it.
    const strategy = await plugin.create({} as never, {
      minorPenalty: 10,
      majorPenalty: 100,
      failureThreshold: 2,
    });
    expect(strategy.compute(input({ consecutiveFailures: 2 })).effectivePriority).toBe(105);
  });
});
