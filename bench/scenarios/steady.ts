// Steady state: what one sidecar costs while nothing happens (one leader renewing, two standbys
// watching). API requests are counted at the API server from its audit log, per pod by User-Agent.
import { readAudit, podOf } from '../audit.ts';
import type { Figure } from '../figures.ts';
import { createPodSet, forger, waitFor } from '../pods.ts';
import { cpuSeconds, rssMiB } from '../proc.ts';
import type { BenchContext, Scenario } from './types.ts';

const SECTION = 'Steady state, per pod (3 pods, one leader)';
const TARGET = 'issue 10';
/** As the chart's ServiceMonitor (values.yaml `serviceMonitor.interval`): a sidecar is scraped. */
const SCRAPE_EVERY_MS = 30_000;
const RSS_SAMPLE_EVERY_MS = 10_000;

export interface SteadyOptions {
  readonly runs: number;
  /** Length of the measured window. */
  readonly seconds: number;
  /** Settling time after the first forger, before the window opens. */
  readonly warmupSeconds: number;
}

export function steadyScenario(options: SteadyOptions): Scenario {
  const namespaces = Array.from({ length: options.runs }, (_, i) => `bench-steady-${i}`);
  return {
    id: 'steady',
    title: SECTION,
    auditNamespaces: namespaces,
    method:
      `The runs side by side: three pods per run, each run in its own namespace. After every run's ` +
      `first forger and ${options.warmupSeconds} s of settling (start-up's one-off work: lazy ` +
      `compilation, V8's first collections and memory-reducer passes), a ${options.seconds} s window: ` +
      'CPU is the sidecar process’s user + system time over the window (/proc/<pid>/stat), RSS the ' +
      `highest VmRSS of samples every ${RSS_SAMPLE_EVERY_MS / 1000} s through the window, API requests every request ` +
      'the API server’s audit log records in the namespace during the window, attributed to a pod by ' +
      'the User-Agent its sidecar sends (a watch counts once, when it is opened). Every sidecar’s ' +
      `/metrics is scraped every ${SCRAPE_EVERY_MS / 1000} s throughout, as the chart's ` +
      'ServiceMonitor has Prometheus do. Standby figures take both standbys of every run as samples.',
    async run(ctx: BenchContext): Promise<Figure[]> {
      const cp = await ctx.controlPlane();
      const leader = { rss: [] as number[], cpu: [] as number[], api: [] as number[] };
      const standby = { rss: [] as number[], cpu: [] as number[], api: [] as number[] };
      const total: number[] = [];
      const breakdown = new Map<string, number>();
      // The runs' pod sets side by side (one namespace each): a steady state takes minutes to
      // reach, and in turn the bench would take a quarter of an hour longer.
      const sets = await Promise.all(
        namespaces.map(async (namespace) =>
          createPodSet(cp, { namespace, dir: await ctx.runDir(namespace), timings: ctx.timings }),
        ),
      );
      let scraper: NodeJS.Timeout | undefined;
      let sampler: NodeJS.Timeout | undefined;
      try {
        const pods = sets.flatMap((set) => set.pods);
        await Promise.all(pods.map((p) => p.start()));
        await Promise.all(sets.map((set) => waitFor(() => forger(set.pods), 60_000, 'a forger')));
        const scrape = (): void => {
          for (const pod of pods) void pod.metricsText().catch(() => undefined);
        };
        scrape();
        scraper = setInterval(scrape, SCRAPE_EVERY_MS);
        await new Promise((r) => setTimeout(r, options.warmupSeconds * 1000));
        const pids = pods.map((p) => p.sidecar!.pid!);
        // RSS is the highest of samples through the window, not one read at its end: V8's heap
        // fills between collections, and the peak is what a memory limit has to allow for.
        const peakRss = pids.map(() => 0);
        const sampleRss = async (): Promise<void> => {
          const now = await Promise.all(pids.map((pid) => rssMiB(pid).catch(() => 0)));
          now.forEach((mib, i) => (peakRss[i] = Math.max(peakRss[i]!, mib)));
        };
        const startMs = Date.now();
        const cpu0 = await Promise.all(pids.map(cpuSeconds));
        await sampleRss();
        sampler = setInterval(() => void sampleRss(), RSS_SAMPLE_EVERY_MS);
        await new Promise((r) => setTimeout(r, options.seconds * 1000));
        const cpu1 = await Promise.all(pids.map(cpuSeconds));
        const endMs = Date.now();
        clearInterval(sampler);
        await sampleRss();
        const minutes = (endMs - startMs) / 60_000;
        // Let the audit log catch up with the window's last requests.
        await new Promise((r) => setTimeout(r, 1000));
        let offset = 0;
        for (const [n, set] of sets.entries()) {
          const namespace = namespaces[n]!;
          const at = offset;
          offset += set.pods.length;
          const leaderPod = await forger(set.pods);
          const requests = (await readAudit(cp.auditLogPath, namespace)).filter(
            (r) => r.receivedMs >= startMs && r.receivedMs < endMs,
          );
          const names = set.pods.map((p) => p.options.name);
          total.push(requests.length / minutes);
          const cpuOf = (i: number): number => (cpu1[at + i]! - cpu0[at + i]!) / minutes;
          set.pods.forEach((pod, i) => {
            const bucket = pod === leaderPod ? leader : standby;
            bucket.rss.push(peakRss[at + i]!);
            bucket.cpu.push(cpuOf(i));
            const mine = requests.filter((r) => podOf(r, names) === pod.options.name);
            if (requests.some((r) => podOf(r, names) !== null)) bucket.api.push(mine.length / minutes);
            for (const r of mine) {
              const key = `${pod === leaderPod ? 'leader' : 'standby'} ${r.verb} ${r.resource}`;
              breakdown.set(key, (breakdown.get(key) ?? 0) + 1 / minutes / (pod === leaderPod ? 1 : 2));
            }
          });
          ctx.log(
            `  ${namespace}: leader ${leaderPod?.options.name ?? '?'}; peak RSS ` +
              `${set.pods.map((_, i) => peakRss[at + i]!.toFixed(1)).join('/')} MiB; ` +
              `CPU ${set.pods.map((_, i) => cpuOf(i).toFixed(3)).join('/')} s/min; ` +
              `${(requests.length / minutes).toFixed(1)} requests/min in the namespace`,
          );
        }
      } finally {
        clearInterval(scraper);
        clearInterval(sampler);
        await Promise.all(sets.map((set) => set.dispose()));
      }
      const perRun = options.runs;
      const detail = [...breakdown.entries()]
        .sort()
        .map(([k, v]) => `${k}: ${(v / perRun).toFixed(1)}/min`)
        .join('; ');
      const fig = (
        id: string,
        label: string,
        unit: string,
        samples: number[],
        extra: Partial<Figure> = {},
      ): Figure => ({ id: `steady.${id}`, section: SECTION, label, unit, samples, ...extra });
      return [
        fig('leader.rssMiB', 'RSS, leader (highest in the window)', 'MiB', leader.rss, {
          target: { max: 80, source: TARGET },
          digits: 1,
          underLoad: 'about the same',
        }),
        fig('standby.rssMiB', 'RSS, standby (highest in the window)', 'MiB', standby.rss, {
          target: { max: 80, source: TARGET },
          digits: 1,
          underLoad: 'about the same',
        }),
        fig('leader.cpuSecondsPerMin', 'CPU, leader', 's/min', leader.cpu, {
          target: { max: 0.2, source: TARGET },
          digits: 3,
          underLoad: 'lower unloaded (CPU time includes waiting for caches and a busy scheduler)',
        }),
        fig('standby.cpuSecondsPerMin', 'CPU, standby', 's/min', standby.cpu, {
          target: { max: 0.2, source: TARGET },
          digits: 3,
          underLoad: 'lower unloaded',
        }),
        fig('leader.apiPerMin', 'API requests at the apiserver, leader', '/min', leader.api, {
          target: { max: 30, source: `${TARGET} (renewal every retryPeriod)` },
          digits: 1,
          underLoad: 'the same (set by the timings)',
        }),
        fig('standby.apiPerMin', 'API requests at the apiserver, standby', '/min', standby.api, {
          target: { max: 2, source: TARGET },
          digits: 1,
          underLoad: 'the same',
        }),
        fig('total.apiPerMin', 'API requests at the apiserver, all 3 pods', '/min', total, {
          digits: 1,
          ...(detail === '' ? {} : { note: `per pod and run: ${detail}` }),
        }),
      ];
    },
  };
}
