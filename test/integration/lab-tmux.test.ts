// The lab as a person sees it: `test/lab/start.ts` runs in a detached tmux session of 100×30 on its
// own tmux socket; the test reads the screen with capture-pane and types with send-keys. It waits for
// one forging pod, presses `h` (planned handoff), waits for another pod to forge, and presses `q`.
// Safety is strict: no screen ever shows two forging pods and the simulators' event logs show zero
// overlap. Liveness waits are generous (the lab starts its own control plane on a loaded machine).
// Every process the lab started must be gone after `q`, without the test killing any of them.
// A second test runs `--script handoff` (no terminal) and expects exit 0 with the new forger shown.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { computeOverlap, forgingIntervals, readEvents } from '../cardano-node-sim/overlap.ts';
import { waitFor } from '../support/forge-pod.ts';

const run = promisify(execFile);
const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
const NODE = join(REPO, 'node_modules/.bin/node');
const SOCKET = `forge-lab-test-${process.pid}-${randomBytes(3).toString('hex')}`;
const SESSION = 'lab';

interface LabState {
  labPid: number;
  eventLog: string;
  pids: number[];
  maxForgersSeen: number;
  stopped?: boolean;
  overlapMs?: number;
}

async function tmux(...args: string[]): Promise<string> {
  const { stdout } = await run('tmux', ['-L', SOCKET, ...args]);
  return stdout;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Pod rows whose node column says FORGING (the view's row format: name, then the node's state). */
function forgingRows(screen: string): string[] {
  return [...screen.matchAll(/^(\S+)\s+FORGING\s/gm)].map((m) => m[1] ?? '');
}

let labPid: number | null = null;
let stateDir: string | null = null;

afterAll(async () => {
  // Only if the test failed before `q` worked: SIGTERM the lab by its PID (it stops what it started).
  if (labPid !== null && alive(labPid)) {
    process.kill(labPid, 'SIGTERM');
    await waitFor('the lab to exit after SIGTERM', async () => !alive(labPid ?? 0), 60_000).catch(
      () => undefined,
    );
  }
  await tmux('kill-server').catch(() => undefined); // our own socket: only the session this test made
  if (stateDir !== null) await rm(stateDir, { recursive: true, force: true });
});

describe('npm start: the lab view in a terminal', () => {
  it('shows one forger, hands off on `h` without ever showing two, and quits cleanly on `q`', async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'forge-lab-tmux-'));
    const stateFile = join(stateDir, 'state.json');
    // Through sh so the lab's exit status stays on the screen (as a person would see it).
    const script = '"$0" test/lab/start.ts --state-file "$1"; echo "[lab exited with status $?]"';
    await tmux(
      'new-session',
      ...['-d', '-s', SESSION, '-x', '100', '-y', '30', '-c', REPO],
      ...['sh', '-c', script, NODE, stateFile],
    );
    await tmux('set-option', '-t', SESSION, 'remain-on-exit', 'on');
    const readState = async (): Promise<LabState> =>
      JSON.parse(await readFile(stateFile, 'utf8')) as LabState;

    const screens: string[] = [];
    const capture = async (): Promise<string> => {
      const screen = await tmux('capture-pane', '-p', '-t', SESSION);
      screens.push(screen);
      return screen;
    };
    const waitForScreen = (what: string, test: (screen: string) => boolean, timeoutMs: number) =>
      waitFor(
        what,
        async () => {
          const screen = await capture();
          return test(screen) ? screen : null;
        },
        timeoutMs,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\nlast screen:\n${screens.at(-1) ?? '(none)'}`);
      });

    const first = await waitForScreen('one forging pod', (s) => forgingRows(s).length === 1, 300_000);
    labPid = (await waitFor('the lab state file', () => readState().catch(() => null), 10_000)).labPid;
    expect(labPid).toBeGreaterThan(0);
    const firstForger = forgingRows(first)[0];
    expect(first).toContain(`forger: ${firstForger} since `);
    expect(first).toMatch(/^cluster lab-cluster: priority \S+ base → \S+ effective, health /m);
    expect(first).toMatch(/^lease: {2}held by /m);

    await tmux('send-keys', '-t', SESSION, 'h');
    const after = await waitForScreen(
      'another pod forging and the handoff done',
      (s) => forgingRows(s).length === 1 && forgingRows(s)[0] !== firstForger && s.includes('handoff done:'),
      240_000,
    );
    const newForger = forgingRows(after)[0];
    expect(after).toContain(`handoff done: ${firstForger} → ${newForger}`);

    // The view redraws in place: one view per screen, never two forging pods on any screen.
    for (const screen of screens) {
      expect(forgingRows(screen).length, screen).toBeLessThanOrEqual(1);
      expect(screen.split('cardano-forge lab —').length - 1, screen).toBeLessThanOrEqual(1);
    }
    // The nodes' own event logs agree: both forged, one after the other, never together.
    const state = await readState();
    const events = await readEvents([state.eventLog]);
    expect(computeOverlap(events).totalOverlapMs).toBe(0);
    const forgedBy = new Set(forgingIntervals(events).map((i) => i.identity));
    expect([...forgedBy]).toEqual(expect.arrayContaining([firstForger, newForger]));
    expect(state.maxForgersSeen).toBe(1);

    await tmux('send-keys', '-t', SESSION, 'q');
    const exited = await waitForScreen(
      'the lab to exit after q',
      (s) => s.includes('[lab exited with status'),
      120_000,
    );
    expect(exited).toContain('[lab exited with status 0]');
    const final = await readState();
    expect(final.stopped).toBe(true);
    expect(final.overlapMs).toBe(0);
    // Every sidecar (the restarted one too), node, etcd and kube-apiserver the lab started is gone.
    expect(final.pids.length).toBeGreaterThanOrEqual(9);
    const started = [labPid, ...final.pids];
    await waitFor(
      'exited processes to be reaped',
      async () => started.every((pid) => !alive(pid)),
      15_000,
    ).catch(() => undefined);
    const left = started.filter(alive);
    expect(left, `processes left behind: ${left.join(', ')}`).toEqual([]);
    labPid = null;
  });

  it('npm start -- --script handoff hands off without keys and exits 0 once another pod forges', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-lab-script-'));
    const stateFile = join(dir, 'state.json');
    try {
      // Not a terminal: the view is printed (no clear) each time it changes, then the lab exits.
      const { stdout } = await run(
        NODE,
        ['test/lab/start.ts', '--script', 'handoff', '--state-file', stateFile],
        {
          cwd: REPO,
          timeout: 600_000,
          killSignal: 'SIGTERM',
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      const done = /handoff done: (\S+) → (\S+)/.exec(stdout);
      expect(done, stdout.slice(-3000)).not.toBeNull();
      expect(done?.[1]).not.toBe(done?.[2]);
      // The last view drawn shows the new forger.
      const lastView = stdout.slice(stdout.lastIndexOf('cardano-forge lab —'));
      expect(forgingRows(lastView)).toEqual([done?.[2]]);
      expect(stdout).toContain('total time with two forgers at once: 0 ms');
      const state = JSON.parse(await readFile(stateFile, 'utf8')) as LabState;
      expect(state.maxForgersSeen).toBe(1);
      expect(state.overlapMs).toBe(0);
      const started = [state.labPid, ...state.pids];
      await waitFor(
        'exited processes to be reaped',
        async () => started.every((pid) => !alive(pid)),
        15_000,
      ).catch(() => undefined);
      expect(started.filter(alive)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
