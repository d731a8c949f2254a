import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../contracts/index.js';
import { createSystemClock } from '../core/clock.js';
import { createMetricsRegistry } from '../observability/metrics.js';
import { FakeCredentials, FakeElector, FakeNode } from '../testing/fakes.js';
import { startSidecar, type RunningSidecar } from './sidecar.js';

// The sidecar's HTTP surface with fake seams. The CardanoLeader writer points at a closed port: its
// writes fail and are logged, which must not disturb anything else.
function unreachableKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

/** The real clock, plus a way to jump monotonic time forward (a stalled loop, seen from outside). */
function jumpableClock(): Clock & { jump(ms: number): void } {
  const real = createSystemClock();
  let offset = 0;
  return {
    monotonicMs: () => real.monotonicMs() + offset,
    wallNow: () => real.wallNow(),
    sleep: (ms, signal) => real.sleep(ms, signal),
    jump: (ms) => {
      offset += ms;
    },
  };
}

let running: RunningSidecar | null = null;
afterEach(async () => {
  await running?.stop();
  running = null;
});

async function start(clock: Clock) {
  const calls: string[] = [];
  const elector = new FakeElector(calls);
  running = await startSidecar(
    {
      info: {
        podName: 'bp-0',
        namespace: 'ns',
        version: '0.1.0',
        network: 'preprod',
        poolId: 'pool1abcdefghijkl',
        poolTicker: 'ABC',
        applicationType: 'block-producer',
      },
      leader: { name: 'leader', group: 'cardano.io', version: 'v1', plural: 'cardanoleaders' },
      intervalMs: 60_000,
      callTimeoutMs: 500,
      shutdownDeadlineMs: 2000,
      socketWaitTimeoutMs: 600_000,
      decision: {
        startAsNonProducing: true,
        disableSocketCheck: false,
        confirmTimeoutMs: 1000,
        handoverHoldDownMs: 30_000,
      },
      node: { metricsConfigured: false, sighupLatencyBoundMs: 50, terminateGraceMs: 200 },
      http: { host: '127.0.0.1', port: 0 },
    },
    {
      clock,
      logger: pino({ level: 'silent' }),
      registry: createMetricsRegistry({ defaultMetrics: false }),
      kubeConfig: unreachableKubeConfig(),
      elector,
      credentials: new FakeCredentials(calls),
      node: new FakeNode(calls),
      policy: { snapshot: () => ({ forgingAllowed: true, reason: 'ok', message: 'ok' }) },
    },
  );
  const base = `http://127.0.0.1:${running.address.port}`;
  const get = (path: string) => fetch(`${base}${path}`);
  const until = async (cond: () => Promise<boolean>) => {
    const end = Date.now() + 5000;
    while (!(await cond())) {
      if (Date.now() > end) throw new Error('condition not reached');
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { calls, elector, get, until };
}

describe('sidecar endpoints', () => {
  it('serves the Python endpoints, /status without key material, and the Python metric names', async () => {
    const clock = jumpableClock();
    const t = await start(clock);
    await t.until(async () => (await t.get('/readyz')).status === 200);
    t.elector.set({ holder: 'bp-0', leaderUntilMs: clock.monotonicMs() + 60_000 });
    await t.until(
      async () =>
        ((await (await t.get('/status')).json()) as { decision: { forge: boolean } }).decision.forge,
    );

    const startup = await t.get('/startup-status');
    expect(startup.status).toBe(200);
    expect(Object.keys((await startup.json()) as object).sort()).toEqual([
      'credentials_provisioned',
      'message',
      'status',
      'timestamp',
    ]);
    const status = (await (await t.get('/status')).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ pod: 'bp-0', decision: { reason: 'Forging', leader: true } });
    expect(JSON.stringify(status)).not.toMatch(/cborHex/);
    // Forging counts once the node confirmed it (no node metrics here: after the SIGHUP latency bound).
    const forgingLine =
      'cardano_forging_enabled{pod="bp-0",network="preprod",pool_id="pool1abcde",application="block-producer"} 1';
    await t.until(async () => (await (await t.get('/metrics')).text()).includes(forgingLine));
    const metrics = await (await t.get('/metrics')).text();
    expect(metrics).toContain(
      'cardano_leader_status{pod="bp-0",network="preprod",pool_id="pool1abcde",application="block-producer"} 1',
    );
    expect(metrics).toMatch(
      /cardano_forge_manager_info_info\{pod_name="bp-0",namespace="ns",version="0.1.0"/,
    );
    expect(metrics).toContain('cardano_leadership_changes_total 1');
    expect(metrics).toContain('cardano_forge_credentials_present 1');
    expect((await t.get('/health')).status).toBe(200);
    expect((await t.get('/nope')).status).toBe(404);
  });

  it('/health turns 503 when the control loop has not ticked within its bound', async () => {
    const clock = jumpableClock();
    const t = await start(clock);
    await t.until(async () => (await t.get('/readyz')).status === 200);
    expect((await t.get('/health')).status).toBe(200);
    clock.jump(10 * 60_000); // as if no tick had completed for ten minutes
    const stalled = await t.get('/health');
    expect(stalled.status).toBe(503);
    expect(await stalled.text()).toMatch(/control loop stalled/);
    expect((await t.get('/readyz')).status).toBe(503);
  });

  it('stop() revokes, signals and releases before closing', async () => {
    const clock = jumpableClock();
    const t = await start(clock);
    t.elector.set({ holder: 'bp-0', leaderUntilMs: clock.monotonicMs() + 60_000 });
    await t.until(async () => t.calls.includes('signal:enable_forging'));
    const converged = await running!.stop();
    running = null;
    expect(converged).toBe(true);
    expect(t.calls.slice(t.calls.indexOf('signal:enable_forging') + 1)).toEqual([
      'revoke',
      'signal:disable_forging',
      'release',
    ]);
  });
});
