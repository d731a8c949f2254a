// The local lab (`npm start`): a real kube-apiserver + etcd, three simulated cardano-nodes and three
// forge-manager sidecars (the built CLI, configured by environment variables like the Python
// sidecar) in one namespace, with cluster management on. It redraws one status view whenever what
// it observes changes: which node forges (the node's own metric), why (each sidecar's decision),
// the lease holder, the CardanoForgeCluster priorities and health.
//
// Keys: h = planned handoff (SIGTERM the forger's sidecar, restart it like kubelet), k = kill the
// forger's node (SIGKILL; restarted like kubelet), q or Ctrl-C = quit (every process stopped by PID;
// SIGTERM, SIGINT and SIGHUP do the same).
// Flags: --script handoff runs the planned handoff without keys and exits 0 once another pod forges
// (1 if not, or if two pods were ever seen forging at once); --no-cluster turns cluster management
// off; --state-file <path> keeps a JSON file with the event log path and every PID the lab started.
// LAB_SECONDS=N quits by itself after N seconds.
//
// Regions mode (`npm start -- --regions 2` or `3`): test/lab/regions.ts — one kube-apiserver per
// region, two pods each, one 3-member etcd cluster as the cross-region arbiter; key m = maintenance
// of the forging region (forgeState Disabled, again to end it); `--script maintenance` runs the
// failover and the failback without keys.
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFakeCredentials } from '../cardano-node-sim/credentials.ts';
import { computeOverlap, readEvents } from '../cardano-node-sim/overlap.ts';
import { startControlPlane, type ControlPlane } from '../controlplane/index.ts';
import { ForgePod } from '../support/forge-pod.ts';
import { observeClusters, observePod, stringOrNull } from './observe.ts';
import { runRegionsLab } from './regions.ts';
import { forgingPods, renderLabView, type LabSnapshot } from './view.ts';

const NAMESPACE = 'cardano-lab';
const REPLICAS = 3;
const LEASE_NAME = 'cardano-node-leader';
const CLUSTER_NAME = 'lab-cluster';
const KEYS = 'keys: h = planned handoff · k = kill the forger’s node · q = quit';
const POLL_MS = 500;
const SCRIPT_TIMEOUT_MS = 180_000;

interface LabOptions {
  readonly script: 'handoff' | null;
  readonly cluster: boolean;
  readonly stateFile: string | null;
}

type ParsedOptions =
  | ({ readonly mode: 'single' } & LabOptions)
  | {
      readonly mode: 'regions';
      readonly regions: 2 | 3;
      readonly script: 'maintenance' | null;
      readonly stateFile: string | null;
    };

function parseOptions(argv: readonly string[]): ParsedOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      script: { type: 'string' },
      'no-cluster': { type: 'boolean', default: false },
      'state-file': { type: 'string' },
      regions: { type: 'string' },
    },
  });
  if (values.regions !== undefined) {
    if (values.regions !== '2' && values.regions !== '3')
      throw new Error(
        `--regions ${values.regions}: give 2 or 3 (regions eu, us[, ap] with priorities 1, 2[, 3])`,
      );
    if (values.script !== undefined && values.script !== 'maintenance')
      throw new Error(
        `--script ${values.script}: unknown script with --regions; the only one is --script maintenance`,
      );
    if (values['no-cluster'])
      throw new Error('--no-cluster cannot be combined with --regions: regions need cluster management');
    return {
      mode: 'regions',
      regions: values.regions === '2' ? 2 : 3,
      script: values.script === 'maintenance' ? 'maintenance' : null,
      stateFile: values['state-file'] ?? null,
    };
  }
  if (values.script !== undefined && values.script !== 'handoff')
    throw new Error(`--script ${values.script}: unknown script; the only one is --script handoff`);
  return {
    mode: 'single',
    script: values.script === 'handoff' ? 'handoff' : null,
    cluster: !values['no-cluster'],
    stateFile: values['state-file'] ?? null,
  };
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function observeLease(cp: ControlPlane): Promise<LabSnapshot['lease']> {
  try {
    const lease = await cp
      .kubeConfig()
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: LEASE_NAME, namespace: NAMESPACE });
    const acquired = lease.spec?.acquireTime as Date | string | undefined;
    return {
      holder: stringOrNull(lease.spec?.holderIdentity),
      acquiredAt: acquired === undefined ? null : new Date(acquired).toISOString(),
    };
  } catch {
    return null;
  }
}

class Lab {
  private readonly pods: ForgePod[] = [];
  private readonly startedPids = new Set<number>();
  private activity: string | null = null;
  private forgersKey = '';
  private forgersSince: string | null = null;
  private lastDrawn = '';
  private latest: LabSnapshot | null = null;
  private maxForgersSeen = 0;
  private busy = false;
  stopping = false;

  private readonly cp: ControlPlane;
  private readonly dir: string;
  private readonly options: LabOptions;

  constructor(cp: ControlPlane, dir: string, options: LabOptions) {
    this.cp = cp;
    this.dir = dir;
    this.options = options;
  }

  get eventLog(): string {
    return join(this.dir, 'events.jsonl');
  }

  async start(): Promise<void> {
    await this.cp
      .kubeConfig()
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: NAMESPACE } } });
    const secrets = join(this.dir, 'secrets');
    await writeFakeCredentials(secrets); // kes.skey, vrf.skey, node.cert: the Secret-mount names
    const clusterEnv: Record<string, string> = this.options.cluster
      ? { ENABLE_CLUSTER_MANAGEMENT: 'true', CLUSTER_IDENTIFIER: CLUSTER_NAME, CLUSTER_REGION: 'lab' }
      : {};
    for (let i = 0; i < REPLICAS; i++) {
      this.pods.push(
        new ForgePod({
          name: `cardano-bp-${i}`,
          namespace: NAMESPACE,
          kubeconfigPath: this.cp.kubeconfigPath,
          pool: 'pool1lab',
          sourceDir: secrets,
          eventLog: this.eventLog,
          workDir: join(this.dir, `cardano-bp-${i}`),
          leaseName: LEASE_NAME,
          timings: { leaseDuration: 15, renewDeadline: 10, retryPeriod: 2 },
          extraEnv: { LOG_LEVEL: 'info', ...clusterEnv },
        }),
      );
    }
    await Promise.all(this.pods.map((p) => p.start()));
    this.rememberPids();
  }

  private rememberPids(): void {
    for (const p of this.pods) {
      if (p.sidecar?.pid !== undefined) this.startedPids.add(p.sidecar.pid);
      if (p.node) this.startedPids.add(p.node.pid);
    }
    const cpPids = this.cp.processIds();
    this.startedPids.add(cpPids.etcd);
    if (cpPids.kubeApiserver !== undefined) this.startedPids.add(cpPids.kubeApiserver);
  }

  private async writeState(extra: Record<string, unknown> = {}): Promise<void> {
    if (this.options.stateFile === null) return;
    const state = {
      labPid: process.pid,
      eventLog: this.eventLog,
      kubeconfig: this.cp.kubeconfigPath,
      pids: [...this.startedPids],
      maxForgersSeen: this.maxForgersSeen,
      ...extra,
    };
    await writeFile(this.options.stateFile, `${JSON.stringify(state)}\n`);
  }

  async observe(): Promise<LabSnapshot> {
    const [pods, lease, clusters] = await Promise.all([
      Promise.all(this.pods.map(observePod)),
      observeLease(this.cp),
      this.options.cluster
        ? observeClusters(this.cp.kubeConfig(), NAMESPACE).catch(() => [])
        : Promise.resolve(null),
    ]);
    const draft: LabSnapshot = {
      pods,
      lease,
      clusters,
      forgersSince: this.forgersSince,
      activity: this.activity,
      keys: this.options.script ? `running --script ${this.options.script}` : KEYS,
    };
    const forgers = forgingPods(draft);
    this.maxForgersSeen = Math.max(this.maxForgersSeen, forgers.length);
    const key = forgers.join(',');
    if (key !== this.forgersKey || this.forgersSince === null) {
      this.forgersKey = key;
      this.forgersSince = new Date().toISOString();
    }
    this.latest = { ...draft, forgersSince: this.forgersSince };
    return this.latest;
  }

  /** Clear and redraw only when the content changed. */
  async draw(): Promise<void> {
    const snapshot = await this.observe();
    if (this.stopping) return;
    const text = renderLabView(snapshot, Math.min(process.stdout.columns || 100, 200)).join('\n');
    if (text === this.lastDrawn) return;
    this.lastDrawn = text;
    process.stdout.write(process.stdout.isTTY ? `\x1b[2J\x1b[H${text}\n` : `${text}\n\n`);
    await this.writeState();
  }

  private setActivity(text: string | null): void {
    this.activity = text;
  }

  private singleForger(): ForgePod | null {
    const names = this.latest ? forgingPods(this.latest) : [];
    return names.length === 1 ? (this.pods.find((p) => p.options.name === names[0]) ?? null) : null;
  }

  /** Waits until the view shows exactly one forger other than `previous` (or any, if null). */
  async waitForForger(previous: string | null, timeoutMs: number): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stopping && Date.now() < deadline) {
      const names = this.latest ? forgingPods(this.latest) : [];
      if (names.length === 1 && names[0] !== previous) return names[0] ?? null;
      await sleep(POLL_MS);
    }
    return null;
  }

  /** Planned handoff: SIGTERM the forger's sidecar by PID, then restart it as kubelet would. */
  async handoff(): Promise<string | null> {
    const forger = this.singleForger();
    if (forger === null || this.busy) {
      this.setActivity(
        this.busy ? 'busy: a step is still running' : 'handoff: no single forger to hand off from',
      );
      return null;
    }
    this.busy = true;
    try {
      const name = forger.options.name;
      this.setActivity(`handoff: SIGTERM ${name}'s sidecar (pid ${forger.sidecar?.pid ?? '-'}) …`);
      const code = await forger.stopSidecar(30_000);
      this.setActivity(
        `handoff: ${name}'s sidecar exited (${code ?? 'signal'}); restarting it like kubelet …`,
      );
      await forger.startSidecar();
      this.rememberPids();
      this.setActivity(`handoff: sidecar of ${name} restarted; waiting for another pod to forge …`);
      const next = await this.waitForForger(name, SCRIPT_TIMEOUT_MS);
      this.setActivity(
        next
          ? `handoff done: ${name} → ${next}`
          : `handoff: no other pod forged within ${SCRIPT_TIMEOUT_MS / 1000} s`,
      );
      return next;
    } catch (error) {
      this.setActivity(`handoff failed: ${String(error)}`);
      return null;
    } finally {
      this.busy = false;
    }
  }

  /** Kills the forger's node (SIGKILL by PID) and starts it again as kubelet would. */
  async killForgerNode(): Promise<void> {
    const forger = this.singleForger();
    if (forger === null || this.busy || forger.node === null) {
      this.setActivity(this.busy ? 'busy: a step is still running' : 'kill: no single forger');
      return;
    }
    this.busy = true;
    try {
      const node = forger.node;
      const name = forger.options.name;
      this.setActivity(`kill: SIGKILL ${name}'s node (pid ${node.pid}) …`);
      node.kill('SIGKILL');
      await node.exited;
      this.setActivity(`kill: ${name}'s node is gone; restarting it like kubelet …`);
      await sleep(3000);
      await forger.startNode();
      this.rememberPids();
      const next = await this.waitForForger(null, SCRIPT_TIMEOUT_MS);
      this.setActivity(next ? `kill done: ${next} forges` : 'kill: no pod forged again in time');
    } catch (error) {
      this.setActivity(`kill failed: ${String(error)}`);
    } finally {
      this.busy = false;
    }
  }

  get maxForgers(): number {
    return this.maxForgersSeen;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    say('\n[lab] stopping sidecars (they revoke, signal and release), nodes and the control plane…');
    await Promise.all(this.pods.map((p) => p.dispose()));
    const overlap = computeOverlap(await readEvents([this.eventLog]).catch(() => []));
    say(`[lab] total time with two forgers at once: ${overlap.totalOverlapMs.toFixed(0)} ms`);
    await this.writeState({ stopped: true, overlapMs: overlap.totalOverlapMs });
  }
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed.mode === 'regions') return runRegionsLab(parsed);
  const options: LabOptions = parsed;
  say('[lab] starting a real kube-apiserver + etcd (first run builds them: several minutes)…');
  const cp = await startControlPlane({ name: `lab-${process.pid}` });
  say(`[lab] kube-apiserver ${cp.versions.kubeApiserver}, etcd ${cp.versions.etcd} at ${cp.apiUrl}`);
  const dir = await mkdtemp(join(tmpdir(), 'forge-lab-'));
  const lab = new Lab(cp, dir, options);
  let quit: () => void = () => undefined;
  const quitRequested = new Promise<void>((r) => (quit = r));
  const stdin = process.stdin;
  let exitCode = 0;
  try {
    say(`[lab] starting ${REPLICAS} pods (sidecar first, then its node)…`);
    await lab.start();
    process.once('SIGINT', quit);
    process.once('SIGTERM', quit);
    process.once('SIGHUP', quit); // the terminal closed: stop everything as on q
    if (stdin.isTTY && options.script === null) {
      stdin.setRawMode(true);
      stdin.setEncoding('utf8');
      stdin.on('data', (key: string) => {
        if (key === 'q' || key === '\u0003') quit();
        else if (key === 'h') void lab.handoff();
        else if (key === 'k') void lab.killForgerNode();
      });
    }
    const drawing = (async () => {
      while (!lab.stopping) {
        await lab.draw().catch((error: unknown) => say(`[lab] observe failed: ${String(error)}`));
        await sleep(POLL_MS);
      }
    })();
    if (process.env.LAB_SECONDS) setTimeout(quit, Number(process.env.LAB_SECONDS) * 1000).unref();
    if (options.script === 'handoff') {
      const first = await lab.waitForForger(null, SCRIPT_TIMEOUT_MS);
      const next = first === null ? null : await lab.handoff();
      await sleep(2 * POLL_MS); // one more redraw shows the new forger
      if (next === null || lab.maxForgers > 1) exitCode = 1;
      quit();
    }
    await quitRequested;
    lab.stopping = true;
    await drawing;
  } finally {
    if (stdin.isTTY) {
      stdin.setRawMode(false);
      stdin.pause();
    }
    await lab.stop();
    await cp.stop();
    await rm(dir, { recursive: true, force: true });
  }
  if (lab.maxForgers > 1) {
    say(`[lab] the view showed ${lab.maxForgers} forging pods at once`);
    exitCode = 1;
  }
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('[lab] failed:', error);
    process.exit(1);
  },
);
