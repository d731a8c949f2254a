// The lab's regions mode (`npm start -- --regions 2|3`): the three-region test's harness
// (test/regions/harness.ts: one real kube-apiserver per region, a real 3-member etcd cluster as
// the cross-region arbiter, two forge-manager pods beside simulated nodes per region) with a view
// of which region and pod forge — from each node's own forging metric — and each region's
// CardanoForgeCluster. Key m puts the forging region into maintenance (forgeState Disabled) or ends
// it; q quits. `--script maintenance` runs the scripted maintenance failover and failback and exits
// 0 when both happened, the view never showed two forgers and the simulators' logs show no overlap.
// Sidecars use the short test timings (Lease 6/3/1 s) so the demo moves in seconds.
import { writeFile } from 'node:fs/promises';
import { ARBITER_TIMINGS, arbiterSetup } from '../regions/arbiter-config.ts';
import {
  DEFAULT_REGIONS,
  REGIONS_NAMESPACE,
  startRegions,
  type Region,
  type Regions,
} from '../regions/harness.ts';
import { hostClockMs } from '../cardano-node-sim/events.ts';
import { regionMove } from '../regions/timeline.ts';
import { observeClusters, observePod } from './observe.ts';
import {
  forgingPodsAcrossRegions,
  renderRegionsView,
  type RegionObservation,
  type RegionsSnapshot,
} from './view.ts';

export interface RegionsLabOptions {
  readonly regions: 2 | 3;
  readonly script: 'maintenance' | null;
  readonly stateFile: string | null;
}

const POLL_MS = 500;
const STEP_TIMEOUT_MS = 180_000;
const KEYS = 'keys: m = maintenance of the forging region (again: end it) · q = quit';

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function observeRegion(region: Region): Promise<RegionObservation> {
  const [pods, clusters] = await Promise.all([
    Promise.all(region.pods.map(observePod)),
    observeClusters(region.kubeConfig(), REGIONS_NAMESPACE).catch(() => null),
  ]);
  return {
    name: region.name,
    priority: region.priority,
    cluster: clusters?.[0] ?? null,
    healthEndpoint: region.health.mode.kind,
    pods,
  };
}

class RegionsLab {
  private activity: string | null = null;
  private forgersKey = '';
  private forgersSince: string | null = null;
  private lastDrawn = '';
  private latest: RegionsSnapshot | null = null;
  private maxForgersSeen = 0;
  private busy = false;
  /** Regions this lab put into maintenance (forgeState Disabled). */
  private readonly inMaintenance = new Set<string>();
  stopping = false;

  private readonly world: Regions;
  private readonly options: RegionsLabOptions;

  constructor(world: Regions, options: RegionsLabOptions) {
    this.world = world;
    this.options = options;
  }

  get maxForgers(): number {
    return this.maxForgersSeen;
  }

  /** Every PID this lab has started and seen running (kept after they exit, for the state file). */
  private readonly startedPids = new Set<number>();

  private pids(): number[] {
    const pids: number[] = [];
    for (const pod of this.world.allPods()) {
      if (pod.sidecar?.pid !== undefined) pids.push(pod.sidecar.pid);
      if (pod.node !== null) pids.push(pod.node.pid);
    }
    for (const region of this.world.regions) {
      const ids = region.controlPlane.processIds();
      pids.push(ids.etcd);
      if (ids.kubeApiserver !== undefined) pids.push(ids.kubeApiserver);
    }
    for (const member of this.world.etcd.members) if (member.pid !== undefined) pids.push(member.pid);
    for (const pid of pids) this.startedPids.add(pid);
    return [...this.startedPids];
  }

  async writeState(extra: Record<string, unknown> = {}): Promise<void> {
    if (this.options.stateFile === null) return;
    const state = {
      labPid: process.pid,
      eventLog: this.world.eventLog,
      pids: this.pids(),
      maxForgersSeen: this.maxForgersSeen,
      ...extra,
    };
    await writeFile(this.options.stateFile, `${JSON.stringify(state)}\n`);
  }

  async observe(): Promise<RegionsSnapshot> {
    const regions = await Promise.all(this.world.regions.map(observeRegion));
    const draft: RegionsSnapshot = {
      regions,
      forgersSince: this.forgersSince,
      activity: this.activity,
      keys: this.options.script ? `running --script ${this.options.script}` : KEYS,
    };
    const forgers = forgingPodsAcrossRegions(draft);
    this.maxForgersSeen = Math.max(this.maxForgersSeen, forgers.length);
    const key = forgers.join(',');
    if (key !== this.forgersKey || this.forgersSince === null) {
      this.forgersKey = key;
      this.forgersSince = new Date().toISOString();
    }
    this.latest = { ...draft, forgersSince: this.forgersSince };
    return this.latest;
  }

  async draw(): Promise<void> {
    const snapshot = await this.observe();
    if (this.stopping) return;
    const text = renderRegionsView(snapshot, Math.min(process.stdout.columns || 100, 200)).join('\n');
    if (text === this.lastDrawn) return;
    this.lastDrawn = text;
    process.stdout.write(process.stdout.isTTY ? `\x1b[2J\x1b[H${text}\n` : `${text}\n\n`);
    await this.writeState();
  }

  /** The single forging region as the view last saw it (null: none, or more than one pod). */
  forgingRegion(): string | null {
    const forgers = this.latest === null ? [] : forgingPodsAcrossRegions(this.latest);
    return forgers.length === 1 ? (forgers[0]?.split('/')[0] ?? null) : null;
  }

  async waitForRegion(region: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stopping && Date.now() < deadline) {
      if (this.forgingRegion() === region) return true;
      await sleep(POLL_MS);
    }
    return false;
  }

  /** m: the forging region goes into maintenance; if a region is in maintenance, it ends. */
  async toggleMaintenance(): Promise<void> {
    if (this.busy) {
      this.activity = 'busy: a step is still running';
      return;
    }
    this.busy = true;
    try {
      const ending = [...this.inMaintenance][0];
      if (ending !== undefined) {
        this.activity = `maintenance of ${ending} over: forgeState Priority-based (it takes over after the ${ARBITER_TIMINGS.holdDownSeconds} s hold-down)`;
        await this.world.region(ending).patchClusterSpec({ forgeState: 'Priority-based' });
        this.inMaintenance.delete(ending);
        return;
      }
      const forging = this.forgingRegion();
      if (forging === null) {
        this.activity = 'maintenance: no single forging region to take out';
        return;
      }
      this.activity = `maintenance of ${forging}: forgeState Disabled on its CardanoForgeCluster`;
      await this.world.region(forging).patchClusterSpec({ forgeState: 'Disabled' });
      this.inMaintenance.add(forging);
    } catch (error) {
      this.activity = `maintenance step failed: ${String(error)}`;
    } finally {
      this.busy = false;
    }
  }

  /** The scripted failover and failback; true when both happened in time. */
  async runMaintenanceScript(): Promise<boolean> {
    const [first, second] = this.world.regions;
    if (first === undefined || second === undefined) return false;
    this.activity = `waiting for ${first.name} (priority ${first.priority}) to forge …`;
    if (!(await this.waitForRegion(first.name, STEP_TIMEOUT_MS))) return false;
    await sleep(2_000);
    const disabledAt = hostClockMs();
    this.activity = `maintenance of ${first.name}: forgeState Disabled …`;
    await first.patchClusterSpec({ forgeState: 'Disabled' });
    if (!(await this.waitForRegion(second.name, STEP_TIMEOUT_MS))) return false;
    const failover = regionMove(await this.world.events(), disabledAt, second.name, hostClockMs());
    this.activity = `failover done: ${first.name} → ${second.name} in ${failover?.onAfterMs.toFixed(0) ?? '?'} ms; ending the maintenance …`;
    await sleep(3_000);
    const enabledAt = hostClockMs();
    await first.patchClusterSpec({ forgeState: 'Priority-based' });
    this.activity = `maintenance of ${first.name} over: it takes over after the ${ARBITER_TIMINGS.holdDownSeconds} s hold-down …`;
    if (!(await this.waitForRegion(first.name, STEP_TIMEOUT_MS))) return false;
    const failback = regionMove(await this.world.events(), enabledAt, first.name, hostClockMs());
    this.activity =
      `failover ${first.name} → ${second.name} ${failover?.onAfterMs.toFixed(0) ?? '?'} ms, ` +
      `failback ${second.name} → ${first.name} ${failback?.onAfterMs.toFixed(0) ?? '?'} ms`;
    say(`[lab] ${this.activity}`);
    return true;
  }
}

export async function runRegionsLab(options: RegionsLabOptions): Promise<number> {
  say(
    `[lab] starting ${options.regions} regions: a real 3-member etcd cluster and one real kube-apiserver per region, ` +
      'two pods each (first run builds the binaries: several minutes)…',
  );
  const world = await startRegions({
    regions: DEFAULT_REGIONS.slice(0, options.regions),
    timings: { leaseDuration: 6, renewDeadline: 3, retryPeriod: 1 },
    arbiter: arbiterSetup,
    logLevel: 'info',
    log: say,
  });
  const lab = new RegionsLab(world, options);
  let quit: () => void = () => undefined;
  const quitRequested = new Promise<void>((resolve) => (quit = resolve));
  const stdin = process.stdin;
  let exitCode = 0;
  try {
    process.once('SIGINT', quit);
    process.once('SIGTERM', quit);
    process.once('SIGHUP', quit);
    if (stdin.isTTY && options.script === null) {
      stdin.setRawMode(true);
      stdin.setEncoding('utf8');
      stdin.on('data', (key: string) => {
        if (key === 'q' || key === '\u0003') quit();
        else if (key === 'm') void lab.toggleMaintenance();
      });
    }
    const drawing = (async () => {
      while (!lab.stopping) {
        await lab.draw().catch((error: unknown) => say(`[lab] observe failed: ${String(error)}`));
        await sleep(POLL_MS);
      }
    })();
    if (process.env.LAB_SECONDS) setTimeout(quit, Number(process.env.LAB_SECONDS) * 1000).unref();
    if (options.script === 'maintenance') {
      const done = await lab.runMaintenanceScript();
      await sleep(2 * POLL_MS); // one more redraw shows the failback
      if (!done) {
        say('[lab] the scripted maintenance did not complete in time');
        exitCode = 1;
      }
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
    say('\n[lab] stopping sidecars, nodes, kube-apiservers and the etcd cluster…');
    const overlap = await world.overlap().catch(() => null);
    await lab.writeState(); // every PID, before they are stopped
    await world.stop();
    const overlapMs = overlap?.totalOverlapMs ?? Number.NaN;
    say(`[lab] total time with two forgers at once: ${overlapMs.toFixed(0)} ms`);
    await lab.writeState({ stopped: true, overlapMs });
    if (overlap === null || overlapMs !== 0) exitCode = 1;
  }
  if (lab.maxForgers > 1) {
    say(`[lab] the view showed ${lab.maxForgers} forging pods at once`);
    exitCode = 1;
  }
  return exitCode;
}
