// Everything a chaos run touches: its own real kube-apiserver + etcd, three pods (forge-manager sidecar +
// simulated cardano-node each, test/support/forge-pod.ts), a Kubernetes-Secret-style credential source,
// a kubelet-like supervisor that restarts exited containers under the same pod name, per-target locks
// so two faults never fight over one process, and a cleanup that undoes every fault (mounts, frozen
// processes) and stops every process by its own PID. Erasable TypeScript only.
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { V1Lease } from '@kubernetes/client-node';
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { VRF_KEY_TYPE, fakeEnvelope, freshKesAndOpCert } from '../cardano-node-sim/credentials.ts';
import { hostClockMs } from '../cardano-node-sim/events.ts';
import { startControlPlane } from '../controlplane/index.ts';
import type { ControlPlane } from '../controlplane/index.ts';
import { ForgePod } from '../support/forge-pod.ts';

const run = promisify(execFile);
const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
export const NODE_BINARY = join(REPO, 'node_modules/.bin/node');
export const SIDECAR_CLI = join(REPO, 'packages/framework/dist/cli/main.js');

export interface Timings {
  leaseDuration: number;
  renewDeadline: number;
  retryPeriod: number;
}

export interface TimelineEntry {
  atMs: number;
  kind: string;
  target: string;
  what: string;
}

/** How a target directory is made read-only for root: a read-only bind mount, else the immutable flag. */
export type ReadOnlyMethod = 'bind-mount-ro' | 'chattr+i' | 'none';

export const LEASE_NAME = 'cardano-node-leader';
const POOL_ID = 'pool1chaos';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Sleeps in steps of at most 100 ms until ms have passed on `now`, or `stopping()` turns true.
 * One clock reading per step: reading it again for the step's length could land past the end
 * and ask for a negative timeout (Node warns and clamps it).
 */
export async function holdFor(
  ms: number,
  io: { now: () => number; sleep: (ms: number) => Promise<void>; stopping: () => boolean },
): Promise<void> {
  const until = io.now() + ms;
  for (let left = ms; !io.stopping() && left > 0; left = until - io.now()) {
    await io.sleep(Math.min(100, left));
  }
}

function signalPid(pid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

export class ChaosWorld {
  readonly timings: Timings;
  readonly dir: string;
  readonly sourceDir: string;
  readonly eventLog: string;
  readonly startMs: number;
  readonly controlPlane: ControlPlane;
  readonly namespace: string;
  readonly pods: ForgePod[];
  readonly coordination: CoordinationV1Api;
  readonly timeline: TimelineEntry[] = [];
  readonly readOnlyMethod: ReadOnlyMethod;
  /** Lease holders ever seen, so a hand edit can name a real (other) incarnation. */
  readonly seenHolders = new Set<string>();
  private readonly locks = new Set<string>();
  private readonly frozenPids = new Set<number>();
  private readonly readOnlyDirs = new Map<string, ReadOnlyMethod>();
  private readonly extraChildren = new Set<ChildProcess>();
  private restarting = new Set<string>();
  private sourceGeneration = 0;
  stopping = false;
  /**
   * When a fault last ended or kubelet last restarted something: a fault that takes and releases
   * its locks between two monitor ticks (a Lease edit) must still restart the liveness clock.
   */
  lastDisturbanceMs = 0;
  /** When the apiserver was last stopped or frozen (relative ms; far in the past at the start). */
  lastOutageEndRel = -Infinity;
  log: (line: string) => void;

  private constructor(init: {
    timings: Timings;
    dir: string;
    controlPlane: ControlPlane;
    namespace: string;
    pods: ForgePod[];
    readOnlyMethod: ReadOnlyMethod;
    log: (line: string) => void;
  }) {
    this.timings = init.timings;
    this.dir = init.dir;
    this.sourceDir = join(init.dir, 'secrets');
    this.eventLog = join(init.dir, 'events.jsonl');
    this.controlPlane = init.controlPlane;
    this.namespace = init.namespace;
    this.pods = init.pods;
    this.coordination = init.controlPlane.kubeConfig().makeApiClient(CoordinationV1Api);
    this.readOnlyMethod = init.readOnlyMethod;
    this.log = init.log;
    this.startMs = hostClockMs();
  }

  /** Starts the control plane and three pods; resolves once they run (forging is the monitor's job). */
  static async create(options: {
    timings: Timings;
    size: number;
    log: (line: string) => void;
  }): Promise<ChaosWorld> {
    const dir = await mkdtemp(join(tmpdir(), 'forge-chaos-'));
    const controlPlane = await startControlPlane({ name: `chaos-${process.pid}` });
    try {
      const kc = controlPlane.kubeConfig();
      const namespace = `chaos-${process.pid}`;
      await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
      const pods: ForgePod[] = [];
      for (let i = 0; i < options.size; i++) {
        pods.push(
          new ForgePod({
            name: `bp-${i}`,
            namespace,
            kubeconfigPath: controlPlane.kubeconfigPath,
            pool: POOL_ID,
            sourceDir: join(dir, 'secrets'),
            eventLog: join(dir, 'events.jsonl'),
            workDir: join(dir, `bp-${i}`),
            leaseName: LEASE_NAME,
            timings: options.timings,
          }),
        );
      }
      const world = new ChaosWorld({
        timings: options.timings,
        dir,
        controlPlane,
        namespace,
        pods,
        readOnlyMethod: await probeReadOnlyMethod(dir),
        log: options.log,
      });
      try {
        await world.rotateSource('initial');
        await Promise.all(pods.map((p) => p.start()));
      } catch (error) {
        await world.cleanup(true);
        throw error;
      }
      return world;
    } catch (error) {
      await controlPlane.stop().catch(() => undefined);
      throw error;
    }
  }

  nowRel(): number {
    return hostClockMs() - this.startMs;
  }

  record(kind: string, target: string, what: string): void {
    const entry = { atMs: this.nowRel(), kind, target, what };
    this.timeline.push(entry);
    this.log(`${formatRel(entry.atMs)}  ${kind.padEnd(25)} ${target.padEnd(10)} ${what}`);
  }

  /** Takes every key or none. */
  tryLock(keys: readonly string[]): boolean {
    if (keys.some((k) => this.locks.has(k))) return false;
    for (const k of keys) this.locks.add(k);
    return true;
  }

  unlock(keys: readonly string[]): void {
    for (const k of keys) this.locks.delete(k);
    this.lastDisturbanceMs = hostClockMs();
    if (keys.includes('apiserver-outage')) this.lastOutageEndRel = this.nowRel();
  }

  isLocked(key: string): boolean {
    return this.locks.has(key);
  }

  activeLocks(): number {
    return this.locks.size;
  }

  /** Sleeps up to ms, returning early once the run is stopping. */
  async hold(ms: number): Promise<void> {
    await holdFor(ms, { now: hostClockMs, sleep, stopping: () => this.stopping });
  }

  // ---- processes ----

  /**
   * Since when each pod has had no working sidecar because of a SIGKILL or SIGSTOP: its node keeps
   * whatever keys it has loaded and nothing can revoke them (docs/safety.md §8 residual risk).
   */
  readonly sidecarGoneSince = new Map<string, number>();

  sidecarGone(pod: string): void {
    if (!this.sidecarGoneSince.has(pod)) this.sidecarGoneSince.set(pod, hostClockMs());
  }

  sidecarBack(pod: string): void {
    this.sidecarGoneSince.delete(pod);
  }

  freeze(pid: number | undefined): boolean {
    if (pid === undefined || !signalPid(pid, 'SIGSTOP')) return false;
    this.frozenPids.add(pid);
    return true;
  }

  thaw(pid: number | undefined): void {
    if (pid === undefined) return;
    this.frozenPids.delete(pid);
    signalPid(pid, 'SIGCONT');
  }

  sidecarRunning(pod: ForgePod): boolean {
    return pod.sidecar !== null && pod.sidecar.exitCode === null && pod.sidecar.signalCode === null;
  }

  /**
   * Running, and not in the middle of a kubelet restart or back from an ungraceful fault that has
   * not been replaced yet: a second sidecar fault on a pod whose sidecar has not come back only
   * stretches the dead-sidecar window of docs/safety.md §11 (a SIGTERM to a process still starting
   * kills it before its handlers exist), which no sidecar code can close.
   */
  sidecarSettled(pod: ForgePod): boolean {
    const name = pod.options.name;
    return (
      this.sidecarRunning(pod) && !this.restarting.has(`sidecar:${name}`) && !this.sidecarGoneSince.has(name)
    );
  }

  nodeRunning(pod: ForgePod): boolean {
    return pod.node?.isRunning() === true;
  }

  /** Every container runs, the apiserver answers, and no fault holds a lock. */
  whole(): boolean {
    return (
      this.locks.size === 0 &&
      this.restarting.size === 0 &&
      this.controlPlane.processIds().kubeApiserver !== undefined &&
      this.pods.every((p) => this.sidecarRunning(p) && this.nodeRunning(p))
    );
  }

  /** What keeps the system from being whole (for a report). */
  notWhole(): string[] {
    const reasons: string[] = [];
    if (this.locks.size > 0) reasons.push(`faults still active: ${[...this.locks].join(', ')}`);
    if (this.controlPlane.processIds().kubeApiserver === undefined) reasons.push('kube-apiserver down');
    for (const pod of this.pods) {
      if (!this.sidecarRunning(pod)) reasons.push(`${pod.options.name}: sidecar not running`);
      if (!this.nodeRunning(pod)) reasons.push(`${pod.options.name}: node not running`);
    }
    if (this.restarting.size > 0) reasons.push(`restarting: ${[...this.restarting].join(', ')}`);
    return reasons;
  }

  /** One kubelet pass: restart every exited container that no fault is holding down. */
  async superviseOnce(): Promise<void> {
    await Promise.all(
      this.pods.flatMap((pod) => [
        this.restartIfExited(pod, 'sidecar', async () => {
          if (this.sidecarRunning(pod)) return null;
          const code = pod.sidecar?.exitCode ?? pod.sidecar?.signalCode ?? null;
          await pod.startSidecar();
          this.sidecarBack(pod.options.name);
          return `restarted sidecar (previous exit ${String(code)}), pid ${pod.sidecar?.pid}`;
        }),
        this.restartIfExited(pod, 'node', async () => {
          if (this.nodeRunning(pod)) return null;
          // The helper records the old process's exit in the event log before this resolves.
          if (pod.node) await pod.node.exited;
          const node = await pod.startNode();
          return `restarted node, pid ${node.pid}`;
        }),
      ]),
    );
  }

  private async restartIfExited(
    pod: ForgePod,
    container: 'sidecar' | 'node',
    restart: () => Promise<string | null>,
  ): Promise<void> {
    const key = `${container}:${pod.options.name}`;
    if (this.stopping || this.locks.has(key) || this.restarting.has(key)) return;
    const running = container === 'sidecar' ? this.sidecarRunning(pod) : this.nodeRunning(pod);
    if (running) return;
    this.restarting.add(key);
    try {
      const what = await restart();
      if (what !== null) this.record('kubelet', pod.options.name, what);
    } catch (error) {
      this.record('kubelet', pod.options.name, `${container} restart failed: ${firstLine(error)}`);
      await sleep(500); // kubelet back-off
    } finally {
      this.restarting.delete(key);
      this.lastDisturbanceMs = hostClockMs();
    }
  }

  /** Runs a sidecar with a broken configuration until it exits (or timeoutMs), tracked for cleanup. */
  async runBrokenSidecar(
    pod: ForgePod,
    overrides: Record<string, string>,
    timeoutMs: number,
  ): Promise<{ code: number | null; signal: string | null; firstError: string }> {
    const child = spawn(NODE_BINARY, [SIDECAR_CLI, 'run'], {
      env: { ...pod.env(), ...overrides },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.extraChildren.add(child);
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((res) =>
      child.once('exit', (code, signal) => res({ code, signal })),
    );
    const timer = setTimeout(() => signalPid(child.pid, 'SIGKILL'), timeoutMs);
    const result = await exited;
    clearTimeout(timer);
    this.extraChildren.delete(child);
    await writeFile(join(pod.options.workDir, `broken-sidecar-${Date.now()}.log`), output).catch(
      () => undefined,
    );
    // The first config issue ("  - field: what is wrong") says more than the "errors (n):" header.
    const lines = output.split('\n');
    const errorLine =
      lines.find((l) => /^\s+- /.test(l)) ??
      lines.find((l) => /error|invalid|expected|fail-safe/i.test(l)) ??
      lines[0];
    const failSafe = lines.filter((l) => l.includes('fail-safe')).map(logMessage);
    const summary = [errorLine, ...failSafe].filter((l) => l !== undefined).map((l) => l.trim());
    return { ...result, firstError: summary.join(' | ').slice(0, 300) };
  }

  // ---- credential source (Kubernetes Secret volume layout) ----

  async rotateSource(why: string): Promise<void> {
    this.sourceGeneration += 1;
    await writeSecretGeneration(this.sourceDir, this.sourceGeneration, why);
  }

  // ---- read-only credential target ----

  async makeReadOnly(dir: string): Promise<boolean> {
    if (this.readOnlyDirs.has(dir) || this.readOnlyMethod === 'none') return false;
    if (this.readOnlyMethod === 'bind-mount-ro') {
      await run('mount', ['--bind', dir, dir]);
      this.readOnlyDirs.set(dir, 'bind-mount-ro');
      await run('mount', ['-o', 'remount,bind,ro', dir]);
    } else {
      this.readOnlyDirs.set(dir, 'chattr+i');
      await run('chattr', ['+i', dir]);
    }
    return true;
  }

  async makeWritable(dir: string): Promise<void> {
    const method = this.readOnlyDirs.get(dir);
    if (method === undefined) return;
    if (method === 'bind-mount-ro') await run('umount', [dir]);
    else await run('chattr', ['-i', dir]);
    this.readOnlyDirs.delete(dir);
  }

  // ---- Lease ----

  async readLease(): Promise<V1Lease | null> {
    try {
      return await this.coordination.readNamespacedLease({ name: LEASE_NAME, namespace: this.namespace });
    } catch {
      return null;
    }
  }

  /** Read-modify-write with the resourceVersion (a hand edit with `kubectl edit`). */
  async editLease(edit: (lease: V1Lease) => void): Promise<V1Lease> {
    for (let attempt = 1; ; attempt++) {
      const lease = await this.coordination.readNamespacedLease({
        name: LEASE_NAME,
        namespace: this.namespace,
      });
      edit(lease);
      try {
        return await this.coordination.replaceNamespacedLease({
          name: LEASE_NAME,
          namespace: this.namespace,
          body: lease,
        });
      } catch (error) {
        // The holder renewed in between (409 Conflict): read again, like `kubectl edit` would.
        const code = (error as { code?: unknown }).code;
        if (code !== 409 || attempt >= 5) throw error;
      }
    }
  }

  async deleteLease(): Promise<void> {
    await this.coordination.deleteNamespacedLease({ name: LEASE_NAME, namespace: this.namespace });
  }

  // ---- cleanup ----

  /** Undoes every fault and stops every process by PID. Safe to call twice. */
  async cleanup(keepDir: boolean): Promise<void> {
    this.stopping = true;
    for (const pid of [...this.frozenPids]) this.thaw(pid);
    for (const dir of [...this.readOnlyDirs.keys()])
      await this.makeWritable(dir).catch((e: unknown) => this.log(`cleanup: ${dir}: ${firstLine(e)}`));
    for (const child of this.extraChildren) signalPid(child.pid, 'SIGKILL');
    await Promise.all(this.pods.map((p) => p.dispose().catch(() => undefined)));
    await this.controlPlane.stop().catch((e: unknown) => this.log(`cleanup: control plane: ${firstLine(e)}`));
    if (!keepDir) await rm(this.dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

/**
 * Writes a new credential generation the way kubelet's atomic writer updates a Secret volume: a fresh
 * `..<timestamp>` directory (new KES key and opcert, the VRF key kept), a `..data_tmp` symlink renamed
 * over `..data`, the old directory removed. The visible files are symlinks through `..data`, so a
 * reader sees the old set or the new one, never a mix.
 */
export async function writeSecretGeneration(
  sourceDir: string,
  sequence: number,
  why: string,
): Promise<string> {
  const generation = `..${new Date().toISOString().replace(/[:.]/g, '_')}.${sequence}`;
  const genDir = join(sourceDir, generation);
  await mkdir(genDir, { recursive: true });
  const previousVrf = await readFile(join(sourceDir, 'vrf.skey'), 'utf8').catch(() => null);
  // A new KES key with an opcert issued for it: the sidecar refuses a pair that does not match.
  const pair = freshKesAndOpCert({ description: `KES ${why}` });
  await writeFile(join(genDir, 'kes.skey'), pair.kesKey);
  await writeFile(
    join(genDir, 'vrf.skey'),
    previousVrf ?? JSON.stringify(fakeEnvelope(VRF_KEY_TYPE, 'VRF Signing Key')),
  );
  await writeFile(join(genDir, 'node.cert'), pair.opCert);
  const previous = await readLinkOrNull(join(sourceDir, '..data'));
  await rm(join(sourceDir, '..data_tmp'), { force: true });
  await symlink(generation, join(sourceDir, '..data_tmp'));
  await rename(join(sourceDir, '..data_tmp'), join(sourceDir, '..data'));
  for (const file of ['kes.skey', 'vrf.skey', 'node.cert']) {
    const link = join(sourceDir, file);
    if ((await readLinkOrNull(link)) === null) await symlink(join('..data', file), link);
  }
  if (previous !== null) await rm(join(sourceDir, previous), { recursive: true, force: true });
  return generation;
}

async function readLinkOrNull(path: string): Promise<string | null> {
  try {
    return await readlink(path);
  } catch {
    return null;
  }
}

/** Root ignores permission bits, so a read-only target needs a read-only mount or the immutable flag. */
async function probeReadOnlyMethod(base: string): Promise<ReadOnlyMethod> {
  const probe = join(base, 'ro-probe');
  await mkdir(probe, { recursive: true });
  try {
    await run('mount', ['--bind', probe, probe]);
    try {
      await run('mount', ['-o', 'remount,bind,ro', probe]);
      const blocked = await writeFile(join(probe, 'x'), 'x').then(
        () => false,
        () => true,
      );
      if (blocked) return 'bind-mount-ro';
    } finally {
      await run('umount', [probe]).catch(() => undefined);
    }
  } catch {
    // no mount privilege here; try the immutable flag
  }
  try {
    await run('chattr', ['+i', probe]);
    const blocked = await writeFile(join(probe, 'x'), 'x').then(
      () => false,
      () => true,
    );
    await run('chattr', ['-i', probe]);
    if (blocked) return 'chattr+i';
  } catch {
    // neither works
  }
  return 'none';
}

/** The `msg` of a JSON log line, else the line. */
function logMessage(line: string): string {
  try {
    const parsed = JSON.parse(line) as { msg?: unknown };
    return typeof parsed.msg === 'string' ? `fail-safe: ${parsed.msg}` : line;
  } catch {
    return line;
  }
}

export function formatRel(ms: number): string {
  return `t+${(ms / 1000).toFixed(3).padStart(8)}s`;
}

export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]?.slice(0, 200) ?? '';
}
