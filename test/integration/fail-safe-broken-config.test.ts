// End-to-end: a forging leader's sidecar is restarted with a broken config FILE (the paths of its
// keys and node live only in that file). The fail-safe must still withdraw the keys from the file's
// paths and confirm the node stopped forging before the process exits; the standby takes over with
// no overlap. Real apiserver, simulated nodes, the built CLI.
import { afterEach, describe, expect, inject, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostClockMs, readEvents } from '../cardano-node-sim/events.ts';
import { freeLoopbackPort } from '../controlplane/process.ts';
import { testKubeConfig } from '../support/cluster.ts';
import type { ForgePod } from '../support/forge-pod.ts';
import {
  assertZeroOverlap,
  cleanupPools,
  forgers,
  startPool,
  waitConverged,
  waitForSingleForger,
} from '../support/forge-pool.ts';

afterEach(cleanupPools);

/** The node and key settings, only in the file: env carries none of them. */
function nodeAndKeys(pod: ForgePod): string {
  const t = pod.targetDir;
  return [
    'credentials:',
    '  target:',
    `    kesKey: ${join(t, 'kes.skey')}`,
    `    vrfKey: ${join(t, 'vrf.skey')}`,
    `    opCert: ${join(t, 'node.cert')}`,
    'node:',
    `  socketPath: ${pod.socketPath}`,
    `  metricsUrl: http://127.0.0.1:${pod.nodeMetricsPort}/metrics`,
    '',
  ].join('\n');
}

const BLANK_NODE_ENV = {
  TARGET_KES_KEY: '',
  TARGET_VRF_KEY: '',
  TARGET_OP_CERT: '',
  NODE_SOCKET: '',
  NODE_METRICS_URL: '',
};

interface Breakage {
  readonly name: string;
  readonly file: string;
  readonly text: (pod: ForgePod) => string;
  readonly env?: Record<string, string>;
  readonly error: RegExp;
}

const BREAKAGES: readonly Breakage[] = [
  {
    name: 'a .ts config that throws at import',
    file: 'broken.config.ts',
    text: (pod) =>
      [
        "const fromRollout = (): string => { throw new Error('rollout broke this'); };",
        'export default {',
        '  podName: fromRollout(),',
        `  credentials: { target: { kesKey: '${join(pod.targetDir, 'kes.skey')}', vrfKey: '${join(pod.targetDir, 'vrf.skey')}', opCert: '${join(pod.targetDir, 'node.cert')}' } },`,
        `  node: { socketPath: '${pod.socketPath}', metricsUrl: 'http://127.0.0.1:${pod.nodeMetricsPort}/metrics' },`,
        '};',
        '',
      ].join('\n'),
    error: /rollout broke this/,
  },
  {
    name: 'YAML indented with tabs',
    file: 'broken.yaml',
    text: (pod) => nodeAndKeys(pod).replace(/^ +/gm, (spaces) => '\t'.repeat(spaces.length / 2)),
    error: /cannot load config file/,
  },
  {
    name: 'a bad value',
    file: 'broken.yaml',
    text: (pod) => `${nodeAndKeys(pod)}cluster:\n  priority: 5000\n`,
    error: /cluster\.priority: /,
  },
  {
    name: 'renew deadline > lease duration',
    file: 'broken.yaml',
    text: (pod) => `${nodeAndKeys(pod)}election:\n  leaseDurationSeconds: 4\n  renewDeadlineSeconds: 9\n`,
    env: { LEASE_DURATION: '', RENEW_DEADLINE: '', RETRY_PERIOD: '' },
    error: /election\.leaseDurationSeconds: must be greater than election\.renewDeadlineSeconds/,
  },
];

/** Two pods whose node and key settings come only from their config files; one forges. */
async function forgingPoolWithConfigFiles(leaseSeconds: number) {
  const pool = await startPool(testKubeConfig(), inject('forgeKubeconfig'), {
    size: 2,
    start: false,
    // A lease of 10 s or more (production: 15 s) leaves a restarted CLI time to start on a loaded
    // machine: the fail-safe runs after the restart, so the lease left then bounds it (liveness).
    envFor: ({ workDir }) => ({
      ...BLANK_NODE_ENV,
      LEASE_DURATION: String(leaseSeconds),
      RENEW_DEADLINE: String(Math.round((leaseSeconds * 2) / 3)),
      RETRY_PERIOD: '1',
      FORGE_CONFIG: join(workDir, 'forge.config.yaml'),
    }),
  });
  for (const pod of pool.pods) {
    pod.nodeMetricsPort = await freeLoopbackPort();
    await mkdir(pod.targetDir, { recursive: true });
    await writeFile(join(pod.options.workDir, 'forge.config.yaml'), nodeAndKeys(pod));
  }
  await Promise.all(pool.pods.map((p) => p.start()));
  const leader = await waitForSingleForger(pool);
  await waitConverged(pool);
  return { pool, leader };
}

describe('a sidecar restarted with a broken config file withdraws its node from forging', () => {
  it.each(BREAKAGES)(
    '$name: the node stops forging before the exit; no overlap with the standby',
    async (b) => {
      const { pool, leader } = await forgingPoolWithConfigFiles(10);

      // The leader's sidecar dies; kubelet restarts it with the broken config.
      leader.killSidecar('SIGKILL');
      await leader.sidecarExit;
      expect((await forgers(pool)).map((p) => p.options.name)).toEqual([leader.options.name]);
      const broken = join(leader.options.workDir, b.file);
      await writeFile(broken, b.text(leader));
      const spawnedAt = hostClockMs();
      const run = await leader.runExpectingExit({ ...b.env, FORGE_CONFIG: broken });
      const exitedAt = hostClockMs();
      expect(run.code).toBe(2);
      expect(run.output).toMatch(b.error);
      expect(run.output).toMatch(
        /fail-safe: removed 3 credential file\(s\); node signalled .*; its metric confirms forging disabled; node confirmed-not-forging/,
      );
      for (const f of ['kes.skey', 'vrf.skey', 'node.cert'])
        expect(existsSync(join(leader.targetDir, f))).toBe(false);
      expect((await leader.node!.metrics()).forgingEnabled).toBe(false);
      const off = (await readEvents([pool.eventLog])).filter(
        (e) => e.identity === leader.options.name && e.event === 'forging-off',
      );
      expect(off.length).toBeGreaterThan(0);
      expect(off.at(-1)!.ts).toBeLessThanOrEqual(exitedAt);
      console.log(
        `[fail-safe] ${b.name}: forging off ${Math.round(off.at(-1)!.ts - spawnedAt)} ms after the restart, exit after ${exitedAt - spawnedAt} ms`,
      );

      // The lease expires and the standby forges; never both.
      const next = await waitForSingleForger(pool, leader, 20_000);
      expect(next).not.toBe(leader);
      await assertZeroOverlap(pool);
    },
  );

  it('a node that does not confirm (hung: no SIGHUP handling, no metrics) is stopped before the exit', async () => {
    const { pool, leader } = await forgingPoolWithConfigFiles(15);
    leader.killSidecar('SIGKILL');
    await leader.sidecarExit;
    await leader.node!.hang(); // blocks its main thread until it is killed
    const broken = join(leader.options.workDir, 'broken.yaml');
    await writeFile(broken, `${nodeAndKeys(leader)}cluster:\n  priority: 5000\n`);
    const spawnedAt = hostClockMs();
    const run = await leader.runExpectingExit({ FORGE_CONFIG: broken });
    const exitedAt = hostClockMs();
    expect(run.code).toBe(2);
    expect(run.output).toMatch(
      /not confirmed within 3000 ms .*last resort: pid \d+ stopped \(SIG(TERM|KILL)\); node terminated/,
    );
    expect(run.output).toContain('its container restarts it non-producing');
    const exit = await leader.node!.exited;
    expect(exit.atMs).toBeLessThanOrEqual(exitedAt);
    console.log(
      `[fail-safe] hung node: stopped ${Math.round(exit.atMs - spawnedAt)} ms after the restart (${exit.signal}), exit after ${exitedAt - spawnedAt} ms`,
    );
    const next = await waitForSingleForger(pool, leader, 30_000);
    expect(next).not.toBe(leader);
    await assertZeroOverlap(pool);
  });
});
