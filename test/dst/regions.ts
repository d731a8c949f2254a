/**
 * A pool spread over 2–3 regions: each region is a World of its own (its API server, its
 * CardanoForgeCluster with a priority, 1–2 pods running the real sidecar code next to modelled
 * nodes) on one shared simulation, and every region's sidecars reach one modelled etcd cluster
 * (test/dst/etcd.ts: one member per region, or two regions and a witness). The invariant is
 * checked across ALL regions on the nodes' actual loaded state: at most one node of the pool
 * forges at any instant, and one forges within the stated bound once faults stop.
 */
import { ETCD_ELECTION_TIMEOUT_MS, SimEtcd, type EtcdMemberSpec } from './etcd.ts';
import { Registry } from 'prom-client';
import {
  arbiterTiming,
  createArbiterMetrics,
  createGlobalCoordination,
  arbiterTimingFromConfig,
  defaultKeyPrefix,
  ForgeConfigSchema,
  type ResolvedConfig,
  createStaticPriorityStrategy,
  revocationBudget,
  type ArbiterTiming,
  type EtcdKv,
  type HealthProbe,
  type KubernetesLeaseElector,
  type LeaderElector,
  type PolicyFeed,
} from './framework.ts';
import { podSpec } from './scenario.ts';
import { formatTimeline, Sim, type TimelineEntry } from './sim.ts';
import {
  CLOCK_RATE_EPSILON,
  localLivenessBoundMs,
  SIGHUP_LATENCY_BOUND_MS,
  World,
  type SidecarTiming,
  type SidecarContext,
  type SimPod,
  type Violation,
} from './world.ts';

export const REGION_NAMES = ['eu', 'us', 'ap'] as const;

/**
 * The sidecars' timings in the regions profile: shorter than the defaults (15/10/2 s) so a seed
 * needs fewer simulated minutes, like the integration tests' short leases; the call timeout and
 * terminate grace are what run.ts derives from them (core/timing.ts revocationBudget, checked at
 * load). Kubernetes' termination grace period is set to 10 s.
 */
export const REGION_TIMING: SidecarTiming = (() => {
  const election = { leaseDurationSeconds: 8, renewDeadlineSeconds: 5, retryPeriodSeconds: 1 };
  const budget = revocationBudget({ ...election, sighupLatencyBoundMs: SIGHUP_LATENCY_BOUND_MS });
  if (!budget.ok) throw new Error(budget.message);
  return {
    ...election,
    intervalMs: 1000,
    callTimeoutMs: budget.budget.callTimeoutMs,
    terminateGraceMs: budget.budget.terminateGraceMs,
    shutdownDeadlineMs: Math.max(5000, election.renewDeadlineSeconds * 1000),
    terminationGraceMs: 10_000,
  };
})();

/** The cluster manager's health loop in the simulated regions: 2 s rounds, demoted after 2 failures. */
export const REGION_HEALTH_CHECK = {
  intervalSeconds: 2,
  timeoutSeconds: 1,
  failureThreshold: 2,
  recoveryThreshold: 2,
} as const;

/**
 * What assembles the cross-region leadership of one sidecar around its region's Lease elector:
 * the elector and the policy feed the reconciler runs on.
 */
export type CrossRegionComposer = (
  local: KubernetesLeaseElector,
  context: SidecarContext & {
    readonly region: string;
    readonly etcd: EtcdKv;
    readonly config: ResolvedConfig;
  },
) => { readonly elector: LeaderElector; readonly policy: PolicyFeed };

export class Region {
  readonly name: string;
  readonly world: World;
  /** The etcd member that runs in this region. */
  readonly member: string;
  /** What the region's health probe answers. */
  healthy = true;
  /** All its pods and its etcd member are gone. */
  lost = false;
  readonly basePriority: number;

  constructor(name: string, world: World, member: string, basePriority: number) {
    this.name = name;
    this.world = world;
    this.member = member;
    this.basePriority = basePriority;
  }

  get pods(): readonly SimPod[] {
    return this.world.pods;
  }
}

export interface RegionsLayout {
  /** Region names with their CardanoForgeCluster priority and replica count. */
  readonly regions: readonly {
    readonly name: string;
    readonly priority: number;
    readonly replicas: number;
  }[];
}

export class RegionsWorld {
  readonly sim: Sim;
  readonly etcd: SimEtcd;
  readonly regions: Region[] = [];
  violation: Violation | null = null;
  /** From this true time on, one node must forge at every instant (liveness). */
  livenessFromMs = Infinity;
  readonly forgingListeners: Array<(who: string, forging: boolean) => void> = [];

  /** `sim` already drew the layout (and the faults) from its PRNG. */
  constructor(sim: Sim, layout: RegionsLayout, compose: CrossRegionComposer | null) {
    this.sim = sim;
    const verbose = sim.verbose;
    const rng = this.sim.rng;
    const clockRate = (): number => 1 + rng.between(-CLOCK_RATE_EPSILON, CLOCK_RATE_EPSILON);
    const members: EtcdMemberSpec[] = layout.regions.map((r) => ({
      name: `etcd-${r.name}`,
      region: r.name,
      clockRate: clockRate(),
    }));
    // Two regions: a small witness member elsewhere keeps a quorum when either region is lost.
    if (members.length === 2) members.push({ name: 'etcd-witness', region: null, clockRate: clockRate() });
    this.etcd = new SimEtcd(this.sim, members);
    const strategy = createStaticPriorityStrategy({ minorPenalty: 10, majorPenalty: 100 });
    for (const spec of layout.regions) {
      // eslint-disable-next-line prefer-const -- assigned after the world that refers to it
      let region: Region;
      const config = regionConfig(spec.name, spec.priority);
      const world = new World(0, verbose, {
        sim: this.sim,
        region: {
          name: spec.name,
          basePriority: spec.priority,
          priorityStrategy: strategy,
          healthCheck: REGION_HEALTH_CHECK,
          timing: REGION_TIMING,
          healthProbes: () => [this.#healthProbe(() => region)],
          composeLeadership: (local, context) =>
            compose === null
              ? { elector: local, policy: context.cluster! }
              : compose(local, {
                  ...context,
                  region: spec.name,
                  config,
                  etcd: this.etcd.client(
                    spec.name,
                    `${context.pod.spec.label}#${context.incarnation}`,
                    () => context.owner,
                  ),
                }),
          onForging: (who, forging) => this.onForging(who, forging),
        },
      });
      world.enableClusterManagement();
      region = new Region(spec.name, world, `etcd-${spec.name}`, spec.priority);
      for (let i = 0; i < spec.replicas; i++)
        world.addPod(podSpec(world, `pool-${i}`, { label: `${spec.name}/pool-${i}` }));
      this.regions.push(region);
    }
  }

  #healthProbe(region: () => Region): HealthProbe {
    return {
      id: 'region',
      check: () => {
        const healthy = region().healthy;
        return Promise.resolve({
          healthy,
          latencyMs: 1,
          reason: healthy ? 'Healthy' : 'UnexpectedStatus',
          message: healthy ? 'region healthy' : 'region unhealthy (simulated)',
        });
      },
    };
  }

  region(name: string): Region {
    const region = this.regions.find((r) => r.name === name);
    if (region === undefined) throw new Error(`no region ${name}`);
    return region;
  }

  pods(): SimPod[] {
    return this.regions.flatMap((r) => [...r.pods]);
  }

  forgers(): string[] {
    return this.pods()
      .filter((p) => p.node.forging)
      .map((p) => p.spec.label);
  }

  #violate(kind: Violation['kind'], message: string): void {
    if (this.violation !== null) return;
    this.violation = { kind, atMs: this.sim.now, message };
    this.sim.log('INVARIANT', `VIOLATED (${kind}): ${message}`);
    this.sim.stop(message);
  }

  requirementBroken(message: string): void {
    this.#violate('requirement', message);
  }

  /** Every change of any region's node: the only instants the answer can change. */
  onForging(who: string, forging: boolean): void {
    for (const listener of this.forgingListeners) listener(who, forging);
    const forgers = this.forgers();
    if (forgers.length > 1)
      this.#violate('safety', `${forgers.length} nodes of the pool forge at once: ${forgers.join(', ')}`);
    else if (forgers.length === 0 && this.sim.now >= this.livenessFromMs)
      this.#violate('liveness', 'no node of the pool forges although faults stopped long enough ago');
  }

  /** Liveness: from `atMs` on one node of the pool must forge at every instant. */
  requireLivenessFrom(atMs: number, boundMs: number): void {
    this.livenessFromMs = atMs;
    this.sim.at(this.sim.world, atMs - this.sim.now, () => {
      if (this.forgers().length === 0)
        this.#violate(
          'liveness',
          `no node of the pool forges ${Math.round(boundMs / 1000)} s after the last fault (bound ${boundMs} ms)`,
        );
    });
  }

  /** Region loss: every pod (sidecar and node) and the region's etcd member are gone. */
  loseRegion(name: string): void {
    const region = this.region(name);
    if (region.lost) return;
    region.lost = true;
    this.sim.log(`${name}`, 'REGION LOST: pods, apiserver and etcd member gone');
    for (const pod of region.pods) {
      pod.killSidecar();
      pod.restartNode = false;
      pod.node.exit('region lost', false);
    }
    region.world.api.setDown(true);
    this.etcd.setUp(region.member, false);
  }

  /** The region comes back: apiserver, etcd member, then its pods start again. */
  restoreRegion(name: string): void {
    const region = this.region(name);
    if (!region.lost) return;
    region.lost = false;
    this.sim.log(`${name}`, 'region back');
    region.world.api.setDown(false);
    this.etcd.setUp(region.member, true);
    for (const pod of region.pods) {
      pod.restartNode = true;
      const startIn = this.sim.rng.between(500, 3000);
      this.sim.at(this.sim.world, startIn, () => pod.startNode());
      this.sim.at(this.sim.world, startIn + this.sim.rng.between(0, 2000), () => pod.startSidecar());
    }
  }

  /**
   * The region is cut off from the etcd majority: its member loses its peers and the region's
   * clients lose every other member (requests blackholed or lost); its own member, apiserver and
   * pods still run.
   */
  partitionRegionFromEtcd(name: string, mode: 'hang' | 'drop-request'): void {
    const region = this.region(name);
    this.etcd.setIsolated(region.member, true);
    this.etcd.setRegionLinks(
      name,
      mode,
      this.etcd.members.filter((m) => m.name !== region.member).map((m) => m.name),
    );
  }

  healRegionFromEtcd(name: string): void {
    const region = this.region(name);
    this.etcd.setIsolated(region.member, false);
    this.etcd.setRegionLinks(name, 'pass');
  }
}

export interface RegionsRunResult {
  readonly seed: number;
  readonly scenario: string;
  readonly violation: Violation | null;
  readonly timeline: readonly TimelineEntry[];
  readonly virtualMs: number;
  readonly faults: readonly string[];
}

export function describeRegionsFailure(result: RegionsRunResult): string {
  const v = result.violation;
  return [
    v === null
      ? `seed ${result.seed} (${result.scenario}): no violation`
      : `seed ${result.seed} (${result.scenario}): ${v.kind} violation at ${(v.atMs / 1000).toFixed(3)} s: ${v.message}`,
    'faults:',
    ...result.faults.map((f) => `  ${f}`),
    'timeline:',
    formatTimeline(result.timeline),
  ].join('\n');
}

export { ETCD_ELECTION_TIMEOUT_MS };

// -----------------------------------------------------------------------------------------------
// Scenarios
// -----------------------------------------------------------------------------------------------

export interface RegionsFault {
  readonly atMs: number;
  readonly what: string;
  run(world: RegionsWorld): void;
}

export interface RegionsScenario {
  readonly name: string;
  readonly layout: RegionsLayout;
  /** Every fault (and its recovery) is over by then. */
  readonly quietFromMs: number;
  readonly endMs: number;
  readonly faults: readonly RegionsFault[];
  readonly checkLiveness: boolean;
}

/** The pods' wall clocks start at 2026-01-01T00:00Z (± 2 s); an override's expiry in that time. */
function wallIso(atMs: number): string {
  return new Date(Date.UTC(2026, 0, 1) + atMs).toISOString();
}

/** Draws a layout: 2–3 regions, 1–2 replicas each, priorities 1..n shuffled (sometimes a tie). */
export function randomLayout(sim: Sim): RegionsLayout {
  const rng = sim.rng;
  const count = rng.int(2, 3);
  const priorities = Array.from({ length: count }, (_, i) => i + 1);
  for (let i = priorities.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [priorities[i], priorities[j]] = [priorities[j]!, priorities[i]!];
  }
  if (rng.chance(0.2)) priorities[1] = priorities[0]!;
  return {
    regions: REGION_NAMES.slice(0, count).map((name, i) => ({
      name,
      priority: priorities[i]!,
      replicas: rng.int(1, 2),
    })),
  };
}

export const REGION_FAULT_KINDS = [
  'sidecar-kill',
  'sidecar-term',
  'sidecar-freeze',
  'node-crash',
  'api-outage',
  'api-partition',
  'health-flip',
  'forge-disabled',
  'override-priority',
  'override-state',
  'priority-edit',
  'region-loss',
  'region-etcd-partition',
  'etcd-leader-transfer',
  'etcd-member-crash',
  'etcd-member-isolated',
  'etcd-quorum-loss',
  'etcd-link',
] as const;

/** Draws the faults of one seed (the layout is drawn first, from the same PRNG). */
export function randomRegionsFaults(
  sim: Sim,
  layout: RegionsLayout,
  window: { fromMs: number; toMs: number },
): { faults: RegionsFault[]; quietFromMs: number } {
  const rng = sim.rng;
  const faults: RegionsFault[] = [];
  let quietFromMs = window.fromMs;
  const count = rng.int(1, 5);
  const regionNames = layout.regions.map((r) => r.name);
  for (let i = 0; i < count; i++) {
    const atMs = rng.between(window.fromMs, window.toMs);
    const kind = rng.pick(REGION_FAULT_KINDS);
    const region = rng.pick(regionNames);
    const replicas = layout.regions.find((r) => r.name === region)!.replicas;
    const podIndex = rng.int(0, replicas - 1);
    const dur = (min: number, max: number): number => rng.between(min, max);
    const end = (ms: number): void => {
      quietFromMs = Math.max(quietFromMs, atMs + ms);
    };
    const pod = (w: RegionsWorld): SimPod => w.region(region).pods[podIndex]!;
    const label = `${region}/pool-${podIndex}`;
    end(0);
    const add = (what: string, run: (w: RegionsWorld) => void): void => {
      faults.push({ atMs, what, run });
    };
    switch (kind) {
      case 'sidecar-kill': {
        const restart = dur(500, 5000);
        end(restart);
        add(`SIGKILL sidecar ${label}, restart after ${Math.round(restart)} ms`, (w) => {
          if (w.region(region).lost) return;
          pod(w).killSidecar();
          w.sim.at(w.sim.world, restart, () => !w.region(region).lost && pod(w).startSidecar());
        });
        break;
      }
      case 'sidecar-term': {
        const restart = dur(500, 5000);
        end(REGION_TIMING.terminationGraceMs + restart);
        add(`SIGTERM sidecar ${label}, restart ${Math.round(restart)} ms after it exits`, (w) => {
          if (w.region(region).lost) return;
          pod(w).terminateSidecar(() =>
            w.sim.at(w.sim.world, restart, () => !w.region(region).lost && pod(w).startSidecar()),
          );
        });
        break;
      }
      case 'sidecar-freeze': {
        const ms = dur(100, 1500);
        end(ms);
        add(`SIGSTOP sidecar ${label} for ${Math.round(ms)} ms`, (w) => pod(w).freezeSidecar(ms));
        break;
      }
      case 'node-crash': {
        const restart = dur(500, 5000);
        end(restart + 4000);
        add(`node of ${label} crashes, restarts after ${Math.round(restart)} ms`, (w) => {
          if (w.region(region).lost) return;
          pod(w).nodeRestartDelayMs = restart;
          pod(w).node.exit('crash', false);
        });
        break;
      }
      case 'api-outage': {
        const ms = dur(1000, 15_000);
        end(ms);
        add(`${region} apiserver outage for ${Math.round(ms)} ms`, (w) => {
          if (w.region(region).lost) return;
          w.region(region).world.api.setDown(true);
          w.sim.at(
            w.sim.world,
            ms,
            () => !w.region(region).lost && w.region(region).world.api.setDown(false),
          );
        });
        break;
      }
      case 'api-partition': {
        const ms = dur(1000, 15_000);
        end(ms);
        add(`${label} partitioned from its apiserver for ${Math.round(ms)} ms`, (w) => {
          const api = w.region(region).world.api;
          api.setPartitioned(pod(w).spec.name, true);
          w.sim.at(w.sim.world, ms, () => api.setPartitioned(pod(w).spec.name, false));
        });
        break;
      }
      case 'health-flip': {
        const ms = dur(3000, 30_000);
        end(ms);
        add(`${region} unhealthy for ${Math.round(ms)} ms`, (w) => {
          w.region(region).healthy = false;
          w.sim.log(region, 'health probe fails');
          w.sim.at(w.sim.world, ms, () => {
            w.region(region).healthy = true;
            w.sim.log(region, 'health probe passes');
          });
        });
        break;
      }
      case 'forge-disabled': {
        const ms = dur(2000, 15_000);
        end(ms);
        add(`${region}: spec.forgeState=Disabled for ${Math.round(ms)} ms`, (w) => {
          const cr = w.region(region).world.cluster!;
          cr.setForgeState('Disabled');
          w.sim.at(w.sim.world, ms, () => cr.setForgeState('Priority-based'));
        });
        break;
      }
      case 'override-priority':
      case 'override-state': {
        const ms = dur(3000, 20_000);
        const expires = rng.chance(0.4);
        const force =
          kind === 'override-priority'
            ? { forcePriority: rng.int(1, 5) }
            : { forceState: rng.pick(['Enabled', 'Disabled'] as const) };
        end(ms);
        add(
          `${region}: override ${JSON.stringify(force)} ${expires ? `expiring after ${Math.round(ms)} ms` : `removed after ${Math.round(ms)} ms`}`,
          (w) => {
            const cr = w.region(region).world.cluster!;
            cr.patchSpec(`override ${JSON.stringify(force)}`, {
              override: {
                enabled: true,
                reason: 'simulated operator',
                ...force,
                ...(expires ? { expiresAt: wallIso(w.sim.now + ms) } : {}),
              },
            });
            if (!expires)
              w.sim.at(w.sim.world, ms, () => cr.patchSpec('override off', { override: { enabled: false } }));
          },
        );
        break;
      }
      case 'priority-edit': {
        const priority = rng.int(1, 4);
        add(`${region}: spec.priority=${priority}`, (w) =>
          w.region(region).world.cluster!.patchSpec(`spec.priority=${priority}`, { priority }),
        );
        break;
      }
      case 'region-loss': {
        const ms = dur(3000, 20_000);
        end(ms + 5000);
        add(`${region} LOST (pods, apiserver, etcd member) for ${Math.round(ms)} ms`, (w) => {
          w.loseRegion(region);
          w.sim.at(w.sim.world, ms, () => w.restoreRegion(region));
        });
        break;
      }
      case 'region-etcd-partition': {
        const ms = dur(2000, 25_000);
        const mode = rng.pick(['hang', 'drop-request'] as const);
        end(ms);
        add(`${region} cut off from the etcd majority (${mode}) for ${Math.round(ms)} ms`, (w) => {
          if (w.region(region).lost) return;
          w.partitionRegionFromEtcd(region, mode);
          w.sim.at(w.sim.world, ms, () => !w.region(region).lost && w.healRegionFromEtcd(region));
        });
        break;
      }
      case 'etcd-leader-transfer':
        add('etcd leadership transfer', (w) => w.etcd.transferLeadership());
        break;
      case 'etcd-member-crash': {
        const ms = dur(1000, 10_000);
        const leader = rng.chance(0.6);
        end(ms);
        add(`etcd ${leader ? 'leader' : 'member'} crashes, back after ${Math.round(ms)} ms`, (w) => {
          const candidates = w.etcd.members.filter(
            (m) => m.up && !w.regions.some((r) => r.lost && r.member === m.name),
          );
          const target = (leader ? w.etcd.leader : null) ?? w.sim.rng.pick(candidates);
          if (target === undefined || !target.up) return;
          w.etcd.setUp(target.name, false);
          w.sim.at(w.sim.world, ms, () => {
            if (!w.regions.some((r) => r.lost && r.member === target.name)) w.etcd.setUp(target.name, true);
          });
        });
        break;
      }
      case 'etcd-member-isolated': {
        const ms = dur(1000, 15_000);
        const leader = rng.chance(0.6);
        end(ms);
        add(`etcd ${leader ? 'leader' : 'member'} cut off from its peers for ${Math.round(ms)} ms`, (w) => {
          const target = (leader ? w.etcd.leader : null) ?? w.sim.rng.pick(w.etcd.members);
          if (target.isolated) return;
          w.etcd.setIsolated(target.name, true);
          w.sim.at(w.sim.world, ms, () => w.etcd.setIsolated(target.name, false));
        });
        break;
      }
      case 'etcd-quorum-loss': {
        const ms = dur(1000, 12_000);
        end(ms);
        add(`etcd quorum lost (two members cut off) for ${Math.round(ms)} ms`, (w) => {
          const cut = w.etcd.members.filter((m) => !m.isolated).slice(0, 2);
          for (const m of cut) w.etcd.setIsolated(m.name, true);
          w.sim.at(w.sim.world, ms, () => {
            for (const m of cut) w.etcd.setIsolated(m.name, false);
          });
        });
        break;
      }
      case 'etcd-link': {
        const ms = dur(1000, 10_000);
        const mode = rng.pick(['drop-request', 'drop-reply', 'hang'] as const);
        const all = rng.chance(0.5);
        end(ms);
        add(
          `${region}'s links to ${all ? 'every etcd member' : 'its own etcd member'}: ${mode} for ${Math.round(ms)} ms`,
          (w) => {
            const members = all ? w.etcd.members.map((m) => m.name) : [w.region(region).member];
            w.etcd.setRegionLinks(region, mode, members);
            w.sim.at(w.sim.world, ms, () => w.etcd.setRegionLinks(region, 'pass', members));
          },
        );
        break;
      }
    }
  }
  faults.sort((a, b) => a.atMs - b.atMs);
  return { faults, quietFromMs };
}

/** Draws a whole scenario from the seed: layout, start times, faults. */
export function randomRegionsScenario(sim: Sim, livenessBoundMs: number): RegionsScenario {
  const layout = randomLayout(sim);
  const faultsFrom = 12_000;
  const { faults, quietFromMs } = randomRegionsFaults(sim, layout, {
    fromMs: faultsFrom,
    toMs: faultsFrom + sim.rng.between(5000, 15_000),
  });
  return {
    name: 'random-regions',
    layout,
    quietFromMs,
    endMs: quietFromMs + livenessBoundMs + 5000,
    faults,
    checkLiveness: true,
  };
}

/** Runs a scenario on a world built from its layout; the invariant is checked throughout. */
export async function runRegionsScenario(
  world: RegionsWorld,
  scenario: RegionsScenario,
  seed: number,
  livenessBoundMs: number,
): Promise<RegionsRunResult> {
  const { sim } = world;
  const stackTraceLimit = Error.stackTraceLimit;
  if (!sim.verbose) Error.stackTraceLimit = 0;
  try {
    for (const region of world.regions)
      for (const pod of region.pods) {
        pod.node.sighupDelayMs = () => sim.rng.between(0, 1000);
        sim.at(sim.world, sim.rng.between(0, 2000), () => pod.startNode());
        sim.at(sim.world, sim.rng.between(0, 3000), () => pod.startSidecar());
      }
    for (const fault of scenario.faults)
      sim.at(sim.world, fault.atMs, () => {
        sim.log('FAULT', fault.what);
        fault.run(world);
      });
    if (scenario.checkLiveness)
      world.requireLivenessFrom(scenario.quietFromMs + livenessBoundMs, livenessBoundMs);
    await sim.run(scenario.endMs);
    for (const pod of world.pods()) if (pod.sidecar) sim.kill(pod.sidecar.owner);
    return {
      seed,
      scenario: scenario.name,
      violation: world.violation,
      timeline: sim.timeline,
      virtualMs: sim.now,
      faults: [
        `layout ${scenario.layout.regions.map((r) => `${r.name}(priority ${r.priority}, ${r.replicas} pod${r.replicas > 1 ? 's' : ''})`).join(' ')}`,
        ...scenario.faults.map((f) => `${(f.atMs / 1000).toFixed(3)}s ${f.what}`),
      ],
    };
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/** One seed of the `regions` profile. */
export async function runRegionsSeed(
  seed: number,
  compose: CrossRegionComposer | null,
  livenessBoundMs: number,
  verbose = false,
): Promise<RegionsRunResult> {
  const sim = new Sim(seed, verbose);
  const scenario = randomRegionsScenario(sim, livenessBoundMs);
  const world = new RegionsWorld(sim, scenario.layout, compose);
  return runRegionsScenario(world, scenario, seed, livenessBoundMs);
}

// -----------------------------------------------------------------------------------------------
// The real arbiter
// -----------------------------------------------------------------------------------------------

/**
 * The arbiter's settings in the simulation, scaled down with the sidecar's (defaults: TTL 10 s,
 * renew deadline 4 s, retry 1 s, hold-down 30 s): TTL 8 s, renew deadline 3 s, retry 1 s,
 * hold-down 5 s. They pass the arbiter's own timing check (TTL − RD ≥ revocation chain + etcd
 * election timeout + drift) with 971 ms to spare (whole seconds only; TTL 6 s / RD 2 s had 40 ms, but left too little per call), so the fencing margin is nearly as thin as the check
 * allows; etcd's election timeout stays the measured 1 s. RD − retry leaves 666 ms per etcd call
 * (a cross-region write here takes up to ~0.3 s; RD 2 s left 333 ms, and a slow write fenced a
 * healthy holder — seed 22).
 */
export const ARBITER_SETTINGS = {
  leaseTtlSeconds: 8,
  renewDeadlineSeconds: 3,
  retryPeriodSeconds: 1,
  holdDownMs: 5000,
} as const;

function simArbiterTiming(): ArbiterTiming {
  const budget = revocationBudget({
    leaseDurationSeconds: REGION_TIMING.leaseDurationSeconds,
    renewDeadlineSeconds: REGION_TIMING.renewDeadlineSeconds,
    sighupLatencyBoundMs: SIGHUP_LATENCY_BOUND_MS,
  });
  if (!budget.ok) throw new Error(budget.message);
  const timing = arbiterTiming({
    leaseTtlSeconds: ARBITER_SETTINGS.leaseTtlSeconds,
    renewDeadlineSeconds: ARBITER_SETTINGS.renewDeadlineSeconds,
    retryPeriodSeconds: ARBITER_SETTINGS.retryPeriodSeconds,
    etcdElectionTimeoutMs: ETCD_ELECTION_TIMEOUT_MS,
    revocationChainMs: budget.budget.chainMs,
  });
  if (!timing.ok) throw new Error(timing.problems.join('; '));
  return timing.timing;
}

/** Leases and keys of the pool: the lease name from the naming rules (network mainnet, pool "pool"). */
const LEASE_NAME = 'cardano-leader-mainnet-pool';

/**
 * A region's forge.config as the real config schema resolves it (global mode on, the timings
 * above); the schema itself checks the arbiter's fencing margin against the revocation chain.
 */
function regionConfig(region: string, priority: number): ResolvedConfig {
  return ForgeConfigSchema.parse({
    podName: 'pool-0',
    election: {
      leaseDurationSeconds: REGION_TIMING.leaseDurationSeconds,
      renewDeadlineSeconds: REGION_TIMING.renewDeadlineSeconds,
      retryPeriodSeconds: REGION_TIMING.retryPeriodSeconds,
    },
    node: { sighupLatencyBoundMs: SIGHUP_LATENCY_BOUND_MS },
    cluster: { enabled: true, region, priority, healthCheck: REGION_HEALTH_CHECK },
    etcdArbiter: {
      enabled: true,
      endpoints: ['http://etcd.invalid:2379'],
      leaseTtlSeconds: ARBITER_SETTINGS.leaseTtlSeconds,
      renewDeadlineSeconds: ARBITER_SETTINGS.renewDeadlineSeconds,
      retryPeriodSeconds: ARBITER_SETTINGS.retryPeriodSeconds,
      holdDownSeconds: ARBITER_SETTINGS.holdDownMs / 1000,
      etcdElectionTimeoutMs: ETCD_ELECTION_TIMEOUT_MS,
    },
  });
}

/**
 * Each pod's leadership as global mode assembles it: a thin mirror of plugins/etcd-arbiter/mode.ts
 * `selectCoordination` (which awaits the etcd3 client's creation; the mirror hands the model's
 * client over at once) — the same timing derivation, prefix, metrics and createGlobalCoordination.
 */
export const etcdArbiter: CrossRegionComposer = (local, context) => {
  const config = context.config;
  const a = config.etcdArbiter;
  const timing = arbiterTimingFromConfig(config);
  const clock = context.clock;
  const coordination = createGlobalCoordination(
    {
      kv: context.etcd,
      clock,
      logger: context.logger.child({ component: 'coordination' }),
      metrics: createArbiterMetrics(new Registry(), () => clock.wallNow().getTime() - clock.monotonicMs()),
      local,
      policy: context.cluster!,
      onStopped: () => context.etcd.close(),
    },
    {
      prefix: a.keyPrefix ?? defaultKeyPrefix(LEASE_NAME),
      region: a.region ?? config.cluster.region,
      ttlSeconds: a.leaseTtlSeconds,
      holdDownMs: a.holdDownSeconds * 1000,
      timing: timing,
      basePriority: config.cluster.priority,
      failureThreshold: config.cluster.healthCheck.failureThreshold,
    },
  );
  return { elector: coordination.elector, policy: coordination.policy };
};

/**
 * Liveness bound after the last fault in the regions profile: a region's local leader with a
 * ready node within the one-cluster bound (localLivenessBoundMs); a forger key left by a holder
 * that is gone expires TTL + one election timeout (a leader change re-arms it) + the lessor's
 * 500 ms check after its last renewal; the new holder sees it gone within two retry periods,
 * creates the key and waits the takeover grace (TTL + max(500 ms, 2ρ·TTL)); each of those steps is
 * bounded by three arbiter call timeouts.
 */
export const REGIONS_LIVENESS_BOUND_MS = (() => {
  const timing = simArbiterTiming();
  return (
    localLivenessBoundMs(REGION_TIMING) +
    timing.ttlMs +
    ETCD_ELECTION_TIMEOUT_MS +
    500 +
    2 * timing.retryPeriodMs +
    timing.ttlMs +
    Math.max(500, Math.ceil(0.02 * timing.ttlMs)) +
    3 * timing.callTimeoutMs
  );
})();

/** One seed of the `regions` profile with the real arbiter. */
export function runRegionsProfileSeed(seed: number, verbose = false): Promise<RegionsRunResult> {
  return runRegionsSeed(seed, etcdArbiter, REGIONS_LIVENESS_BOUND_MS, verbose);
}
