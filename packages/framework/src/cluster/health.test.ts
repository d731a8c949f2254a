import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Clock, HealthProbe } from '../contracts/index.js';
import { INITIAL_HEALTH_COUNTERS, nextHealthCounters, runHealthRound } from './health.js';

const clock: Clock = {
  monotonicMs: () => performance.now(),
  wallNow: () => new Date(),
  sleep: (ms, signal) => sleepFor(ms, undefined, signal ? { signal } : undefined),
};

describe('nextHealthCounters', () => {
  it('counts failures and resets on the first success with recoveryThreshold 1 (Python)', () => {
    let c = INITIAL_HEALTH_COUNTERS;
    c = nextHealthCounters(c, false, 1);
    c = nextHealthCounters(c, false, 1);
    expect(c.consecutiveFailures).toBe(2);
    expect(nextHealthCounters(c, true, 1).consecutiveFailures).toBe(0);
  });

  it('needs recoveryThreshold healthy rounds in a row; a failure restarts the streak', () => {
    let c = nextHealthCounters(INITIAL_HEALTH_COUNTERS, false, 3);
    c = nextHealthCounters(c, true, 3);
    c = nextHealthCounters(c, true, 3);
    expect(c).toEqual({ consecutiveFailures: 1, recoveryStreak: 2 });
    c = nextHealthCounters(c, false, 3);
    expect(c).toEqual({ consecutiveFailures: 2, recoveryStreak: 0 });
    for (let i = 0; i < 3; i++) c = nextHealthCounters(c, true, 3);
    expect(c).toEqual(INITIAL_HEALTH_COUNTERS);
  });

  it('property: failures equal the length of the trailing failure run once recovery completes', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 50 }), fc.integer({ min: 1, max: 5 }), (rounds, k) => {
        let c = INITIAL_HEALTH_COUNTERS;
        for (const healthy of rounds) c = nextHealthCounters(c, healthy, k);
        let trailingFailures = 0;
        for (let i = rounds.length - 1; i >= 0 && !rounds[i]; i--) trailingFailures++;
        if (trailingFailures > 0) expect(c.consecutiveFailures).toBeGreaterThanOrEqual(trailingFailures);
        let trailingOk = 0;
        for (let i = rounds.length - 1; i >= 0 && rounds[i]; i--) trailingOk++;
        if (trailingOk >= k) expect(c.consecutiveFailures).toBe(0);
        expect(c.recoveryStreak).toBeLessThan(k);
      }),
    );
  });
});

describe('runHealthRound', () => {
  const probe = (id: string, behave: (signal: AbortSignal) => Promise<boolean>): HealthProbe => ({
    id,
    check: async (signal) => ({
      healthy: await behave(signal),
      reason: 'R',
      message: `msg ${id}`,
      latencyMs: 1,
    }),
  });

  it('is healthy only when every probe is healthy', async () => {
    const ok = await runHealthRound(
      [probe('a', async () => true), probe('b', async () => true)],
      clock,
      1000,
      new AbortController().signal,
    );
    expect(ok.healthy).toBe(true);
    const bad = await runHealthRound(
      [probe('a', async () => true), probe('b', async () => false)],
      clock,
      1000,
      new AbortController().signal,
    );
    expect(bad.healthy).toBe(false);
    expect(bad.message).toBe('failing: b (R)');
  });

  it('times out a probe that ignores its signal, and counts a throwing probe as failed', async () => {
    const hang = probe('hang', () => new Promise<boolean>(() => undefined));
    const thrower: HealthProbe = {
      id: 'boom',
      check: async () => {
        throw new Error('kaput');
      },
    };
    const began = performance.now();
    const round = await runHealthRound([hang, thrower], clock, 200, new AbortController().signal);
    expect(performance.now() - began).toBeLessThan(2000);
    expect(round.healthy).toBe(false);
    expect(round.probes.map((p) => p.reason).sort()).toEqual(['ProbeError', 'Timeout']);
  });

  it('passes an AbortSignal that fires at the timeout', async () => {
    let aborted = false;
    const polite = probe(
      'polite',
      (signal) =>
        new Promise<boolean>((resolve) =>
          signal.addEventListener('abort', () => {
            aborted = true;
            resolve(false);
          }),
        ),
    );
    await runHealthRound([polite], clock, 100, new AbortController().signal);
    expect(aborted).toBe(true);
  });

  it('no probes is not healthy', async () => {
    expect((await runHealthRound([], clock, 100, new AbortController().signal)).healthy).toBe(false);
  });
});
