// health-prometheus against a real Prometheus (/usr/bin/prometheus) scraping real simulated
// cardano-nodes, a real node_exporter (when installed) and fixed-value host exporters.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthProbe, HealthResult } from '@cardano-forge/framework';
import plugin, {
  compare,
  type CheckVerdict,
  type HealthPrometheusOptionsInput,
} from '@cardano-forge/health-prometheus';
import { startPrometheus, type PrometheusInstance } from '../../../test/prometheus/index.ts';
import { createSimNodeGroup, type SimNode } from '../../../test/cardano-node-sim/spawn.ts';
import { makeTestPluginContext, type TestPluginContext } from '../../../test/support/plugin-context.ts';
import { startFixedHostExporter, startNodeExporter, type ScrapeTarget } from './exporters.ts';

const SCRAPE_MS = 500;
/** Short windows so a few seconds of scrapes are enough (production defaults are 5m). */
const FAST_WINDOWS = { syncWindow: '5s', cpuWindow: '5s' } as const;
/** rate() divides by the whole window: wait until the series covers it (12 samples in 6 s at 500 ms). */
const WINDOW_COVERED = (job: string) =>
  `count_over_time(node_cpu_seconds_total{job="${job}",mode="idle",cpu="0"}[6s])`;

const sims = createSimNodeGroup();
const exporters: ScrapeTarget[] = [];
let prometheus: PrometheusInstance | undefined;
let ctx: TestPluginContext;
let healthyNode: SimNode;
let crashingNode: SimNode;
let stuckNode: SimNode;
let realNodeExporter: ScrapeTarget | undefined;
const timings: Record<string, number> = {};

function prom(): PrometheusInstance {
  if (prometheus === undefined) throw new Error('prometheus not started');
  return prometheus;
}
const instance = (node: SimNode) => `127.0.0.1:${node.metricsPort}`;

async function probeFor(
  options: Omit<HealthPrometheusOptionsInput, 'url'> & { url?: string },
): Promise<HealthProbe> {
  const validated = await plugin.optionsSchema['~standard'].validate({ url: prom().url, ...options });
  if (validated.issues) throw new Error(`options rejected: ${JSON.stringify(validated.issues)}`);
  return plugin.create(ctx, validated.value);
}

async function runCheck(probe: HealthProbe, label: string): Promise<HealthResult> {
  const result = await probe.check(ctx.signal);
  timings[label] = Math.round(result.latencyMs * 10) / 10;
  return result;
}

const checksOf = (result: HealthResult) => result.details?.checks as CheckVerdict[];
const checkNamed = (result: HealthResult, name: string) => {
  const found = checksOf(result).find((c) => c.name === name);
  if (found === undefined) throw new Error(`no check ${name} in ${JSON.stringify(result)}`);
  return found;
};

beforeAll(async () => {
  const started = performance.now();
  ctx = makeTestPluginContext({ instanceId: 'prometheus' });
  [healthyNode, crashingNode, stuckNode] = await Promise.all([
    sims.spawn({ identity: 'bp-healthy', pool: 'pool1prom', credentials: 'none' }),
    sims.spawn({ identity: 'bp-crashing', pool: 'pool1prom', credentials: 'none' }),
    // Alive and answering scrapes, but its tip never moves: slot 0 for a day.
    sims.spawn({
      identity: 'bp-stuck',
      pool: 'pool1prom',
      credentials: 'none',
      slotLengthMs: 86_400_000,
      extraArgs: ['--system-start-ms', String(Date.now() - 1000)],
    }),
  ]);
  const idleHost = await startFixedHostExporter({
    idleFraction: 0.8,
    memTotalBytes: 16e9,
    memAvailableBytes: 8e9,
    rootAvailBytes: 100e9,
  });
  const busyHost = await startFixedHostExporter({
    idleFraction: 0.02,
    memTotalBytes: 16e9,
    memAvailableBytes: 0.48e9,
    rootAvailBytes: 2e9,
  });
  exporters.push(idleHost, busyHost);
  realNodeExporter = await startNodeExporter();
  if (realNodeExporter) exporters.push(realNodeExporter);
  prometheus = await startPrometheus({
    scrapeIntervalMs: SCRAPE_MS,
    scrapeConfigs: [
      {
        jobName: 'cardano-node',
        targets: [instance(healthyNode), instance(crashingNode), instance(stuckNode)],
        labels: { cluster: 'test-eu-1' },
      },
      { jobName: 'idle-host', targets: [idleHost.target] },
      { jobName: 'busy-host', targets: [busyHost.target] },
      ...(realNodeExporter ? [{ jobName: 'node-exporter', targets: [realNodeExporter.target] }] : []),
    ],
  });
  await prom().waitForTarget('cardano-node');
  // Enough scrapes for changes() and rate() over the short windows.
  await prom().waitForQuery(
    `changes(cardano_node_metrics_slotNum_int{instance="${instance(healthyNode)}"}[5s])`,
    (s) => (s[0]?.value ?? 0) > 0,
  );
  for (const job of ['idle-host', 'busy-host', ...(realNodeExporter ? ['node-exporter'] : [])]) {
    await prom().waitForQuery(WINDOW_COVERED(job), (s) => (s[0]?.value ?? 0) >= 11);
  }
  timings['setup (3 sims, exporters, prometheus, first scrapes)'] = Math.round(performance.now() - started);
});

afterAll(async () => {
  try {
    await prometheus?.stop();
  } finally {
    await Promise.allSettled([sims.stopAll(), ...exporters.map((e) => e.stop()), ctx?.dispose()]);
    console.log('[health-prometheus] check latencies (ms):', JSON.stringify(timings));
  }
});

describe('health-prometheus against a real Prometheus', () => {
  it('cardano-node-basic on a healthy, syncing node with a quiet host is Healthy', async () => {
    const probe = await probeFor({
      preset: {
        name: 'cardano-node-basic',
        nodeSelector: `instance="${instance(healthyNode)}"`,
        nodeExporterJob: 'idle-host',
        ...FAST_WINDOWS,
      },
    });
    const result = await runCheck(probe, 'preset healthy');
    expect(result, JSON.stringify(result)).toMatchObject({
      healthy: true,
      reason: 'Healthy',
      message: 'all 5 checks passed',
    });
    expect(probe.id).toBe('prometheus');
    expect(checksOf(result).map((c) => [c.name, c.status])).toEqual([
      ['node-up', 'pass'],
      ['node-syncing', 'pass'],
      ['cpu', 'pass'],
      ['memory', 'pass'],
      ['disk-free', 'pass'],
    ]);
    expect(checkNamed(result, 'node-up').value).toBe(1);
    expect(checkNamed(result, 'node-syncing').value).toBeGreaterThan(0);
    expect(checkNamed(result, 'cpu').value).toBeCloseTo(20, 0);
    expect(checkNamed(result, 'memory').value).toBeCloseTo(50, 5);
    expect(checkNamed(result, 'disk-free').value).toBeCloseTo(100, 5);
  });

  it('the same preset on a saturated host names every violated resource with its value', async () => {
    const probe = await probeFor({
      preset: {
        name: 'cardano-node-basic',
        nodeSelector: `instance="${instance(healthyNode)}"`,
        nodeExporterJob: 'busy-host',
        ...FAST_WINDOWS,
      },
    });
    const result = await runCheck(probe, 'preset busy host');
    expect(result.healthy).toBe(false);
    expect(result.reason).toBe('ThresholdViolated');
    expect(result.message).toMatch(/^3 of 5 checks failed: /);
    expect(result.message).toMatch(/cpu: value 9[78](\.\d+)? is not < 90/);
    expect(result.message).toContain('memory: value 97 is not < 90');
    expect(result.message).toContain('disk-free: value 2 is not > 10');
    expect(checkNamed(result, 'node-up').pass).toBe(true);
  });

  it('the preset queries match what a real node_exporter exports', async () => {
    // Installed by .ci/run (Debian package prometheus-node-exporter); a missing binary is a setup error.
    if (!realNodeExporter)
      throw new Error('prometheus-node-exporter is not installed: run `bash .ci/run --setup-only`');
    const probe = await probeFor({
      preset: {
        name: 'cardano-node-basic',
        nodeSelector: `instance="${instance(healthyNode)}"`,
        ...FAST_WINDOWS,
      },
    });
    const result = await runCheck(probe, 'preset real node_exporter');
    for (const name of ['cpu', 'memory', 'disk-free']) {
      const check = checkNamed(result, name);
      expect(check.status, JSON.stringify(check)).not.toBe('no-data');
      expect(check.seriesCount).toBeGreaterThanOrEqual(1);
      expect(check.pass).toBe(compare(check.op, check.value as number, check.threshold));
    }
    expect(checkNamed(result, 'memory').value).toBeGreaterThan(0);
    expect(checkNamed(result, 'memory').value).toBeLessThan(100);
    const cpu = checkNamed(result, 'cpu').value as number;
    expect(cpu).toBeGreaterThanOrEqual(0);
    expect(cpu).toBeLessThanOrEqual(100);
    // Free space as Prometheus sees it, in GB, equals what the check reports.
    const diskGb = await prom().queryValue(
      `node_filesystem_avail_bytes{job="node-exporter",mountpoint="/"} / 1e9`,
    );
    expect(checkNamed(result, 'disk-free').value).toBeCloseTo(diskGb as number, 1);
  });

  it('a check with an impossible threshold is ThresholdViolated with the value in the message', async () => {
    const probe = await probeFor({
      checks: [
        { name: 'impossible', query: `up{instance="${instance(healthyNode)}"}`, op: '>', threshold: 1 },
      ],
    });
    const result = await runCheck(probe, 'impossible threshold');
    expect(result).toMatchObject({
      healthy: false,
      reason: 'ThresholdViolated',
      message: '1 of 1 checks failed: impossible: value 1 is not > 1',
    });
    expect(checkNamed(result, 'impossible')).toMatchObject({
      value: 1,
      threshold: 1,
      pass: false,
      status: 'violated',
    });
  });

  it('aggregate any / all over the three nodes of the job', async () => {
    // Only the stuck node is at slot 0: "all" fails on it, "any" passes on the others.
    const query = 'cardano_node_metrics_slotNum_int{job="cardano-node"}';
    const all = await runCheck(
      await probeFor({ checks: [{ name: 'slot', query, op: '>', threshold: 0 }] }),
      'aggregate all',
    );
    expect(all.reason).toBe('ThresholdViolated');
    expect(all.message).toContain(`instance="${instance(stuckNode)}"`);
    expect(checkNamed(all, 'slot').value).toBe(0);
    const any = await runCheck(
      await probeFor({ checks: [{ name: 'slot', query, op: '>', threshold: 0, aggregate: 'any' }] }),
      'aggregate any',
    );
    expect(any.healthy).toBe(true);
  });

  it('a metric that does not exist is NoData, unless onNoData=pass', async () => {
    const query = 'cardano_node_metrics_does_not_exist_int';
    const failing = await runCheck(
      await probeFor({ checks: [{ name: 'ghost', query, op: '>', threshold: 0 }] }),
      'no data',
    );
    expect(failing).toMatchObject({ healthy: false, reason: 'NoData' });
    expect(failing.message).toContain(`ghost: no data — the query returned no series`);
    expect(failing.message).toContain(query);
    const ignored = await runCheck(
      await probeFor({ checks: [{ name: 'ghost', query, op: '>', threshold: 0, onNoData: 'pass' }] }),
      'no data ignored',
    );
    expect(ignored).toMatchObject({
      healthy: true,
      reason: 'Healthy',
      message: 'all 1 checks passed (1 without data, ignored)',
    });
  });

  it('the preset without a scraped node_exporter fails with no data by default, or skips those checks', async () => {
    const preset = {
      name: 'cardano-node-basic',
      nodeSelector: `instance="${instance(healthyNode)}"`,
      nodeExporterJob: 'not-scraped',
      ...FAST_WINDOWS,
    } as const;
    const strict = await runCheck(await probeFor({ preset }), 'preset no exporter');
    expect(strict.reason).toBe('NoData');
    expect(checksOf(strict).map((c) => [c.name, c.status])).toEqual([
      ['node-up', 'pass'],
      ['node-syncing', 'pass'],
      ['cpu', 'no-data'],
      ['memory', 'no-data'],
      ['disk-free', 'no-data'],
    ]);
    const lenient = await runCheck(
      await probeFor({ preset: { ...preset, systemOnNoData: 'pass' } }),
      'preset no exporter, pass',
    );
    expect(lenient).toMatchObject({
      healthy: true,
      message: 'all 5 checks passed (3 without data, ignored)',
    });
  });

  it("invalid PromQL is a QueryError carrying Prometheus' own message", async () => {
    const query = 'up{job="cardano-node"';
    const result = await runCheck(
      await probeFor({ checks: [{ name: 'broken', query, op: '==', threshold: 1 }] }),
      'invalid promql',
    );
    expect(result).toMatchObject({ healthy: false, reason: 'QueryError' });
    const direct = (await (
      await fetch(`${prom().url}/api/v1/query?query=${encodeURIComponent(query)}`)
    ).json()) as { error: string; errorType: string };
    expect(direct.errorType).toBe('bad_data');
    expect(result.message).toContain(
      `broken: Prometheus rejected the query (HTTP 400, bad_data): ${direct.error}`,
    );
    expect(result.message).toContain('parse error');
  });

  it('a range-vector query is a QueryError that says how to fix it', async () => {
    const result = await runCheck(
      await probeFor({ checks: [{ name: 'range', query: 'up[1m]', op: '==', threshold: 1 }] }),
      'range vector',
    );
    expect(result.reason).toBe('QueryError');
    expect(result.message).toContain('range vector');
  });

  it('a node that answers scrapes but whose tip does not move fails node-syncing', async () => {
    const probe = await probeFor({
      preset: {
        name: 'cardano-node-basic',
        nodeSelector: `instance="${instance(stuckNode)}"`,
        nodeExporterJob: 'idle-host',
        ...FAST_WINDOWS,
      },
    });
    const result = await runCheck(probe, 'stuck node');
    expect(result.reason).toBe('ThresholdViolated');
    expect(checkNamed(result, 'node-up').pass).toBe(true);
    expect(checkNamed(result, 'node-syncing')).toMatchObject({ pass: false, value: 0 });
    expect(result.message).toContain('node-syncing: value 0 is not > 0');
  });

  it('a crashed sim node shows up == 0 after a scrape and the preset fails', async () => {
    const selector = `instance="${instance(crashingNode)}"`;
    const probe = await probeFor({
      preset: {
        name: 'cardano-node-basic',
        nodeSelector: selector,
        nodeExporterJob: 'idle-host',
        ...FAST_WINDOWS,
      },
    });
    expect((await runCheck(probe, 'before crash')).healthy).toBe(true);
    const crashedAt = performance.now();
    await crashingNode.crash();
    await prom().waitForQuery(`up{${selector}}`, (s) => s[0]?.value === 0, 15_000);
    timings['crash → up==0 in Prometheus'] = Math.round(performance.now() - crashedAt);
    const result = await runCheck(probe, 'after crash');
    expect(result.healthy).toBe(false);
    expect(result.reason).toBe('ThresholdViolated');
    expect(checkNamed(result, 'node-up')).toMatchObject({ pass: false, value: 0 });
    expect(result.message).toContain('node-up: value 0 is not == 1');
    // The job-wide default selector fails too and names the crashed instance.
    const jobWide = await runCheck(
      await probeFor({
        preset: { name: 'cardano-node-basic', skip: ['cpu', 'memory', 'disk-free', 'node-syncing'] },
      }),
      'job-wide after crash',
    );
    expect(jobWide.healthy).toBe(false);
    expect(jobWide.message).toContain(`instance="${instance(crashingNode)}"`);
    expect(jobWide.message).toContain('node-up: value 0');
  });

  it('a server that accepts but never answers is a Timeout within timeoutMs', async () => {
    const sockets = new Set<Socket>();
    const blackhole: Server = createServer((socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    try {
      const address = blackhole.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const probe = await probeFor({
        url: `http://127.0.0.1:${port}`,
        timeoutMs: 300,
        checks: [{ name: 'up', query: 'up', op: '==', threshold: 1 }],
      });
      const result = await runCheck(probe, 'timeout 300ms');
      expect(result).toMatchObject({ healthy: false, reason: 'Timeout' });
      expect(result.message).toContain('did not answer in time');
      expect(result.latencyMs).toBeGreaterThanOrEqual(290);
      expect(result.latencyMs).toBeLessThan(3000);
      // Shutdown (the caller's signal) ends a pending round at once and says so.
      const shutdown = new AbortController();
      const slowProbe = await probeFor({
        url: `http://127.0.0.1:${port}`,
        timeoutMs: 60_000,
        checks: [{ name: 'up', query: 'up', op: '==', threshold: 1 }],
      });
      setTimeout(() => shutdown.abort(new Error('shutdown')), 100);
      const aborted = await slowProbe.check(shutdown.signal);
      timings['aborted after 100ms'] = Math.round(aborted.latencyMs);
      expect(aborted).toMatchObject({ healthy: false, reason: 'Aborted' });
      expect(aborted.latencyMs).toBeLessThan(3000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => blackhole.close(() => resolve()));
    }
  });

  // Last: it stops the shared Prometheus.
  it('Prometheus stopped → Unreachable', async () => {
    const probe = await probeFor({
      preset: {
        name: 'cardano-node-basic',
        nodeSelector: `instance="${instance(healthyNode)}"`,
        nodeExporterJob: 'idle-host',
        ...FAST_WINDOWS,
      },
    });
    expect((await runCheck(probe, 'before prometheus stop')).healthy).toBe(true);
    await prom().stop();
    const result = await runCheck(probe, 'prometheus stopped');
    expect(result).toMatchObject({ healthy: false, reason: 'Unreachable' });
    expect(result.message).toMatch(
      /^5 of 5 checks failed: Prometheus at http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query is unreachable: ECONNREFUSED/,
    );
  });
});
