// Process plumbing for the control plane: spawn with output to a log file, wait for health,
// stop by PID (SIGTERM, then SIGKILL after a bound), and a detached watchdog that cleans up
// when the owning test runner dies without running its teardown. Nothing here kills by name.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientTls } from './pki.ts';

export const STOP_GRACE_MS = 10_000;

export interface RunningProcess {
  readonly pid: number;
  readonly binary: string;
  hasExited(): boolean;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<void>;
}

export interface SpawnOptions {
  readonly binary: string;
  readonly args: readonly string[];
  readonly logFile: string;
  /** Detached processes get their own session and do not keep this Node process alive. */
  readonly detached: boolean;
}

export function spawnLogged(options: SpawnOptions): RunningProcess {
  const fd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(options.binary, [...options.args], {
      stdio: ['ignore', fd, fd],
      detached: options.detached,
    });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`could not spawn ${options.binary}`);
  const pid = child.pid;
  let exitedFlag = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exitedFlag = true;
      resolve();
    });
    child.once('error', () => {
      exitedFlag = true;
      resolve();
    });
  });
  if (options.detached) child.unref();
  return { pid, binary: options.binary, hasExited: () => exitedFlag, exited };
}

/** Stops a process this Node process spawned: we hold its handle, so the PID cannot be stale. */
export async function stopProcess(proc: RunningProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  if (proc.hasExited()) return;
  signal(proc.pid, 'SIGTERM');
  const graceful = await Promise.race([proc.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (graceful) return;
  signal(proc.pid, 'SIGKILL');
  await proc.exited;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** True when `pid` is alive and runs exactly `binary` (argv[0]): guards against PID reuse. */
export function isProcessOf(pid: number, binary: string): boolean {
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
    return argv0 === binary;
  } catch {
    return false;
  }
}

/** Stops a process recorded in a pid file by an earlier run (the CLI, or a crashed test runner). */
export async function stopRecordedProcess(
  pid: number,
  binary: string,
  graceMs = STOP_GRACE_MS,
): Promise<boolean> {
  if (!isProcessOf(pid, binary)) return false;
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isProcessOf(pid, binary)) return true;
    await sleep(100);
  }
  if (isProcessOf(pid, binary)) signal(pid, 'SIGKILL');
  while (isProcessOf(pid, binary)) await sleep(50);
  return true;
}

/** Process start time in clock ticks since boot (field 22 of /proc/<pid>/stat); detects PID reuse. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const afterComm = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // afterComm[0] is field 3 (state); field 22 is at index 19.
    if (afterComm[0] === 'Z') return undefined;
    return afterComm[19];
  } catch {
    return undefined;
  }
}

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** Status code of a GET, or undefined when the server cannot be reached. */
export function httpGetStatus(
  url: string,
  tls: ClientTls | undefined,
  timeoutMs = 2_000,
): Promise<number | undefined> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const options = { method: 'GET', timeout: timeoutMs, agent: false as const };
    const req =
      target.protocol === 'https:'
        ? httpsRequest(target, { ...options, ca: tls?.ca, cert: tls?.cert, key: tls?.key })
        : httpRequest(target, options);
    req.once('response', (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => resolve(undefined));
    req.end();
  });
}

export interface WaitForHealthOptions {
  readonly what: string;
  readonly url: string;
  readonly tls: ClientTls | undefined;
  readonly process: RunningProcess;
  readonly logFile: string;
  readonly timeoutMs: number;
}

export async function waitForHealthy(options: WaitForHealthOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  let lastStatus: number | undefined;
  for (;;) {
    lastStatus = await httpGetStatus(options.url, options.tls);
    if (lastStatus === 200) return;
    if (options.process.hasExited()) {
      throw new Error(`${options.what} exited before it was ready.\n${await logTail(options.logFile)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${options.what} not ready after ${options.timeoutMs} ms (${options.url} -> ${lastStatus ?? 'unreachable'}).\n` +
          (await logTail(options.logFile)),
      );
    }
    await sleep(200);
  }
}

export async function logTail(logFile: string, lines = 30): Promise<string> {
  try {
    const text = await readFile(logFile, 'utf8');
    return `--- last lines of ${logFile} ---\n${text.trimEnd().split('\n').slice(-lines).join('\n')}`;
  } catch {
    return `(no log at ${logFile})`;
  }
}

// Runs detached in its own session so it outlives a SIGKILLed test runner. Once the owner PID is
// gone it stops the PIDs recorded in the run dir, but only if /proc/<pid>/cmdline is still one of
// our binaries (PID reuse), then removes the etcd data dir and the run dir.
const WATCHDOG_SCRIPT = `
owner="$1"; run_dir="$2"; bin_dir="$3"; data_dir="$4"
alive() { [ -d "/proc/$1" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]; }
ours() { argv0=$(tr '\\0' '\\n' < "/proc/$1/cmdline" 2>/dev/null | head -n 1); case "$argv0" in "$bin_dir"/*) return 0;; esac; return 1; }
while alive "$owner"; do sleep 1; done
# The apiserver first: its graceful shutdown stalls while etcd is already gone.
stop_recorded() {
  [ -f "$1" ] || return 0
  p=$(cat "$1"); case "$p" in ''|*[!0-9]*) return 0;; esac
  ours "$p" || return 0
  kill -TERM "$p" 2>/dev/null
  i=0; while [ $i -lt 50 ] && ours "$p"; do sleep 0.2; i=$((i + 1)); done
  ours "$p" && kill -KILL "$p" 2>/dev/null
  return 0
}
stop_recorded "$run_dir/kube-apiserver.pid"
stop_recorded "$run_dir/etcd.pid"
[ -n "$data_dir" ] && rm -rf "$data_dir"
rm -rf "$run_dir"
`;

export interface WatchdogOptions {
  readonly ownerPid: number;
  readonly runDir: string;
  readonly binDir: string;
  readonly dataDir: string;
}

export function spawnWatchdog(options: WatchdogOptions): number {
  const child = spawn(
    '/bin/sh',
    [
      '-c',
      WATCHDOG_SCRIPT,
      'forge-controlplane-watchdog',
      String(options.ownerPid),
      options.runDir,
      options.binDir,
      options.dataDir,
    ],
    { stdio: 'ignore', detached: true },
  );
  if (child.pid === undefined) throw new Error('could not spawn the control-plane watchdog');
  child.unref();
  return child.pid;
}

/** The watchdog leads its own process group (detached), so its pending `sleep` goes with it. */
export function stopWatchdog(pid: number): void {
  if (!isWatchdog(pid)) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function isWatchdog(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv[0] === '/bin/sh' && argv.includes('forge-controlplane-watchdog');
  } catch {
    return false;
  }
}
