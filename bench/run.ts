// `npm run bench`: figures, not assertions. Each figure is the median of several runs.
//  1. decide(): decisions per second of the pure decision core.
//  2. Planned handoff (leader SIGTERM) and unplanned failover (leader pod killed) on a real
//     kube-apiserver with simulated nodes, measured from the simulators' event logs.
//  3. Memory (RSS) of a running forge-manager sidecar.
// BENCH_RUNS=N changes the number of handoff/failover runs (default 5).
import { CoreV1Api } from '@kubernetes/client-node';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decide } from '../packages/framework/dist/core/decide.js';
import { UNKNOWN_BELIEF } from '../packages/framework/dist/core/node-belief.js';
import { writeFakeCredentials } from '../test/cardano-node-sim/credentials.ts';
import { wallClockMs } from '../test/cardano-node-sim/events.ts';
import { computeOverlap, readEvents } from '../test/cardano-node-sim/overlap.ts';
import { startControlPlane } from '../test/controlplane/index.ts';
import { ForgePod } from '../test/support/forge-pod.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TIMINGS = { leaseDuration: 15, renewDeadline: 10, retryPeriod: 2 };

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function benchDecide(): number[] {
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
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  return rates;
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function waitFor<T>(fn: () => Promise<T | null | false>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await fn().catch(() => null);
    if (v) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('timeout');
}

async function forger(pods: ForgePod[]): Promise<ForgePod | null> {
  const states = await Promise.all(
    pods.map(async (p) =>
      p.node?.isRunning() ? (await p.node.metrics().catch(() => null))?.forgingEnabled : false,
    ),
  );
  const f = pods.filter((_, i) => states[i]);
  return f.length === 1 ? f[0]! : null;
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = {};
  const decideRates = benchDecide();
  results.decidePerSecond = { median: median(decideRates), runs: decideRates };
  console.log(`decide(): median ${(median(decideRates) / 1e6).toFixed(2)} M decisions/s (5 runs)`);

  const cp = await startControlPlane({ name: `bench-${process.pid}` });
  const dir = await mkdtemp(join(tmpdir(), 'forge-bench-'));
  const handoffs: number[] = [];
  const failovers: number[] = [];
  const rss: number[] = [];
  let overlapMs = 0;
  try {
    for (let run = 0; run < RUNS; run++) {
      for (const kind of ['handoff', 'failover'] as const) {
        const ns = `bench-${kind}-${run}`;
        await cp
          .kubeConfig()
          .makeApiClient(CoreV1Api)
          .createNamespace({ body: { metadata: { name: ns } } });
        const runDir = join(dir, ns);
        const secrets = join(runDir, 'secrets');
        await writeFakeCredentials(secrets);
        const eventLog = join(runDir, 'events.jsonl');
        const pods = [0, 1, 2].map(
          (i) =>
            new ForgePod({
              name: `bp-${i}`,
              namespace: ns,
              kubeconfigPath: cp.kubeconfigPath,
              pool: 'pool1bench',
              sourceDir: secrets,
              eventLog,
              workDir: join(runDir, `bp-${i}`),
              leaseName: 'cardano-node-leader',
              timings: TIMINGS,
              extraEnv: { LOG_LEVEL: 'warn' },
            }),
        );
        try {
          await Promise.all(pods.map((p) => p.start()));
          const leader = await waitFor(() => forger(pods), 60_000);
          await new Promise((r) => setTimeout(r, 1000));
          if (kind === 'handoff') rss.push(await rssMiB(leader.sidecar!.pid!));
          const t0 = wallClockMs();
          if (kind === 'handoff') await leader.stopSidecar();
          else {
            leader.killSidecar('SIGKILL');
            leader.node!.kill('SIGKILL');
          }
          await waitFor(async () => {
            const f = await forger(pods);
            return f !== null && f !== leader ? f : null;
          }, 60_000);
          const events = await readEvents([eventLog]);
          const on = events.find(
            (e) => e.event === 'forging-on' && e.ts >= t0 && e.identity !== leader.options.name,
          )!;
          (kind === 'handoff' ? handoffs : failovers).push(on.ts - t0);
          overlapMs += computeOverlap(events).totalOverlapMs;
          console.log(`  run ${run + 1} ${kind}: ${(on.ts - t0).toFixed(0)} ms`);
        } finally {
          await Promise.all(pods.map((p) => p.dispose()));
        }
      }
    }
  } finally {
    await cp.stop();
    await rm(dir, { recursive: true, force: true });
  }
  results.timings = TIMINGS;
  results.plannedHandoffMs = { median: median(handoffs), runs: handoffs };
  results.unplannedFailoverMs = { median: median(failovers), runs: failovers };
  results.sidecarRssMiB = { median: median(rss), runs: rss };
  results.totalOverlapMs = overlapMs;
  console.log(
    `planned handoff (SIGTERM):       median ${median(handoffs).toFixed(0)} ms over ${handoffs.length} runs`,
  );
  console.log(
    `unplanned failover (pod killed): median ${median(failovers).toFixed(0)} ms over ${failovers.length} runs (lease ${TIMINGS.leaseDuration} s)`,
  );
  console.log(`sidecar RSS:                     median ${median(rss).toFixed(1)} MiB`);
  console.log(`overlap across all runs:         ${overlapMs.toFixed(0)} ms`);
  await mkdir('.bench', { recursive: true });
  await writeFile(
    '.bench/results.json',
    JSON.stringify({ at: new Date().toISOString(), ...results }, null, 2),
  );
  console.log('written .bench/results.json');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
