// Throughput of the pure decision core: no I/O, so a regression here is the core's own.
import { decide } from '../../packages/framework/dist/core/decide.js';
import { UNKNOWN_BELIEF } from '../../packages/framework/dist/core/node-belief.js';
import type { Figure } from '../figures.ts';
import type { Scenario } from './types.ts';

const SECTION = 'Decision core';

export const decideScenario: Scenario = {
  id: 'decide',
  title: SECTION,
  method: '`decide()` called 200,000 times in a loop on a forging leader’s inputs, five times.',
  run(): Promise<Figure[]> {
    const base = {
      nowMs: 10_000,
      phase: 'running' as const,
      node: { socket: 'up' as const, pid: 1, forgingMetric: null, atTip: null, message: '' },
      nodeLoaded: { ...UNKNOWN_BELIEF, forging: true, fingerprint: 'f', source: 'node-metric' as const },
      credentialsUnrevocable: false,
      revokeRetryDue: false,
      fault: null,
      leadership: {
        lockName: 'l',
        identity: 'a',
        holder: 'a',
        leaderUntilMs: 20_000,
        transitions: 1,
        observedAtMs: 0,
        reason: '',
        message: '',
      },
      policy: { forgingAllowed: true, reason: '', message: '' },
      credentials: {
        presence: 'all' as const,
        upToDate: true,
        sourcesValid: true,
        sourceFingerprint: 'f',
        reason: '',
        message: '',
      },
      config: {
        startAsNonProducing: true,
        disableSocketCheck: false,
        confirmTimeoutMs: 3000,
        handoverHoldDownMs: 30_000,
      },
    };
    const rates: number[] = [];
    for (let run = 0; run < 5; run++) {
      const n = 200_000;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) decide({ ...base, nowMs: 10_000 + (i % 20_000) });
      rates.push(n / ((performance.now() - t0) / 1000) / 1e6);
    }
    return Promise.resolve([
      {
        id: 'decide.millionPerSecond',
        section: SECTION,
        label: '`decide()` throughput',
        unit: 'M decisions/s',
        samples: rates,
        digits: 1,
        underLoad: 'higher unloaded',
      },
    ]);
  },
};
