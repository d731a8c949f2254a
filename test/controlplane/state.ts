// On-disk record of a control plane (run dir: state.json + one pid file per process), so that
// another process (the CLI's `stop`, or the next test run after a crash) can find and stop it.
import { readdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessOf, processStartTime, stopRecordedProcess } from './process.ts';

export const APISERVER_BINARY = 'kube-apiserver';
export const ETCD_BINARY = 'etcd';
export type ComponentName = typeof APISERVER_BINARY | typeof ETCD_BINARY;

export interface OwnerRecord {
  readonly pid: number;
  /** Guards against PID reuse: the owner is alive only if the same PID has the same start time. */
  readonly startTime: string;
}

export interface ControlPlaneState {
  readonly name: string;
  readonly runDir: string;
  readonly binDir: string;
  readonly dataDir: string;
  /** null for a persistent control plane (started by the CLI): nobody reaps it but `stop`. */
  readonly owner: OwnerRecord | null;
  readonly watchdogPid?: number;
  readonly apiUrl?: string;
  readonly etcdUrl?: string;
  readonly kubeconfigPath?: string;
  readonly versions?: { readonly kubeApiserver: string; readonly etcd: string };
}

const STATE_FILE = 'state.json';

export async function writeState(state: ControlPlaneState): Promise<void> {
  const tmp = join(state.runDir, `${STATE_FILE}.tmp`);
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, join(state.runDir, STATE_FILE));
}

export async function readState(runDir: string): Promise<ControlPlaneState | undefined> {
  try {
    return JSON.parse(await readFile(join(runDir, STATE_FILE), 'utf8')) as ControlPlaneState;
  } catch {
    return undefined;
  }
}

export function pidFile(runDir: string, component: ComponentName): string {
  return join(runDir, `${component}.pid`);
}

export async function writePid(runDir: string, component: ComponentName, pid: number): Promise<void> {
  await writeFile(pidFile(runDir, component), `${pid}\n`);
}

export async function removePid(runDir: string, component: ComponentName): Promise<void> {
  await rm(pidFile(runDir, component), { force: true });
}

export async function readPid(runDir: string, component: ComponentName): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(pidFile(runDir, component), 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function currentOwner(): OwnerRecord {
  const startTime = processStartTime(process.pid);
  if (startTime === undefined) throw new Error('cannot read /proc/self/stat (Linux /proc is required)');
  return { pid: process.pid, startTime };
}

export function ownerAlive(owner: OwnerRecord): boolean {
  return processStartTime(owner.pid) === owner.startTime;
}

export interface RecordedStatus {
  readonly state: ControlPlaneState;
  readonly apiserverPid: number | undefined;
  readonly etcdPid: number | undefined;
}

/** PIDs from the pid files, kept only if they still run our binaries. */
export async function recordedStatus(runDir: string): Promise<RecordedStatus | undefined> {
  const state = await readState(runDir);
  if (state === undefined) return undefined;
  const alive = async (component: ComponentName): Promise<number | undefined> => {
    const pid = await readPid(runDir, component);
    return pid !== undefined && isProcessOf(pid, join(state.binDir, component)) ? pid : undefined;
  };
  return { state, apiserverPid: await alive(APISERVER_BINARY), etcdPid: await alive(ETCD_BINARY) };
}

/** Stops the recorded processes (verified by cmdline) and deletes the data dir and the run dir. */
export async function destroyRecorded(runDir: string): Promise<void> {
  const state = await readState(runDir);
  if (state === undefined) return;
  for (const component of [APISERVER_BINARY, ETCD_BINARY] as const) {
    const pid = await readPid(runDir, component);
    if (pid !== undefined) await stopRecordedProcess(pid, join(state.binDir, component));
  }
  if (state.dataDir !== '') await rm(state.dataDir, { recursive: true, force: true });
  await rm(runDir, { recursive: true, force: true });
}

/** Cleans up after test runners that died without teardown (and whose watchdog did not finish). */
export async function reapAbandonedRuns(runRoot: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(runRoot);
  } catch {
    return [];
  }
  const reaped: string[] = [];
  for (const entry of entries) {
    const runDir = join(runRoot, entry);
    const state = await readState(runDir);
    if (state?.owner == null || ownerAlive(state.owner)) continue;
    await destroyRecorded(runDir);
    reaped.push(state.name);
  }
  return reaped;
}
