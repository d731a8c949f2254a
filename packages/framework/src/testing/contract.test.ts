import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { HealthProbe, PriorityStrategy } from '../contracts/index.js';
import { definePlugin } from '../plugin/define.js';
import { checkHealthProbePlugin, checkPriorityStrategyPlugin, priorityInputGrid } from './contract.js';
import { FakeClock } from './manual-clock.js';
import { scriptedHealthProbe, thresholdPriorityStrategy } from './scripted.js';

const probePlugin = (make: (id: string, options: { healthy: boolean }) => HealthProbe) =>
  definePlugin({
    kind: 'health-probe',
    name: 'probe-under-test',
    version: '1.0.0',
    optionsSchema: z.strictObject({ healthy: z.boolean().default(true) }),
    create: (context, options) => make(context.instanceId, options),
  });

const strategyPlugin = (strategy: () => PriorityStrategy) =>
  definePlugin({
    kind: 'priority-strategy',
    name: 'strategy-under-test',
    version: '1.0.0',
    optionsSchema: z.strictObject({}),
    create: () => strategy(),
  });

const wellBehaved = probePlugin((id, options) => ({
  id,
  async check(signal) {
    if (signal.aborted) return { healthy: false, reason: 'Aborted', message: 'aborted', latencyMs: 0 };
    return {
      healthy: options.healthy,
      reason: options.healthy ? 'Ok' : 'Down',
      message: 'checked',
      latencyMs: 1,
    };
  },
}));

describe('checkHealthProbePlugin', () => {
  it('passes a probe that keeps the contract and returns what check() answered', async () => {
    const report = await checkHealthProbePlugin(wellBehaved, { healthy: false });
    expect(report.problems).toEqual([]);
    expect(report.results[0]).toEqual({ healthy: false, reason: 'Down', message: 'checked', latencyMs: 1 });
  });

  it('passes the scripted probe and drives create() with the given context', async () => {
    let seenRegion = '';
    const plugin = probePlugin((id) => Object.assign(scriptedHealthProbe(id), { id }));
    const wrapped = definePlugin({
      ...plugin,
      create: (context, options) => {
        seenRegion = context.identity.region;
        return plugin.create(context, options);
      },
    });
    const report = await checkHealthProbePlugin(wrapped, {}, { context: { identity: { region: 'eu-1' } } });
    expect(report.problems).toEqual([]);
    expect(seenRegion).toBe('eu-1');
  });

  it('reports a probe that throws for an unhealthy target', async () => {
    const plugin = probePlugin((id) => ({
      id,
      async check() {
        throw new Error('ECONNREFUSED');
      },
    }));
    const report = await checkHealthProbePlugin(plugin);
    expect(report.problems).toContain(
      'check() threw: ECONNREFUSED (return healthy: false with a reason instead)',
    );
  });

  it('reports a probe that ignores its abort signal, a malformed result and a fixed id', async () => {
    const plugin = probePlugin(() => ({
      id: 'always-the-same',
      check: (signal) =>
        signal.aborted
          ? new Promise(() => undefined)
          : Promise.resolve({ healthy: 'yes', reason: '', message: 'm', latencyMs: -1 } as never),
    }));
    const report = await checkHealthProbePlugin(plugin, {}, { settleWithinMs: 50 });
    expect(report.problems).toEqual([
      'id is "always-the-same", not the context\'s instanceId "contract-check" (two instances would share metric labels)',
      'check(): healthy is not a boolean',
      'check(): reason is empty or not a string',
      'check(): latencyMs is not a finite number >= 0',
      'check() with an aborted signal did not settle within 50 ms (stop when the signal fires)',
    ]);
  });

  it('reports bad options with their path, and the wrong kind or a missing brand before create()', async () => {
    expect((await checkHealthProbePlugin(wellBehaved, { healthy: 'no' })).problems).toEqual([
      expect.stringMatching(/^option "healthy": .*boolean/),
    ]);
    const strategy = strategyPlugin(() => thresholdPriorityStrategy());
    expect((await checkHealthProbePlugin(strategy)).problems).toEqual([
      'kind is "priority-strategy", expected "health-probe"',
    ]);
    const { $$type: _brand, ...unbranded } = wellBehaved;
    expect((await checkHealthProbePlugin(unbranded)).problems).toEqual([
      'the plugin is not a cardano-forge plugin (missing brand "cardano-forge.plugin"; was it made with definePlugin?)',
    ]);
  });

  it('reports a close() that hangs', async () => {
    const plugin = probePlugin((id) => ({
      ...scriptedHealthProbe(id),
      close: () => new Promise<void>(() => undefined),
    }));
    const report = await checkHealthProbePlugin(plugin, {}, { settleWithinMs: 50 });
    expect(report.problems).toEqual(['close() did not settle within 50 ms']);
  });
});

describe('checkPriorityStrategyPlugin', () => {
  it('passes a pure, monotonic strategy and returns every computed result', async () => {
    const report = await checkPriorityStrategyPlugin(strategyPlugin(() => thresholdPriorityStrategy(100)));
    expect(report.problems).toEqual([]);
    expect(report.results).toHaveLength(priorityInputGrid().length);
    const failing = report.results.find(
      (r) => r.input.basePriority === 100 && r.input.consecutiveFailures > r.input.failureThreshold,
    );
    expect(failing?.result.effectivePriority).toBe(200);
  });

  it('reports an impure strategy, one that throws, one that is async and one that prefers failing clusters', async () => {
    let calls = 0;
    const impure = await checkPriorityStrategyPlugin(
      strategyPlugin(() => ({
        compute: (input) => ({ effectivePriority: input.basePriority + calls++, reason: 'r', message: '' }),
      })),
    );
    expect(impure.problems[0]).toMatch(/^compute\(.*\) is not pure: /);

    const throwing = await checkPriorityStrategyPlugin(
      strategyPlugin(() => ({
        compute: (input) => {
          if (input.state === 'Disabled') throw new Error('no state');
          return { effectivePriority: input.basePriority, reason: 'r', message: '' };
        },
      })),
    );
    expect(throwing.problems).toContain(
      'compute({"state":"Disabled","basePriority":1,"failureThreshold":1,"consecutiveFailures":0}) threw: no state',
    );

    const asynchronous = await checkPriorityStrategyPlugin(
      strategyPlugin(() => ({ compute: async () => ({ effectivePriority: 1 }) }) as never),
    );
    expect(asynchronous.problems[0]).toMatch(/returned a Promise: compute\(\) must be synchronous$/);

    const inverted = await checkPriorityStrategyPlugin(
      strategyPlugin(() => ({
        compute: (input) => ({
          effectivePriority: input.basePriority - input.consecutiveFailures,
          reason: 'r',
          message: '',
        }),
      })),
    );
    expect(inverted.problems[0]).toMatch(/^more failures made the cluster more preferred: /);
  });

  it('hands create() a context whose clock the test chose', async () => {
    const clock = new FakeClock();
    let seen: unknown;
    const plugin = definePlugin({
      ...strategyPlugin(() => thresholdPriorityStrategy()),
      create: (context) => {
        seen = context.clock;
        return thresholdPriorityStrategy();
      },
    });
    expect((await checkPriorityStrategyPlugin(plugin, {}, { context: { clock } })).problems).toEqual([]);
    expect(seen).toBe(clock);
  });
});
