import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { Clock } from '../contracts/index.js';
import { KNOWN_SLOT_REFERENCES } from '../node/slot-clock.js';
import { kesGenesisFor } from './expiry.js';
import { PUBLISHED_KES_SKEY, PUBLISHED_KES_VKEY_HEX, issueOperationalCertificate } from './fixtures.js';
import { createKesMonitor, KES_METRIC_NAMES, type KesMonitorOptions } from './monitor.js';

const DAY = 86_400;
// Start period 1000 on mainnet expires at 2024-10-17T21:44:51Z.
const EXPIRES_MS = Date.parse('2024-10-17T21:44:51Z');

function setup(files: Record<string, string>, overrides: Partial<KesMonitorOptions> = {}) {
  let nowMs = EXPIRES_MS - 30 * DAY * 1000;
  const sleeps: number[] = [];
  const clock: Clock = {
    monotonicMs: () => nowMs,
    wallNow: () => new Date(nowMs),
    sleep: (ms, signal) => {
      sleeps.push(ms);
      nowMs += ms;
      // Yield to the event loop like a real timer would.
      return new Promise((resolve, reject) =>
        setImmediate(() => (signal?.aborted ? reject(signal.reason as Error) : resolve())),
      );
    },
  };
  const registry = new Registry();
  const lines: Array<{ level: number; msg: string }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const monitor = createKesMonitor(
    {
      clock,
      registry,
      logger,
      readText: async (path) => {
        const text = files[path];
        if (text === undefined) throw new Error(`ENOENT: no such file ${path}`);
        return text;
      },
    },
    {
      opCertPath: '/secrets/node.cert',
      kesKeyPath: '/secrets/kes.skey',
      network: 'mainnet',
      genesis: kesGenesisFor('mainnet'),
      slotReference: KNOWN_SLOT_REFERENCES.mainnet!,
      warnBeforeSeconds: 7 * DAY,
      intervalMs: 5 * DAY * 1000,
      ...overrides,
    },
  );
  const value = async (name: string) =>
    (await registry.getSingleMetric(name)!.get()).values.map((v) => v.value);
  return { monitor, value, lines, sleeps, advance: (ms: number) => (nowMs += ms) };
}

const cert = issueOperationalCertificate({
  kesVerificationKey: Buffer.from(PUBLISHED_KES_VKEY_HEX, 'hex'),
  counter: 4,
  kesPeriod: 1000,
});

describe('KES monitor', () => {
  it('exports expiry, period start and counter of the source certificate', async () => {
    const { monitor, value } = setup({ '/secrets/node.cert': cert, '/secrets/kes.skey': PUBLISHED_KES_SKEY });
    const report = await monitor.check();
    expect(report).toMatchObject({ ok: true, counter: 4, kesPeriodStart: 1000, pair: { ok: true } });
    expect(await value(KES_METRIC_NAMES.secondsUntilExpiry)).toEqual([30 * DAY]);
    expect(await value(KES_METRIC_NAMES.periodStart)).toEqual([1000]);
    expect(await value(KES_METRIC_NAMES.opcertCounter)).toEqual([4]);
    expect(await value(KES_METRIC_NAMES.pairValid)).toEqual([1]);
    expect(await value(KES_METRIC_NAMES.checkSuccess)).toEqual([1]);
    expect(monitor.status()?.message).not.toMatch(/^WARNING/);
  });

  it('run() re-reads every interval on the injected clock and warns near expiry', async () => {
    const { monitor, value, lines, sleeps } = setup({
      '/secrets/node.cert': cert,
      '/secrets/kes.skey': PUBLISHED_KES_SKEY,
    });
    const abort = new AbortController();
    const stopAfter = (async () => {
      while (sleeps.length < 5) await new Promise((r) => setImmediate(r));
      // The fifth sleep has advanced the clock; let the read after it complete, then stop.
      while (!monitor.status()?.message.includes('5.0 days')) await new Promise((r) => setImmediate(r));
      abort.abort();
    })();
    await Promise.all([monitor.run(abort.signal), stopAfter]);
    expect(sleeps.slice(0, 5)).toEqual(Array(5).fill(5 * DAY * 1000));
    // After five 5-day sleeps the last read was 5 days before expiry: inside the 7-day threshold.
    expect(monitor.status()?.message).toMatch(/^WARNING: the KES key expires in 5\.0 days/);
    expect((await value(KES_METRIC_NAMES.secondsUntilExpiry))[0]).toBe(5 * DAY);
    expect(lines.some((l) => l.level === 40 && /expires in 5\.0 days/.test(l.msg))).toBe(true);
  });

  it('reports a KES key that does not belong to the certificate', async () => {
    const foreign = issueOperationalCertificate({
      kesVerificationKey: new Uint8Array(32).fill(1),
      counter: 2,
      kesPeriod: 1000,
    });
    const { monitor, value, lines } = setup({
      '/secrets/node.cert': foreign,
      '/secrets/kes.skey': PUBLISHED_KES_SKEY,
    });
    const report = await monitor.check();
    expect(report.message).toMatch(/^WARNING: the KES signing key does not belong/);
    expect(await value(KES_METRIC_NAMES.pairValid)).toEqual([0]);
    expect(lines.some((l) => l.level === 40 && /does not belong/.test(l.msg))).toBe(true);
  });

  it('removes the series when the certificate cannot be read, instead of exporting 0', async () => {
    const files: Record<string, string> = {
      '/secrets/node.cert': cert,
      '/secrets/kes.skey': PUBLISHED_KES_SKEY,
    };
    const { monitor, value, lines } = setup(files);
    await monitor.check();
    delete files['/secrets/node.cert'];
    const report = await monitor.check();
    expect(report).toEqual({ ok: false, message: expect.stringMatching(/KES check failed: ENOENT/) });
    expect(await value(KES_METRIC_NAMES.secondsUntilExpiry)).toEqual([]);
    expect(await value(KES_METRIC_NAMES.opcertCounter)).toEqual([]);
    expect(await value(KES_METRIC_NAMES.checkSuccess)).toEqual([0]);
    expect(lines.some((l) => l.level === 50)).toBe(true);
  });

  it('exports counter and period but no expiry for an unknown network', async () => {
    const { monitor, value } = setup(
      { '/secrets/node.cert': cert },
      { network: 'sanchonet', genesis: null, slotReference: null, kesKeyPath: undefined },
    );
    const report = await monitor.check();
    expect(report).toMatchObject({ ok: true, expiry: null, pair: null, counter: 4 });
    expect(report.message).toMatch(/KES expiry unknown for network "sanchonet"/);
    expect(await value(KES_METRIC_NAMES.secondsUntilExpiry)).toEqual([]);
    expect(await value(KES_METRIC_NAMES.opcertCounter)).toEqual([4]);
  });
});
