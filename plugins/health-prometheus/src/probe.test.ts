// The probe's orchestration (headers, token file, deadline, result shape) with the I/O replaced.
// The real HTTP path is covered by the integration tests against a real Prometheus.
import { describe, expect, it } from 'vitest';
import type { Clock } from '@cardano-forge/framework';
import type { Dispatcher } from 'undici';
import type { QueryOutcome } from './evaluate.js';
import { healthPrometheusOptionsSchema, type HealthPrometheusOptionsInput } from './options.js';
import { createPrometheusProbe, redactedUrl, resolveChecks, type PrometheusProbeIo } from './probe.js';
import type { InstantQueryRequest } from './prometheus-api.js';

/** A clock whose sleeps end only when the test says so. */
function manualClock() {
  let now = 0;
  const sleepers: { until: number; resolve: () => void }[] = [];
  const clock: Clock = {
    monotonicMs: () => now,
    wallNow: () => new Date(now),
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        const entry = { until: now + ms, resolve };
        sleepers.push(entry);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
  };
  const advance = (ms: number) => {
    now += ms;
    for (const s of sleepers.filter((s) => s.until <= now)) s.resolve();
  };
  return { clock, advance };
}

const dispatcher = {} as Dispatcher;

function setup(
  input: Omit<HealthPrometheusOptionsInput, 'url'>,
  answer: (req: InstantQueryRequest) => Promise<QueryOutcome> | QueryOutcome,
) {
  const { clock, advance } = manualClock();
  const requests: InstantQueryRequest[] = [];
  const tokenReads: string[] = [];
  let token: string | Error = 'secret-token';
  const io: PrometheusProbeIo = {
    query: async (req) => {
      requests.push(req);
      return answer(req);
    },
    readTokenFile: async (path) => {
      tokenReads.push(path);
      if (token instanceof Error) throw token;
      return token;
    },
  };
  const options = healthPrometheusOptionsSchema.parse({ url: 'http://user:pw@prom:9090/prefix', ...input });
  const probe = createPrometheusProbe({ instanceId: 'prom-1', clock, http: { dispatcher } }, options, io);
  return { probe, requests, tokenReads, advance, setToken: (t: string | Error) => (token = t) };
}

const vector = (value: number): QueryOutcome => ({
  ok: true,
  samples: [{ labels: { instance: 'a' }, value }],
  warnings: [],
});
const upCheck = { name: 'up', query: 'up', op: '==', threshold: 1 } as const;

describe('createPrometheusProbe', () => {
  it('runs the preset checks and the custom checks, preset first, all in one round', async () => {
    const { probe, requests } = setup(
      { preset: 'cardano-node-basic', checks: [{ name: 'lag', query: 'lag', op: '<', threshold: 5 }] },
      () => vector(1),
    );
    const result = await probe.check(new AbortController().signal);
    expect(probe.id).toBe('prom-1');
    expect(requests.map((r) => r.query)).toEqual(
      resolveChecks(
        healthPrometheusOptionsSchema.parse({
          url: 'http://p',
          preset: 'cardano-node-basic',
          checks: [{ name: 'lag', query: 'lag', op: '<', threshold: 5 }],
        }),
      ).map((c) => c.query),
    );
    expect(requests).toHaveLength(6);
    // node-up (1 == 1) and lag (1 < 5) pass; disk-free (1 > 10) fails.
    expect(result.healthy).toBe(false);
    expect(result.reason).toBe('ThresholdViolated');
    expect(result.message).toContain('disk-free: value 1 is not > 10');
    const checks = result.details?.checks as {
      name: string;
      pass: boolean;
      value: number;
      threshold: number;
    }[];
    expect(checks.map((c) => [c.name, c.pass])).toEqual([
      ['node-up', true],
      ['node-syncing', true],
      ['cpu', true],
      ['memory', true],
      ['disk-free', false],
      ['lag', true],
    ]);
  });

  it('is healthy when every check passes and reports the latency from the clock', async () => {
    // The query "takes" 40 ms of clock time.
    const clockRef: { advance?: (ms: number) => void } = {};
    const { probe, advance } = setup({ checks: [upCheck] }, () => {
      clockRef.advance?.(40);
      return vector(1);
    });
    clockRef.advance = advance;
    const result = await probe.check(new AbortController().signal);
    expect(result).toMatchObject({
      healthy: true,
      reason: 'Healthy',
      message: 'all 1 checks passed',
      latencyMs: 40,
    });
  });

  it('never puts URL credentials into the details', async () => {
    const { probe } = setup({ checks: [upCheck] }, () => vector(1));
    const result = await probe.check(new AbortController().signal);
    expect(JSON.stringify(result)).not.toContain('pw');
    expect(result.details?.prometheus).toBe('http://redacted@prom:9090/prefix');
    expect(redactedUrl('http://prom:9090')).toBe('http://prom:9090');
  });

  it('sends configured headers and a bearer token read on every check', async () => {
    const { probe, requests, tokenReads, setToken } = setup(
      { checks: [upCheck], headers: { 'X-Scope-OrgID': 'tenant-a' }, bearerTokenFile: '/var/run/token' },
      () => vector(1),
    );
    await probe.check(new AbortController().signal);
    setToken('rotated');
    await probe.check(new AbortController().signal);
    expect(tokenReads).toEqual(['/var/run/token', '/var/run/token']);
    expect(requests[0]?.headers).toEqual({
      'X-Scope-OrgID': 'tenant-a',
      authorization: 'Bearer secret-token',
    });
    expect(requests[1]?.headers.authorization).toBe('Bearer rotated');
    expect(requests[0]?.dispatcher).toBe(dispatcher);
  });

  it('fails closed without querying when the token file cannot be read', async () => {
    const { probe, requests, setToken } = setup({ checks: [upCheck], bearerTokenFile: '/missing' }, () =>
      vector(1),
    );
    setToken(Object.assign(new Error('nope'), { code: 'ENOENT' }));
    const result = await probe.check(new AbortController().signal);
    expect(requests).toHaveLength(0);
    expect(result).toMatchObject({ healthy: false, reason: 'TokenFileUnreadable' });
    expect(result.message).toContain('cannot read bearer token file /missing: ENOENT');
    setToken('');
    expect((await probe.check(new AbortController().signal)).message).toContain('is empty');
  });

  it('aborts the queries at the deadline measured on the clock', async () => {
    const { probe, advance } = setup(
      { checks: [upCheck], timeoutMs: 2000 },
      (req) =>
        new Promise<QueryOutcome>((resolve) => {
          req.deadline.addEventListener('abort', () =>
            resolve({ ok: false, reason: 'Timeout', message: 'did not answer in time' }),
          );
        }),
    );
    const pending = probe.check(new AbortController().signal);
    await Promise.resolve();
    await Promise.resolve();
    advance(1999);
    let settled = false;
    void pending.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(settled).toBe(false);
    advance(1);
    const result = await pending;
    expect(result).toMatchObject({ healthy: false, reason: 'Timeout' });
  });

  it("hands the caller's signal to every query", async () => {
    const controller = new AbortController();
    const { probe, requests } = setup({ checks: [upCheck, { ...upCheck, name: 'up2' }] }, () => vector(1));
    await probe.check(controller.signal);
    expect(requests.every((r) => r.signal === controller.signal)).toBe(true);
  });
});
