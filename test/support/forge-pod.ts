// A "pod" for integration tests: one real forge-manager process (the built CLI, configured only
// through the Python sidecar's environment variables) beside one simulated cardano-node, wired like
// the Helm chart wires them: the sidecar starts first, provisions startup credentials, and the node
// starts once /startup-status answers 200. Every process is stopped by its own PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSimNode, type SimNode } from '../cardano-node-sim/spawn.ts';
import { freeLoopbackPort } from '../controlplane/process.ts';
import { SIDECAR_NODE_FLAGS } from './image-recipe.ts';

const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
const NODE = join(REPO, 'node_modules/.bin/node');
const CLI = join(REPO, 'packages/framework/dist/cli/main.js');

export interface ForgePodOptions {
  readonly name: string;
  readonly namespace: string;
  readonly kubeconfigPath: string;
  readonly pool: string;
  /** Directory holding kes.skey, vrf.skey, node.cert (the Secret mount). */
  readonly sourceDir: string;
  readonly eventLog: string;
  readonly workDir: string;
  readonly leaseName: string;
  readonly timings?: { leaseDuration: number; renewDeadline: number; retryPeriod: number; interval?: number };
  readonly extraEnv?: Record<string, string>;
  /** Another forge-manager entrypoint (e.g. an installed production tree), run from `cwd`. */
  readonly entrypoint?: { readonly cli: string; readonly args?: readonly string[]; readonly cwd?: string };
  /** Node flags before the CLI; default the image's (SIDECAR_NODE_FLAGS). */
  readonly nodeFlags?: readonly string[];
}

export interface SidecarStatus {
  decision: { leader: boolean; forge: boolean; reason: string; candidate: boolean; actions: unknown[] };
  leadership: { holder: string | null; transitions: number };
  [key: string]: unknown;
}

export class ForgePod {
  readonly options: ForgePodOptions;
  readonly targetDir: string;
  readonly socketPath: string;
  node: SimNode | null = null;
  sidecar: ChildProcess | null = null;
  sidecarExit: Promise<number | null> = Promise.resolve(null);
  port = 0;
  /** The simulated node's metrics port, fixed before the sidecar starts so NODE_METRICS_URL is known. */
  nodeMetricsPort = 0;
  /** Where the latest sidecar's stdout and stderr go. */
  sidecarLogPath: string | null = null;

  constructor(options: ForgePodOptions) {
    this.options = options;
    this.targetDir = join(options.workDir, 'target');
    this.socketPath = join(options.workDir, 'node.socket');
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  env(): Record<string, string> {
    const t = this.options.timings ?? { leaseDuration: 6, renewDeadline: 3, retryPeriod: 1 };
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      KUBECONFIG: this.options.kubeconfigPath,
      POD_NAME: this.options.name,
      NAMESPACE: this.options.namespace,
      LEASE_NAME: this.options.leaseName,
      CRD_NAME: `${this.options.leaseName}-status`,
      LEASE_DURATION: String(t.leaseDuration),
      RENEW_DEADLINE: String(t.renewDeadline),
      RETRY_PERIOD: String(t.retryPeriod),
      SLEEP_INTERVAL: String(t.interval ?? t.retryPeriod),
      NODE_SOCKET: this.socketPath,
      SOURCE_KES_KEY: join(this.options.sourceDir, 'kes.skey'),
      SOURCE_VRF_KEY: join(this.options.sourceDir, 'vrf.skey'),
      SOURCE_OP_CERT: join(this.options.sourceDir, 'node.cert'),
      TARGET_KES_KEY: join(this.targetDir, 'kes.skey'),
      TARGET_VRF_KEY: join(this.targetDir, 'vrf.skey'),
      TARGET_OP_CERT: join(this.targetDir, 'node.cert'),
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(this.port),
      LOG_LEVEL: 'debug',
      CARDANO_NETWORK: 'preprod',
      NETWORK_MAGIC: '1',
      NODE_METRICS_URL: `http://127.0.0.1:${this.nodeMetricsPort}/metrics`,
      // The simulator applies a SIGHUP within milliseconds (the budget check needs a bound that fits).
      NODE_SIGHUP_LATENCY_BOUND_MS: '500',
      ...this.options.extraEnv,
    };
  }

  /** Starts the sidecar; resolves when its HTTP server answers. */
  async startSidecar(): Promise<void> {
    await mkdir(this.targetDir, { recursive: true });
    if (this.port === 0) this.port = await freeLoopbackPort();
    if (this.nodeMetricsPort === 0) this.nodeMetricsPort = await freeLoopbackPort();
    const entry = this.options.entrypoint;
    const cli = entry?.cli ?? CLI;
    if (!existsSync(cli)) throw new Error(`${cli} missing: run npm run build`);
    this.sidecarLogPath = join(this.options.workDir, `sidecar-${Date.now()}.log`);
    const log = createWriteStream(this.sidecarLogPath);
    const flags = this.options.nodeFlags ?? SIDECAR_NODE_FLAGS;
    const child = spawn(NODE, [...flags, cli, 'run', ...(entry?.args ?? [])], {
      env: this.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(entry?.cwd ? { cwd: entry.cwd } : {}),
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    this.sidecar = child;
    this.sidecarExit = new Promise((res) => child.once('exit', (code) => res(code)));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null)
        throw new Error(`sidecar ${this.options.name} exited with ${child.exitCode}`);
      try {
        const r = await fetch(`${this.baseUrl}/health`);
        if (r.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`sidecar ${this.options.name} did not start`);
  }

  /** Runs the sidecar with extra env (e.g. a broken value) and waits for it to exit by itself. */
  async runExpectingExit(
    envOverrides: Record<string, string>,
    timeoutMs = 30_000,
  ): Promise<{ code: number | null; output: string }> {
    let output = '';
    const child = spawn(NODE, [...(this.options.nodeFlags ?? SIDECAR_NODE_FLAGS), CLI, 'run'], {
      env: { ...this.env(), ...envOverrides },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), timeoutMs);
    const code = await new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
    clearTimeout(timer);
    return { code, output };
  }

  async waitStartupReady(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const r = await fetch(`${this.baseUrl}/startup-status`).catch(() => null);
      if (r?.status === 200) return;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`${this.options.name}: /startup-status never became ready`);
  }

  /** Starts the simulated node with --start-as-non-producing-node, reading the sidecar's target paths. */
  async startNode(options: { nonProducing?: boolean } = {}): Promise<SimNode> {
    this.node = await spawnSimNode({
      identity: this.options.name,
      pool: this.options.pool,
      eventLog: this.options.eventLog,
      workDir: this.options.workDir,
      socketPath: this.socketPath,
      credentials: {
        kesKey: join(this.targetDir, 'kes.skey'),
        vrfKey: join(this.targetDir, 'vrf.skey'),
        opCert: join(this.targetDir, 'node.cert'),
      },
      startAsNonProducing: options.nonProducing ?? true,
      metricsPort: this.nodeMetricsPort,
    });
    return this.node;
  }

  /** Pod start as in the Helm chart: sidecar, startup credentials, then the node. */
  async start(): Promise<void> {
    await this.startSidecar();
    await this.waitStartupReady();
    await this.startNode();
  }

  async status(): Promise<SidecarStatus | null> {
    try {
      const r = await fetch(`${this.baseUrl}/status`, { signal: AbortSignal.timeout(2000) });
      return r.status === 200 ? ((await r.json()) as SidecarStatus) : null;
    } catch {
      return null;
    }
  }

  async metricsText(): Promise<string> {
    const r = await fetch(`${this.baseUrl}/metrics`, { signal: AbortSignal.timeout(2000) });
    return r.text();
  }

  killSidecar(signal: NodeJS.Signals): void {
    const pid = this.sidecar?.pid;
    if (pid !== undefined && this.sidecar?.exitCode === null && this.sidecar.signalCode === null)
      process.kill(pid, signal);
  }

  /** SIGTERM by PID and wait for exit (SIGKILL after graceMs). Returns the exit code. */
  async stopSidecar(graceMs = 15_000): Promise<number | null> {
    if (!this.sidecar || this.sidecar.exitCode !== null || this.sidecar.signalCode !== null)
      return this.sidecar?.exitCode ?? null;
    this.killSidecar('SIGTERM');
    const timer = setTimeout(() => this.killSidecar('SIGKILL'), graceMs);
    const code = await this.sidecarExit;
    clearTimeout(timer);
    return code;
  }

  /** The last lines of the latest sidecar's log: for a failing assertion's message. */
  async sidecarLogTail(lines = 80): Promise<string> {
    if (this.sidecarLogPath === null) return '(no sidecar started)';
    const text = await readFile(this.sidecarLogPath, 'utf8').catch((error: Error) => `(${error.message})`);
    return `${this.sidecarLogPath}, last ${lines} lines:\n${text
      .split('\n')
      .slice(-lines - 1)
      .join('\n')}`;
  }

  async dispose(): Promise<void> {
    await this.stopSidecar(5000).catch(() => undefined);
    await this.node?.stop(2000).catch(() => undefined);
  }
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
