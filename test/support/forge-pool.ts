// A pool of ForgePods (forge-manager + simulated node each) in a fresh namespace, and the checks
// every scenario makes: who forges, handoff times, zero overlap from the simulators' event logs.
import { expect } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { writeFakeCredentials } from '../cardano-node-sim/credentials.ts';
import { computeOverlap, readEvents } from '../cardano-node-sim/overlap.ts';
import { createTestNamespace } from './cluster.ts';
import { ForgePod, waitFor } from './forge-pod.ts';

// Short timings keep the suite fast; the ratios are the production ones (LD > RD > 1.2·RP), and the
// margin LD − RD holds the revocation budget (core/timing.ts) with the simulator's SIGHUP latency bound.
export const TIMINGS = { leaseDuration: 6, renewDeadline: 3, retryPeriod: 1 };

export interface Pool {
  pods: ForgePod[];
  eventLog: string;
  sourceDir: string;
  dir: string;
  namespace: string;
}

const cleanups: Array<() => Promise<void>> = [];
/** Call from afterEach: stops every pod and removes the pool directories. */
export async function cleanupPools(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
}

export interface PoolOptions {
  readonly size?: number;
  readonly extraEnv?: Record<string, string>;
  /** Per-pod env on top of extraEnv (e.g. a config file of its own in its workDir). */
  readonly envFor?: (pod: { name: string; workDir: string }) => Record<string, string>;
  /** Write the credential sources yourself (bad-input scenarios); default: valid fakes. */
  readonly writeSources?: (dir: string) => Promise<void>;
  /** Start the pods (sidecar, startup credentials, node); default true. */
  readonly start?: boolean;
}

export async function startPool(
  kc: KubeConfig,
  kubeconfigPath: string,
  options: PoolOptions = {},
): Promise<Pool> {
  const size = options.size ?? 3;
  const ns = await createTestNamespace(kc, 'single');
  const dir = await mkdtemp(join(tmpdir(), 'forge-pool-'));
  const sourceDir = join(dir, 'secrets');
  if (options.writeSources) await options.writeSources(sourceDir);
  else await writeFakeCredentials(sourceDir); // kes.skey, vrf.skey, node.cert: the Secret-mount names
  const eventLog = join(dir, 'events.jsonl');
  const pods: ForgePod[] = [];
  for (let i = 0; i < size; i++) {
    const workDir = join(dir, `bp-${i}`);
    pods.push(
      new ForgePod({
        name: `bp-${i}`,
        namespace: ns.name,
        kubeconfigPath,
        pool: 'pool1test',
        sourceDir,
        eventLog,
        workDir,
        leaseName: 'cardano-node-leader',
        timings: TIMINGS,
        extraEnv: { ...options.extraEnv, ...options.envFor?.({ name: `bp-${i}`, workDir }) },
      }),
    );
  }
  cleanups.push(async () => {
    await Promise.all(pods.map((p) => p.dispose()));
    // FORGE_KEEP_TEST_DIRS=1 keeps sidecar logs and event logs for debugging.
    if (process.env.FORGE_KEEP_TEST_DIRS) console.log(`[debug] kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  });
  if (options.start !== false) await Promise.all(pods.map((p) => p.start()));
  return { pods, eventLog, sourceDir, dir, namespace: ns.name };
}

export async function forgers(pool: Pool): Promise<ForgePod[]> {
  const states = await Promise.all(
    pool.pods.map(async (p) =>
      p.node?.isRunning() ? (await p.node.metrics().catch(() => null))?.forgingEnabled === true : false,
    ),
  );
  return pool.pods.filter((_, i) => states[i]);
}

export async function waitForSingleForger(
  pool: Pool,
  exclude?: ForgePod,
  timeoutMs = 30_000,
): Promise<ForgePod> {
  return waitFor(
    'exactly one forging node',
    async () => {
      const f = await forgers(pool);
      return f.length === 1 && f[0] !== exclude ? f[0] : null;
    },
    timeoutMs,
  );
}

export async function assertZeroOverlap(pool: Pool): Promise<void> {
  const report = computeOverlap(await readEvents([pool.eventLog]));
  expect(report.overlaps).toEqual([]);
  expect(report.totalOverlapMs).toBe(0);
}

/** First forging-on after `afterMs` by a node other than `from`: handoff time from `afterMs`. */
export async function forgingOnAfter(pool: Pool, afterMs: number, notIdentity: string): Promise<number> {
  const events = await readEvents([pool.eventLog]);
  const on = events.find((e) => e.event === 'forging-on' && e.ts >= afterMs && e.identity !== notIdentity);
  if (!on) throw new Error('no forging-on after the fault');
  return on.ts - afterMs;
}

/** Every running sidecar sees its node up and has nothing left to do. */
export async function waitConverged(pool: Pool, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    'all sidecars converged',
    async () => {
      const running = pool.pods.filter((p) => p.node?.isRunning());
      const statuses = await Promise.all(running.map((p) => p.status()));
      return statuses.every((s) => s !== null && s.phase === 'running' && s.decision.actions.length === 0);
    },
    timeoutMs,
  );
}
