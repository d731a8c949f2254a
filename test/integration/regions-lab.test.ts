// `npm start -- --regions 2 --script maintenance`: the lab's regions mode runs its scripted
// maintenance failover (eu → us) and failback (us → eu after the hold-down) without a terminal and
// exits 0; its last view shows eu forging; the simulators' logs show zero overlap; every process
// it started (sidecars, nodes, kube-apiservers and their etcds, the etcd members) is gone.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
const NODE = join(REPO, 'node_modules/.bin/node');

interface LabState {
  labPid: number;
  pids: number[];
  maxForgersSeen: number;
  stopped?: boolean;
  overlapMs?: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

let stateDir: string | null = null;
afterAll(async () => {
  if (stateDir !== null) await rm(stateDir, { recursive: true, force: true });
});

describe('npm start --regions 2: scripted maintenance failover and failback', () => {
  it('moves forging eu → us on maintenance and back after it, never two forgers, and cleans up', async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'forge-regions-lab-'));
    const stateFile = join(stateDir, 'state.json');
    const begin = Date.now();
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((done) => {
      const child = execFile(
        NODE,
        ['test/lab/start.ts', '--regions', '2', '--script', 'maintenance', '--state-file', stateFile],
        { cwd: REPO, maxBuffer: 64 * 1024 * 1024, timeout: 400_000, killSignal: 'SIGTERM' },
        (_error, out) => done({ code: child.exitCode, stdout: out }),
      );
    });
    console.log(`[regions-lab] exit ${code} after ${Math.round((Date.now() - begin) / 1000)} s`);
    const summary = stdout.split('\n').find((line) => line.startsWith('[lab] failover'));
    console.log(`[regions-lab] ${summary ?? '(no summary line)'}`);
    expect(code, stdout.slice(-3000)).toBe(0);
    expect(summary).toMatch(/^\[lab\] failover eu → us \d+ ms, failback us → eu \d+ ms$/);
    // The last view drawn shows eu forging, and no view ever showed two forgers.
    const views = stdout.split('\n\n').filter((view) => view.includes('forging region:'));
    expect(views.at(-1)).toMatch(/forging region: eu \(pod eu-bp-\d\)/);
    expect(stdout).not.toContain('PODS AT ONCE');
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as LabState;
    expect(state.stopped).toBe(true);
    expect(state.overlapMs).toBe(0);
    expect(state.maxForgersSeen).toBe(1);
    expect(state.pids.length).toBeGreaterThanOrEqual(2 * 2 * 2 + 2 * 2 + 3);
    expect(state.pids.filter(alive)).toEqual([]);
  });
});
