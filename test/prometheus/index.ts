// Test helper: a real Prometheus (Debian package: /usr/bin/prometheus, /usr/bin/promtool) on a free
// loopback port with a generated, promtool-checked config and a throwaway TSDB. Stopped by its PID.
// Erasable TypeScript only, so harness scripts can load it with Node directly.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from '../controlplane/process.ts';

export const DEFAULT_PROMETHEUS_BINARY = '/usr/bin/prometheus';
export const DEFAULT_PROMTOOL_BINARY = '/usr/bin/promtool';

export interface ScrapeConfig {
  jobName: string;
  /** host:port pairs, e.g. 127.0.0.1:9100 */
  targets: string[];
  labels?: Record<string, string>;
  /** Default /metrics. */
  metricsPath?: string;
}

export interface StartPrometheusOptions {
  scrapeConfigs: ScrapeConfig[];
  /** Default 1000. Also the rule evaluation interval. */
  scrapeIntervalMs?: number;
  prometheusBinary?: string;
  promtoolBinary?: string;
  readyTimeoutMs?: number;
  extraArgs?: readonly string[];
}

export interface PromSample {
  metric: Record<string, string>;
  value: number;
  /** Sample time, unix seconds. */
  timestamp: number;
}

export interface PromTarget {
  job: string;
  instance: string;
  labels: Record<string, string>;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  lastScrape: string;
  scrapeUrl: string;
}

export interface PrometheusExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface PrometheusInstance {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly configPath: string;
  readonly dataDir: string;
  readonly exited: Promise<PrometheusExit>;
  /** Instant query; vector and scalar results become samples. Throws on a query error. */
  query(promql: string): Promise<PromSample[]>;
  /** Value of the first sample, undefined when the result is empty. */
  queryValue(promql: string): Promise<number | undefined>;
  /** Polls the query until predicate(samples) holds. */
  waitForQuery(
    promql: string,
    predicate: (samples: PromSample[]) => boolean,
    timeoutMs?: number,
  ): Promise<PromSample[]>;
  targets(): Promise<PromTarget[]>;
  /** Resolves when the job has at least one active target and all of them are up. */
  waitForTarget(jobName: string, timeoutMs?: number): Promise<PromTarget[]>;
  /** Rewrites the config (checked by promtool) and reloads it through /-/reload. */
  reload(scrapeConfigs: ScrapeConfig[]): Promise<void>;
  /** SIGTERM, SIGKILL after graceMs (default 10000), by PID; then removes the temp dir. */
  stop(graceMs?: number): Promise<PrometheusExit>;
  output(): string;
}

export type ConfigCheck =
  { ok: true } | { ok: false; reason: 'invalid-config' | 'promtool-failed'; message: string };

function duration(ms: number): string {
  return `${Math.max(1, Math.round(ms))}ms`;
}

/** Prometheus YAML config; JSON is valid YAML, so no YAML library is needed. */
export function renderPrometheusConfig(
  scrapeConfigs: readonly ScrapeConfig[],
  scrapeIntervalMs = 1000,
): string {
  const config = {
    global: {
      scrape_interval: duration(scrapeIntervalMs),
      scrape_timeout: duration(Math.min(scrapeIntervalMs, 10_000)),
      evaluation_interval: duration(scrapeIntervalMs),
    },
    scrape_configs: scrapeConfigs.map((scrape) => ({
      job_name: scrape.jobName,
      metrics_path: scrape.metricsPath ?? '/metrics',
      static_configs: [
        { targets: scrape.targets, ...(scrape.labels === undefined ? {} : { labels: scrape.labels }) },
      ],
    })),
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function checkPrometheusConfig(
  configPath: string,
  promtoolBinary = DEFAULT_PROMTOOL_BINARY,
): Promise<ConfigCheck> {
  return new Promise((resolve) => {
    execFile(
      promtoolBinary,
      ['check', 'config', configPath],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        if (error === null) resolve({ ok: true });
        else if (typeof error.code === 'number')
          resolve({ ok: false, reason: 'invalid-config', message: `${stdout}${stderr}`.trim() });
        else resolve({ ok: false, reason: 'promtool-failed', message: error.message });
      },
    );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function apiGet<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as { status: string; data: T; error?: string; errorType?: string };
  if (body.status !== 'success')
    throw new Error(`${url}: ${body.errorType ?? 'error'}: ${body.error ?? response.status}`);
  return body.data;
}

interface RawTarget {
  labels: Record<string, string>;
  health: PromTarget['health'];
  lastError: string;
  lastScrape: string;
  scrapeUrl: string;
}

type QueryData =
  | { resultType: 'vector'; result: Array<{ metric: Record<string, string>; value: [number, string] }> }
  | { resultType: 'scalar'; result: [number, string] }
  | { resultType: 'matrix' | 'string'; result: unknown };

export async function startPrometheus(options: StartPrometheusOptions): Promise<PrometheusInstance> {
  const prometheusBinary = options.prometheusBinary ?? DEFAULT_PROMETHEUS_BINARY;
  const promtoolBinary = options.promtoolBinary ?? DEFAULT_PROMTOOL_BINARY;
  const scrapeIntervalMs = options.scrapeIntervalMs ?? 1000;
  const root = await mkdtemp(join(tmpdir(), 'prometheus-'));
  const configPath = join(root, 'prometheus.yml');
  const dataDir = join(root, 'data');

  const writeCheckedConfig = async (scrapeConfigs: readonly ScrapeConfig[]): Promise<void> => {
    await writeFile(configPath, renderPrometheusConfig(scrapeConfigs, scrapeIntervalMs));
    const check = await checkPrometheusConfig(configPath, promtoolBinary);
    if (!check.ok) throw new Error(`prometheus config rejected (${check.reason}): ${check.message}`);
  };

  try {
    await writeCheckedConfig(options.scrapeConfigs);
    // The port is free when probed but could be taken before Prometheus binds: retry with a new one.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        return await launch(await freeLoopbackPort());
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }

  async function launch(port: number): Promise<PrometheusInstance> {
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(
      prometheusBinary,
      [
        `--config.file=${configPath}`,
        `--storage.tsdb.path=${dataDir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-lifecycle',
        '--log.level=warn',
        ...(options.extraArgs ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    if (child.pid === undefined) {
      await new Promise((resolve) => child.once('error', resolve));
      throw new Error(`could not start ${prometheusBinary}`);
    }
    const pid = child.pid;
    let output = '';
    const collect = (chunk: Buffer): void => {
      // Bounded: only the tail matters for failure messages.
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let running = true;
    const exited = new Promise<PrometheusExit>((resolve) => {
      child.once('exit', (code, signal) => {
        running = false;
        resolve({ code, signal });
      });
    });
    const signal = (name: NodeJS.Signals): void => {
      try {
        process.kill(pid, name);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    };
    const stopProcess = async (graceMs: number): Promise<PrometheusExit> => {
      if (running) {
        signal('SIGTERM');
        const timer = setTimeout(() => signal('SIGKILL'), graceMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      }
      return exited;
    };

    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (!running) throw new Error(`prometheus exited before ready: ${output}`);
      if (Date.now() > deadline) {
        await stopProcess(2_000);
        throw new Error(`prometheus not ready within ${options.readyTimeoutMs ?? 60_000} ms: ${output}`);
      }
      const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) }).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) break;
      await sleep(100);
    }

    const instance: PrometheusInstance = {
      url,
      port,
      pid,
      configPath,
      dataDir,
      exited,
      async query(promql) {
        const data = await apiGet<QueryData>(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
        if (data.resultType === 'vector') {
          return data.result.map((sample) => ({
            metric: sample.metric,
            value: Number(sample.value[1]),
            timestamp: sample.value[0],
          }));
        }
        if (data.resultType === 'scalar')
          return [{ metric: {}, value: Number(data.result[1]), timestamp: data.result[0] }];
        throw new Error(`query returned a ${data.resultType}; use an instant vector or scalar expression`);
      },
      async queryValue(promql) {
        return (await instance.query(promql))[0]?.value;
      },
      async waitForQuery(promql, predicate, timeoutMs = 30_000) {
        const until = Date.now() + timeoutMs;
        let last: PromSample[] = [];
        while (Date.now() < until) {
          last = await instance.query(promql);
          if (predicate(last)) return last;
          await sleep(Math.min(200, scrapeIntervalMs));
        }
        throw new Error(
          `query ${promql} did not satisfy the predicate within ${timeoutMs} ms; last: ${JSON.stringify(last)}`,
        );
      },
      async targets() {
        const data = await apiGet<{ activeTargets: RawTarget[] }>(`${url}/api/v1/targets?state=active`);
        return data.activeTargets.map((target) => ({
          job: target.labels.job ?? '',
          instance: target.labels.instance ?? '',
          labels: target.labels,
          health: target.health,
          lastError: target.lastError,
          lastScrape: target.lastScrape,
          scrapeUrl: target.scrapeUrl,
        }));
      },
      async waitForTarget(jobName, timeoutMs = 30_000) {
        const until = Date.now() + timeoutMs;
        let last: PromTarget[] = [];
        while (Date.now() < until) {
          last = (await instance.targets()).filter((target) => target.job === jobName);
          if (last.length > 0 && last.every((target) => target.health === 'up')) return last;
          await sleep(Math.min(200, scrapeIntervalMs));
        }
        throw new Error(`job ${jobName} not up within ${timeoutMs} ms: ${JSON.stringify(last)}`);
      },
      async reload(scrapeConfigs) {
        await writeCheckedConfig(scrapeConfigs);
        const response = await fetch(`${url}/-/reload`, {
          method: 'POST',
          signal: AbortSignal.timeout(10_000),
        });
        if (!response.ok) throw new Error(`reload failed: HTTP ${response.status} ${await response.text()}`);
      },
      async stop(graceMs = 10_000) {
        const exit = await stopProcess(graceMs);
        await rm(root, { recursive: true, force: true });
        return exit;
      },
      output: () => output,
    };
    return instance;
  }
}
