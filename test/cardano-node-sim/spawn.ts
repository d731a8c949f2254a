// Test helper: start simulated cardano-node processes and drive them (signals by PID, fault injection,
// metrics). Processes are always addressed by their own PID; a group stops everything it started.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { CredentialPaths } from './credentials.ts';
import { appendEvent, parseEvents, hostClockMs } from './events.ts';

const SIM_DIR = dirname(fileURLToPath(import.meta.url));
const MAIN_TS = join(SIM_DIR, 'main.ts');
const REPO_NODE = resolve(SIM_DIR, '../../node_modules/.bin/node');

export interface SpawnSimNodeOptions {
  identity: string;
  pool: string;
  /** JSON-lines event log; default <workDir>/events.jsonl. Several nodes may share one file. */
  eventLog?: string;
  /** Default: a fresh temp dir, removed by dispose() / group.stopAll(). */
  workDir?: string;
  /** Default <workDir>/node.socket. */
  socketPath?: string;
  /** Credential paths handed to the node (files need not exist); default <workDir>/credentials/*; 'none' = relay. */
  credentials?: CredentialPaths | 'none';
  startAsNonProducing?: boolean;
  startDelayMs?: number;
  slotLengthMs?: number;
  /** 0 (default) = ephemeral port. */
  metricsPort?: number;
  /** Resolve only once the node socket is listening (default true). */
  waitForSocket?: boolean;
  readyTimeoutMs?: number;
  extraArgs?: readonly string[];
  /** Stream the child's stderr to the test's stderr (debugging). */
  inheritStderr?: boolean;
  /** Added to the child's environment (e.g. libfaketime's, to start it under a stepped wall clock). */
  extraEnv?: Readonly<Record<string, string>>;
}

export interface SimExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** hostClockMs() when the exit was observed. */
  atMs: number;
}

export interface SimMetrics {
  forgingEnabled: boolean;
  slot: number;
  block: number;
  epoch: number;
  slotInEpoch: number;
  up: boolean;
  /** Every sample by series name (with labels, as written). */
  raw: Map<string, number>;
}

export interface SimNode {
  readonly pid: number;
  readonly identity: string;
  readonly pool: string;
  readonly eventLog: string;
  readonly socketPath: string;
  readonly workDir: string;
  readonly credentials: CredentialPaths | undefined;
  readonly metricsPort: number;
  /** http://127.0.0.1:<port>/metrics */
  readonly metricsUrl: string;
  /** http://127.0.0.1:<port>/control */
  readonly controlUrl: string;
  /** Settles when the process has exited and its exit is in the event log. Never rejects. */
  readonly exited: Promise<SimExit>;
  isRunning(): boolean;
  /** SIGHUP by PID: the node re-reads its credential files. */
  hup(): void;
  kill(signal?: NodeJS.Signals): void;
  /** Simulated OOM kill (SIGKILL of itself, stale socket file left behind). */
  crash(): Promise<SimExit>;
  /** Blocks the node's event loop for ms (default: forever; only SIGKILL ends it then). */
  hang(ms?: number): Promise<void>;
  /** The tip lags the wall-clock slot by `slots`. */
  behind(slots: number): Promise<void>;
  catchup(): Promise<void>;
  /** Every later SIGHUP takes effect `ms` after it arrives (0 restores prompt handling). */
  slowSighup(ms: number): Promise<void>;
  metrics(timeoutMs?: number): Promise<SimMetrics>;
  waitForForging(expected: boolean, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after graceMs (default 5000), both by PID. */
  stop(graceMs?: number): Promise<SimExit>;
  /** stop() and remove the work dir if this helper created it. */
  dispose(): Promise<SimExit>;
  /** Captured output so far (for failure messages). */
  output(): { stdout: string; stderr: string };
}

export function parsePrometheusText(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(\S+(?:\{[^}]*\})?)\s+(\S+)/.exec(line);
    if (match !== null) samples.set(match[1] as string, Number(match[2]));
  }
  return samples;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

async function recordObservedExit(
  node: Pick<SimNode, 'eventLog' | 'identity' | 'pool' | 'pid'>,
  exit: SimExit,
): Promise<void> {
  let text = '';
  try {
    text = await readFile(node.eventLog, 'utf8');
  } catch {
    // No log yet: the process died before writing anything; still record the exit.
  }
  const own = parseEvents(text).filter((event) => event.pid === node.pid && event.event !== 'sighup');
  if (own.at(-1)?.event === 'exit') return;
  // The process could not log its own end (SIGKILL): the observed time is when forging certainly stopped.
  appendEvent(node.eventLog, {
    ts: exit.atMs,
    identity: node.identity,
    pool: node.pool,
    pid: node.pid,
    event: 'exit',
    reason: `observed by test helper: code=${exit.code} signal=${exit.signal}`,
  });
}

export async function spawnSimNode(options: SpawnSimNodeOptions): Promise<SimNode> {
  const createdWorkDir = options.workDir === undefined;
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), `sim-${options.identity}-`)));
  const eventLog = options.eventLog ?? join(workDir, 'events.jsonl');
  const socketPath = options.socketPath ?? join(workDir, 'node.socket');
  const credentials =
    options.credentials === 'none'
      ? undefined
      : (options.credentials ?? {
          kesKey: join(workDir, 'credentials', 'kes.skey'),
          vrfKey: join(workDir, 'credentials', 'vrf.skey'),
          opCert: join(workDir, 'credentials', 'node.cert'),
        });
  const args = [
    MAIN_TS,
    'run',
    '--socket-path',
    socketPath,
    ...(credentials === undefined
      ? []
      : [
          '--shelley-kes-key',
          credentials.kesKey,
          '--shelley-vrf-key',
          credentials.vrfKey,
          '--shelley-operational-certificate',
          credentials.opCert,
        ]),
    ...(options.startAsNonProducing === true ? ['--start-as-non-producing-node'] : []),
    '--identity',
    options.identity,
    '--pool',
    options.pool,
    '--event-log',
    eventLog,
    '--metrics-port',
    String(options.metricsPort ?? 0),
    '--start-delay-ms',
    String(options.startDelayMs ?? 0),
    '--slot-length-ms',
    String(options.slotLengthMs ?? 1000),
    // Closing our end of stdin (e.g. the test runner dies) shuts the node down cleanly.
    '--shutdown-ipc',
    '0',
    ...(options.extraArgs ?? []),
  ];
  const nodeBinary = existsSync(REPO_NODE) ? REPO_NODE : process.execPath;
  const child = spawn(nodeBinary, args, {
    stdio: ['pipe', 'pipe', options.inheritStderr === true ? 'inherit' : 'pipe'],
    ...(options.extraEnv === undefined ? {} : { env: { ...process.env, ...options.extraEnv } }),
  });
  if (child.pid === undefined) {
    await new Promise((resolvePromise) => child.once('error', resolvePromise));
    throw new Error(`could not start the simulator with ${nodeBinary}`);
  }
  const pid = child.pid;
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let running = true;
  const identityInfo = { eventLog, identity: options.identity, pool: options.pool, pid };
  const exited = new Promise<SimExit>((resolvePromise) => {
    child.once('exit', (code, signal) => {
      running = false;
      // Our end of the shutdown pipe would otherwise keep the test process alive.
      child.stdin?.destroy();
      const exit: SimExit = { code, signal, atMs: hostClockMs() };
      recordObservedExit(identityInfo, exit)
        .catch((error: unknown) => {
          stderr += `\n[spawn.ts] could not record the exit: ${String(error)}`;
        })
        .finally(() => resolvePromise(exit));
    });
  });

  const waitForSocket = options.waitForSocket ?? true;
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  if (child.stdout === null) throw new Error('simulator stdout is not piped');
  const lines = createInterface({ input: child.stdout });
  const metricsPort = await new Promise<number>((resolvePromise, reject) => {
    let port: number | undefined;
    const timer = setTimeout(() => {
      signalPid(pid, 'SIGKILL');
      reject(
        new Error(
          `simulator ${options.identity} (pid ${pid}) not ready within ${readyTimeoutMs} ms\n${stderr}`,
        ),
      );
    }, readyTimeoutMs);
    lines.on('line', (line) => {
      stdout += `${line}\n`;
      let message: { event?: string; metricsPort?: number };
      try {
        message = JSON.parse(line) as typeof message;
      } catch {
        return;
      }
      if (message.event === 'ready') port = message.metricsPort;
      if (port !== undefined && (!waitForSocket || message.event === 'socket')) {
        clearTimeout(timer);
        resolvePromise(port);
      }
    });
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(
        new Error(
          `simulator ${options.identity} exited before ready (code=${exit.code} signal=${exit.signal})\n${stderr}`,
        ),
      );
    });
  });

  const baseUrl = `http://127.0.0.1:${metricsPort}`;
  const control = async (path: string): Promise<Response> => {
    const response = await fetch(`${baseUrl}/control/${path}`, {
      method: 'POST',
      signal: AbortSignal.timeout(5_000),
    });
    if (!response.ok) throw new Error(`control ${path}: HTTP ${response.status} ${await response.text()}`);
    return response;
  };

  const node: SimNode = {
    pid,
    identity: options.identity,
    pool: options.pool,
    eventLog,
    socketPath,
    workDir,
    credentials,
    metricsPort,
    metricsUrl: `${baseUrl}/metrics`,
    controlUrl: `${baseUrl}/control`,
    exited,
    isRunning: () => running,
    hup: () => signalPid(pid, 'SIGHUP'),
    kill: (signal = 'SIGTERM') => signalPid(pid, signal),
    async crash() {
      // The connection may be cut by the kill itself; the exit is what matters.
      await control('crash')
        .then((response) => response.text())
        .catch(() => undefined);
      return exited;
    },
    async hang(ms) {
      await (await control(ms === undefined ? 'hang' : `hang?ms=${ms}`)).text();
    },
    async behind(slots) {
      await (await control(`behind?slots=${slots}`)).text();
    },
    async catchup() {
      await (await control('catchup')).text();
    },
    async slowSighup(ms) {
      await (await control(`slow-sighup?ms=${ms}`)).text();
    },
    async metrics(timeoutMs = 2_000) {
      const response = await fetch(node.metricsUrl, { signal: AbortSignal.timeout(timeoutMs) });
      const raw = parsePrometheusText(await response.text());
      const value = (name: string): number => raw.get(name) ?? Number.NaN;
      return {
        forgingEnabled: value('cardano_node_metrics_forging_enabled') === 1,
        slot: value('cardano_node_metrics_slotNum_int'),
        block: value('cardano_node_metrics_blockNum_int'),
        epoch: value('cardano_node_metrics_epoch_int'),
        slotInEpoch: value('cardano_node_metrics_slotInEpoch_int'),
        up: value('cardano_node_sim_up') === 1,
        raw,
      };
    },
    async waitForForging(expected, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      let last: boolean | undefined;
      while (Date.now() < deadline) {
        last = (await node.metrics()).forgingEnabled;
        if (last === expected) return;
        await sleep(20);
      }
      throw new Error(
        `${options.identity}: forging_enabled stayed ${String(last)}, expected ${expected} within ${timeoutMs} ms\n${stderr}`,
      );
    },
    async stop(graceMs = 5_000) {
      if (!running) return exited;
      signalPid(pid, 'SIGTERM');
      const timer = setTimeout(() => signalPid(pid, 'SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    async dispose() {
      const exit = await node.stop();
      if (createdWorkDir) await rm(workDir, { recursive: true, force: true });
      return exit;
    },
    output: () => ({ stdout, stderr }),
  };
  return node;
}

export interface SimNodeGroup {
  spawn(options: SpawnSimNodeOptions): Promise<SimNode>;
  readonly nodes: readonly SimNode[];
  /** Stops every node of the group by PID (SIGTERM, then SIGKILL) and removes helper-made work dirs. */
  stopAll(graceMs?: number): Promise<void>;
}

/** Use one per test file: `const sims = createSimNodeGroup(); afterEach(() => sims.stopAll());` */
export function createSimNodeGroup(): SimNodeGroup {
  const nodes: SimNode[] = [];
  return {
    nodes,
    async spawn(options) {
      const node = await spawnSimNode(options);
      nodes.push(node);
      return node;
    },
    async stopAll(graceMs) {
      const stopping = nodes.splice(0, nodes.length);
      await Promise.all(stopping.map((node) => node.stop(graceMs).then(() => node.dispose())));
    },
  };
}
