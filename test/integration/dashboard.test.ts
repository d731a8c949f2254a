// The Grafana dashboard and the alert expressions against a real Prometheus that scraped the lab: three
// forge-manager sidecars beside three simulated cardano-nodes on the real kube-apiserver, with cluster
// management and an HTTP health probe on. Every panel query (template variables substituted as Grafana
// would) must return data; a panel whose metric no sidecar exports yet (PENDING_METRICS) must be empty
// and is reported with its reason. Every alert expression must be quiet on this healthy pool. Then a
// fourth pod cut off from the API server feeds the lease-error panel and fires CardanoForgeLeaseRequestErrors,
// and stopping its sidecar fires CardanoForgeSidecarDown.
import { afterEach, describe, expect, inject, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { startPrometheus, type PrometheusInstance, type PromSample } from '../prometheus/index.ts';
import { testKubeConfig } from '../support/cluster.ts';
import { loadDashboard, panelQueries, parseLabelValues, substituteVariables } from '../support/dashboard.ts';
import { ForgePod } from '../support/forge-pod.ts';
import {
  TIMINGS,
  cleanupPools,
  forgers,
  startPool,
  waitConverged,
  waitForSingleForger,
} from '../support/forge-pool.ts';
import { freeLoopbackPort } from '../controlplane/process.ts';
import { PENDING_METRICS, metricNamesIn } from '../support/metric-names.ts';

const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
const RULES = join(REPO, 'deploy/helm/cardano-forge/files/prometheus-rules.yaml');
const POOL_ID = 'pool1dashboard0000000000000000000000000000000000000000';
const NETWORK = 'preprod';
const JOB = 'cardano-forge';
/** Counted only when something fails: fed after the healthy-pool checks by a pod without an API server. */
const FED_BY_FAULT = ['cardano_forge_lease_request_errors_total'];

let prometheus: PrometheusInstance | null = null;
let partitioned: ForgePod | null = null;
afterEach(async () => {
  await partitioned?.dispose();
  partitioned = null;
  await cleanupPools();
  await prometheus?.stop();
  prometheus = null;
});

const isData = (samples: PromSample[]): boolean => samples.some((s) => Number.isFinite(s.value));

describe('dashboard and alert queries on a real Prometheus scraping the lab', () => {
  it('every panel query returns data (pending metrics excepted), alerts stay quiet on a healthy pool and fire on real faults', async () => {
    // Prometheus first: its /-/healthy is the sidecars' HTTP health probe; the sidecar targets follow.
    const prom = await startPrometheus({ scrapeConfigs: [], scrapeIntervalMs: 1000 });
    prometheus = prom;
    const pool = await startPool(testKubeConfig(), inject('forgeKubeconfig'), {
      extraEnv: {
        POOL_ID,
        POOL_TICKER: 'DASH',
        ENABLE_CLUSTER_MANAGEMENT: 'true',
        CLUSTER_REGION: 'eu-west-1',
        HEALTH_CHECK_ENDPOINT: `${prom.url}/-/healthy`,
        HEALTH_CHECK_INTERVAL: '1',
      },
    });
    const leader = await waitForSingleForger(pool);
    await waitConverged(pool);
    await prom.reload([{ jobName: JOB, targets: pool.pods.map((p) => `127.0.0.1:${p.port}`) }]);
    await prom.waitForTarget(JOB);
    const exposition = (await Promise.all(pool.pods.map((p) => p.metricsText()))).join('\n');

    // Template variables: the label_values() queries Grafana would run, then the values they offer.
    const dashboard = loadDashboard();
    const offered: Record<string, string[]> = {};
    const chosen: Record<string, string> = { network: NETWORK, pool_id: POOL_ID };
    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
      const query = typeof variable.query === 'string' ? variable.query : variable.query.query;
      const { selector, label } = parseLabelValues(
        substituteVariables(query, {
          variables: chosen,
          rateInterval: '10s',
          interval: '10s',
          range: '1h',
        }),
      );
      const url = new URL(`${prom.url}/api/v1/label/${label}/values`);
      if (selector !== null) url.searchParams.set('match[]', selector);
      const values = await waitForValues(url, chosen[variable.name]!);
      offered[variable.name] = values;
    }
    expect(offered.network).toContain(NETWORK);
    expect(offered.pool_id).toContain(POOL_ID);

    const values = { variables: chosen, rateInterval: '10s', interval: '10s', range: '1h' };
    const expectedEmpty: string[] = [];
    const fedLater: Array<{ where: string; expr: string }> = [];
    for (const { panel, target } of panelQueries(dashboard)) {
      const expr = substituteVariables(target.expr, values);
      const pending = metricNamesIn(expr).filter(
        (name) => name in PENDING_METRICS && !new RegExp(`^${name}\\b`, 'm').test(exposition),
      );
      const where = `${panel.title} [${target.refId}]: ${expr}`;
      if (metricNamesIn(expr).some((name) => FED_BY_FAULT.includes(name))) {
        fedLater.push({ where, expr });
        continue;
      }
      if (pending.length > 0) {
        expect(await prom.query(expr), where).toEqual([]);
        expectedEmpty.push(
          `${panel.title}: ${pending.map((n) => `${n} — ${PENDING_METRICS[n]}`).join('; ')}`,
        );
        continue;
      }
      // Rate windows need a few scrapes: wait for data rather than sleeping a fixed time.
      await prom.waitForQuery(expr, isData, 30_000).catch((error: Error) => {
        throw new Error(`${where}\n${error.message}`);
      });
    }
    console.log(
      `[dashboard] ${panelQueries(dashboard).length} queries; expected empty:\n  ${expectedEmpty.join('\n  ')}`,
    );

    // The values behind the main panels: one forger, and it is the leader.
    const forgingSum = panelQueries(dashboard).find((q) => q.panel.title === 'Forging nodes in the pool')!;
    expect(await prom.queryValue(substituteVariables(forgingSum.target.expr, values))).toBe(1);
    const perPod = panelQueries(dashboard).find(
      (q) => q.panel.title === 'Forging per pod (what the node reports)',
    )!;
    const forgingPods = (await prom.query(substituteVariables(perPod.target.expr, values)))
      .filter((s) => s.value === 1)
      .map((s) => s.metric.pod_name);
    expect(forgingPods).toEqual([leader.options.name]);

    // The alert expressions read real label sets: the per-pool forging sum joins the info metric...
    const rules = parse(readFileSync(RULES, 'utf8')) as {
      groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
    };
    const alerts = rules.groups.flatMap((g) => g.rules);
    const twoForgers = alerts.find((a) => a.alert === 'CardanoForgeTwoForgers')!;
    const perPool = await prom.query(twoForgers.expr.replace(/\)\s*>\s*1\s*$/, ')'));
    expect(perPool.map((s) => ({ ...s.metric, value: s.value }))).toEqual([
      { network: NETWORK, pool_id: POOL_ID, value: 1 },
    ]);
    // ...and none of them fires on this healthy pool.
    for (const alert of alerts) expect(await prom.query(alert.expr), alert.alert).toEqual([]);

    // A fourth pod of the pool whose API server is unreachable (a closed port): every Lease request fails.
    const kubeconfig = parse(readFileSync(inject('forgeKubeconfig'), 'utf8')) as {
      clusters: Array<{ cluster: { server: string } }>;
    };
    const closedPort = await freeLoopbackPort();
    for (const c of kubeconfig.clusters) c.cluster.server = `https://127.0.0.1:${closedPort}`;
    const unreachableKubeconfig = join(pool.dir, 'unreachable.kubeconfig');
    await writeFile(unreachableKubeconfig, JSON.stringify(kubeconfig));
    const cutOff = new ForgePod({
      ...pool.pods[0]!.options,
      name: 'bp-3',
      kubeconfigPath: unreachableKubeconfig,
      workDir: join(pool.dir, 'bp-3'),
      timings: TIMINGS,
    });
    partitioned = cutOff;
    await cutOff.start();
    await prom.reload([{ jobName: JOB, targets: [...pool.pods, cutOff].map((p) => `127.0.0.1:${p.port}`) }]);
    await prom.waitForTarget(JOB);
    for (const { where, expr } of fedLater) {
      const samples = await prom.waitForQuery(expr, isData, 30_000).catch((error: Error) => {
        throw new Error(`${where}\n${error.message}`);
      });
      expect(samples.map((s) => s.metric.pod_name)).toContain('bp-3');
    }
    const cutOffInstance = `127.0.0.1:${cutOff.port}`;
    const firing = async (name: string): Promise<string[]> => {
      const expr = alerts.find((a) => a.alert === name)!.expr;
      const samples = await prom.waitForQuery(expr, (s) => s.length > 0, 30_000);
      return samples.map((s) => s.metric.instance!);
    };
    expect(await firing('CardanoForgeLeaseRequestErrors')).toEqual([cutOffInstance]);
    // Its sidecar stops answering: the target that served cardano-forge metrics is down.
    await cutOff.stopSidecar();
    expect(await firing('CardanoForgeSidecarDown')).toEqual([cutOffInstance]);
    expect((await forgers(pool)).length).toBe(1);
  });
});

async function waitForValues(url: URL, wanted: string, timeoutMs = 30_000): Promise<string[]> {
  const until = Date.now() + timeoutMs;
  let last: string[] = [];
  while (Date.now() < until) {
    const body = (await (await fetch(url)).json()) as { status: string; data: string[] };
    last = body.status === 'success' ? body.data : [];
    if (last.includes(wanted)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url}: ${wanted} not offered within ${timeoutMs} ms; got ${JSON.stringify(last)}`);
}
