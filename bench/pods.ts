// Three forge-manager sidecars with simulated nodes in one namespace of the real apiserver, as
// the integration tests run them. BENCH_FORGE_CLI runs another build of the CLI (e.g. the main
// branch's packages/framework/dist/cli/main.js) to compare against. The sidecars run with the
// image's Node flags (SIDECAR_NODE_FLAGS); BENCH_SIDECAR_NODE_FLAGS="<flags>" replaces them ("" for
// none), to measure what a flag buys; BENCH_SIDECAR_ENV="K=V ..." adds environment variables.
import { CoreV1Api } from '@kubernetes/client-node';
import { join } from 'node:path';
import { writeFakeCredentials } from '../test/cardano-node-sim/credentials.ts';
import type { ControlPlane } from '../test/controlplane/index.ts';
import { ForgePod } from '../test/support/forge-pod.ts';

export interface Timings {
  readonly leaseDuration: number;
  readonly renewDeadline: number;
  readonly retryPeriod: number;
  /** The sidecar's loop interval (loop.intervalSeconds, SLEEP_INTERVAL). */
  readonly interval: number;
}

export interface PodSet {
  readonly pods: ForgePod[];
  readonly eventLog: string;
  dispose(): Promise<void>;
}

export async function createPodSet(
  cp: ControlPlane,
  options: { namespace: string; dir: string; timings: Timings; count?: number },
): Promise<PodSet> {
  const { namespace, dir, timings } = options;
  await cp
    .kubeConfig()
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name: namespace } } });
  const secrets = join(dir, 'secrets');
  await writeFakeCredentials(secrets);
  const eventLog = join(dir, 'events.jsonl');
  const cli = process.env['BENCH_FORGE_CLI'];
  const nodeFlags = process.env['BENCH_SIDECAR_NODE_FLAGS']?.split(' ').filter((f) => f !== '');
  const extraEnv = Object.fromEntries(
    (process.env['BENCH_SIDECAR_ENV'] ?? '')
      .split(' ')
      .filter((pair) => pair.includes('='))
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
  const pods = Array.from(
    { length: options.count ?? 3 },
    (_, i) =>
      new ForgePod({
        name: `bp-${i}`,
        namespace,
        kubeconfigPath: cp.kubeconfigPath,
        pool: 'pool1bench',
        sourceDir: secrets,
        eventLog,
        workDir: join(dir, `bp-${i}`),
        leaseName: 'cardano-node-leader',
        timings,
        extraEnv: {
          LOG_LEVEL: 'warn',
          ...extraEnv,
          // e.g. BENCH_SIDECAR_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" to see where CPU goes.
          ...(process.env['BENCH_SIDECAR_NODE_OPTIONS']
            ? { NODE_OPTIONS: process.env['BENCH_SIDECAR_NODE_OPTIONS'] }
            : {}),
        },
        ...(cli ? { entrypoint: { cli } } : {}),
        ...(nodeFlags ? { nodeFlags } : {}),
      }),
  );
  return {
    pods,
    eventLog,
    dispose: async () => {
      await Promise.all(pods.map((p) => p.dispose()));
    },
  };
}

/** The one pod whose node reports forging, or null (none, several, or a metric that did not answer). */
export async function forger(pods: readonly ForgePod[]): Promise<ForgePod | null> {
  const states = await Promise.all(
    pods.map(async (p) =>
      p.node?.isRunning() ? (await p.node.metrics().catch(() => null))?.forgingEnabled : false,
    ),
  );
  const forging = pods.filter((_, i) => states[i]);
  return forging.length === 1 ? forging[0]! : null;
}

export async function waitFor<T>(
  fn: () => Promise<T | null | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await fn().catch(() => null);
    if (v) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`bench: timed out waiting for ${what}`);
}
