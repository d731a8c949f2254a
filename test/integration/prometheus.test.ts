// A real Prometheus scraping a simulated cardano-node.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFakeCredentials } from '../cardano-node-sim/credentials.ts';
import { createSimNodeGroup } from '../cardano-node-sim/spawn.ts';
import { checkPrometheusConfig, renderPrometheusConfig, startPrometheus } from '../prometheus/index.ts';
import type { PrometheusInstance } from '../prometheus/index.ts';

const sims = createSimNodeGroup();
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  await Promise.allSettled(cleanups.splice(0).map((cleanup) => cleanup()));
  await sims.stopAll(2_000);
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'prom-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function started(prometheus: Promise<PrometheusInstance>): Promise<PrometheusInstance> {
  const instance = await prometheus;
  cleanups.push(() => instance.stop());
  return instance;
}

describe('Prometheus helper', () => {
  it('rejects an invalid config through promtool', async () => {
    const dir = await tempDir();
    const path = join(dir, 'bad.yml');
    await writeFile(
      path,
      renderPrometheusConfig([
        { jobName: 'dup', targets: ['127.0.0.1:1'] },
        { jobName: 'dup', targets: ['127.0.0.1:2'] },
      ]),
    );
    const check = await checkPrometheusConfig(path);
    expect(check.ok).toBe(false);
    const duplicateJobs = [
      { jobName: 'x', targets: ['127.0.0.1:1'] },
      { jobName: 'x', targets: ['127.0.0.1:2'] },
    ];
    await expect(started(startPrometheus({ scrapeConfigs: duplicateJobs }))).rejects.toThrow(
      /config rejected/,
    );
  });

  it('scrapes a simulator: the forging metric is queryable and a SIGHUP flip is seen after a scrape', async () => {
    const dir = await tempDir();
    const credentials = await writeFakeCredentials(join(dir, 'creds'));
    const node = await sims.spawn({
      identity: 'bp-a',
      pool: 'pool1',
      eventLog: join(dir, 'events.jsonl'),
      credentials,
    });
    await node.waitForForging(true);

    const prometheus = await started(
      startPrometheus({
        scrapeIntervalMs: 250,
        scrapeConfigs: [
          {
            jobName: 'cardano-node',
            targets: [`127.0.0.1:${node.metricsPort}`],
            labels: { pool: 'pool1', identity: 'bp-a' },
          },
        ],
      }),
    );
    const [target] = await prometheus.waitForTarget('cardano-node');
    expect(target?.labels.pool).toBe('pool1');
    const [sample] = await prometheus.waitForQuery(
      'cardano_node_metrics_forging_enabled{job="cardano-node"}',
      (samples) => samples.length === 1,
    );
    expect(sample?.value).toBe(1);
    expect(sample?.metric.identity).toBe('bp-a');
    expect(await prometheus.queryValue('cardano_node_metrics_slotNum_int')).toBeGreaterThan(0);

    await unlink(credentials.opCert);
    node.hup();
    await node.waitForForging(false);
    const flipped = await prometheus.waitForQuery(
      'cardano_node_metrics_forging_enabled',
      (samples) => samples[0]?.value === 0,
      10_000,
    );
    expect(flipped).toHaveLength(1);
  });
});
