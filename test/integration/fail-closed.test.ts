// Beliefs that fail closed, on real processes: credentials that cannot be removed (a read-only
// target) must never end with the node still forging while a standby takes over.
import { afterEach, describe, expect, inject, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readEvents } from '../cardano-node-sim/overlap.ts';
import { hostClockMs } from '../cardano-node-sim/events.ts';
import { testKubeConfig } from '../support/cluster.ts';
import {
  assertZeroOverlap,
  cleanupPools,
  startPool,
  waitConverged,
  waitForSingleForger,
} from '../support/forge-pool.ts';

const mounts: string[] = [];

afterEach(async () => {
  await cleanupPools();
  // Lazy unmount: the pool's processes are gone, but be safe with anything still holding a file.
  for (const dir of mounts.splice(0)) execFileSync('umount', ['-l', dir]);
});

/** A tmpfs at `dir` (CI runs as root, like the sidecar's own tests of mount behaviour need). */
function mountTmpfs(dir: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
  mounts.push(dir);
}

describe('credentials that cannot be removed', () => {
  it('leader SIGTERM with a read-only target: its node is stopped before the lease goes, zero overlap, exit non-zero', async () => {
    const pool = await startPool(testKubeConfig(), inject('forgeKubeconfig'), { size: 2, start: false });
    for (const pod of pool.pods) {
      await mkdir(pod.targetDir, { recursive: true });
      mountTmpfs(pod.targetDir);
    }
    await Promise.all(pool.pods.map((p) => p.start()));
    const leader = await waitForSingleForger(pool);
    await waitConverged(pool);
    // The volume turns read-only under the running pod (EROFS on every removal).
    execFileSync('mount', ['-o', 'remount,ro', leader.targetDir]);
    const t0 = hostClockMs();
    const code = await leader.stopSidecar();
    // Not converged: the files are still there, so the process must not exit as if it had.
    expect(code).not.toBe(0);
    expect(existsSync(join(leader.targetDir, 'kes.skey'))).toBe(true);
    // Its node was stopped as the last resort (the container would restart it non-producing).
    const exit = await leader.node!.exited;
    expect(exit).toBeTruthy();
    const next = await waitForSingleForger(pool, leader, 20_000);
    const events = await readEvents([pool.eventLog]);
    const off = events.find(
      (e) => e.identity === leader.options.name && e.event === 'forging-off' && e.ts >= t0,
    );
    const on = events.find((e) => e.identity === next.options.name && e.event === 'forging-on' && e.ts >= t0);
    console.log(
      `[erofs] ${leader.options.name} stopped forging ${(off!.ts - t0).toFixed(0)} ms after SIGTERM; ${next.options.name} forging after ${(on!.ts - t0).toFixed(0)} ms`,
    );
    await assertZeroOverlap(pool);
  });
});
