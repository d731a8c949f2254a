// Crash cleanup for the Node processes of a regions run (forge-manager sidecars, simulated nodes),
// the way test/controlplane and test/etcd/cluster.ts clean up etcd and kube-apiserver: a run dir
// with the owner's identity and one line per started process (pid + start time), a detached
// watchdog that stops exactly those PIDs once the owner is gone, and a reap of abandoned run dirs
// at the next start. A PID is only signalled while /proc/<pid>/stat still shows the recorded start
// time (PID reuse). Erasable-only TypeScript with `.ts` specifiers (runs under Node 24 directly).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../controlplane/index.ts';
import { processStartTime } from '../controlplane/process.ts';
import { currentOwner, ownerAlive, type OwnerRecord } from '../controlplane/state.ts';

export const DEFAULT_REGIONS_RUN_ROOT = join(REPO_ROOT, '.forge-run', 'regions');
const OWNER_FILE = 'owner.json';
const PIDS_FILE = 'pids';

interface OwnerFile {
  readonly owner: OwnerRecord;
  /** Removed with the run dir when the owner died without cleaning up. */
  readonly workDir: string;
}

export interface ProcessReaper {
  readonly runDir: string;
  /** Records a started process (call right after spawning it). */
  track(pid: number): Promise<void>;
  /** Normal end: the watchdog is stopped and the run dir removed (the caller stopped its processes). */
  close(): Promise<void>;
}

// Detached, in its own session: outlives a SIGKILLed runner. Once the owner is gone it stops each
// recorded PID whose start time still matches (SIGTERM, then SIGKILL after 5 s), removes the work dir
// and the run dir.
const WATCHDOG_SCRIPT = `
owner="$1"; run_dir="$2"; work_dir="$3"
start_of() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }
state_of() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1; }
alive() { [ -d "/proc/$1" ] && [ "$(state_of "$1")" != Z ]; }
owner_start="$4"
while alive "$owner" && [ "$(start_of "$owner")" = "$owner_start" ]; do sleep 1; done
[ -f "$run_dir/pids" ] && while read -r p s; do
  case "$p" in ''|*[!0-9]*) continue;; esac
  [ "$(start_of "$p")" = "$s" ] || continue
  kill -CONT "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null
  i=0; while [ $i -lt 25 ] && [ "$(start_of "$p")" = "$s" ] && [ "$(state_of "$p")" != Z ]; do sleep 0.2; i=$((i + 1)); done
  [ "$(start_of "$p")" = "$s" ] && kill -KILL "$p" 2>/dev/null
done < "$run_dir/pids"
[ -n "$work_dir" ] && rm -rf "$work_dir"
rm -rf "$run_dir"
`;

const WATCHDOG_MARK = 'forge-regions-watchdog';

function spawnWatchdog(owner: OwnerRecord, runDir: string, workDir: string): number {
  const child = spawn(
    '/bin/sh',
    ['-c', WATCHDOG_SCRIPT, WATCHDOG_MARK, String(owner.pid), runDir, workDir, owner.startTime],
    { stdio: 'ignore', detached: true },
  );
  if (child.pid === undefined) throw new Error('could not spawn the regions watchdog');
  child.unref();
  return child.pid;
}

function isOurWatchdog(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv[0] === '/bin/sh' && argv.includes(WATCHDOG_MARK);
  } catch {
    return false;
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Stops the recorded processes of run dirs whose owner is gone, and removes them. */
export async function reapAbandonedRegionRuns(runRoot = DEFAULT_REGIONS_RUN_ROOT): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(runRoot);
  } catch {
    return [];
  }
  const reaped: string[] = [];
  for (const entry of entries) {
    const runDir = join(runRoot, entry);
    let owner: OwnerFile;
    try {
      owner = JSON.parse(await readFile(join(runDir, OWNER_FILE), 'utf8')) as OwnerFile;
    } catch {
      continue;
    }
    if (ownerAlive(owner.owner)) continue;
    const lines = await readFile(join(runDir, PIDS_FILE), 'utf8').catch(() => '');
    for (const line of lines.split('\n')) {
      const [pidText, start] = line.trim().split(' ');
      const pid = Number(pidText);
      if (!Number.isInteger(pid) || pid <= 0 || processStartTime(pid) !== start) continue;
      signalPid(pid, 'SIGCONT');
      signalPid(pid, 'SIGTERM');
      for (let i = 0; i < 25 && processStartTime(pid) === start; i++) await sleep(200);
      if (processStartTime(pid) === start) signalPid(pid, 'SIGKILL');
    }
    await rm(owner.workDir, { recursive: true, force: true });
    await rm(runDir, { recursive: true, force: true });
    reaped.push(entry);
  }
  return reaped;
}

export async function startReaper(
  name: string,
  workDir: string,
  runRoot = DEFAULT_REGIONS_RUN_ROOT,
): Promise<ProcessReaper> {
  await mkdir(runRoot, { recursive: true });
  await reapAbandonedRegionRuns(runRoot);
  const runDir = join(runRoot, name);
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  const owner = currentOwner();
  const ownerFile: OwnerFile = { owner, workDir };
  await writeFile(join(runDir, OWNER_FILE), `${JSON.stringify(ownerFile)}\n`);
  await writeFile(join(runDir, PIDS_FILE), '');
  const watchdogPid = spawnWatchdog(owner, runDir, workDir);
  return {
    runDir,
    async track(pid) {
      const start = processStartTime(pid);
      if (start === undefined) return; // already gone: nothing to clean up
      await appendFile(join(runDir, PIDS_FILE), `${pid} ${start}\n`);
    },
    async close() {
      // The watchdog leads its own process group, so its pending `sleep` goes with it.
      if (isOurWatchdog(watchdogPid)) signalPid(-watchdogPid, 'SIGTERM');
      await rm(runDir, { recursive: true, force: true });
    },
  };
}
