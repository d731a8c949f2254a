/**
 * Scenarios: a pool of pods, a fault schedule, and the run that checks the invariant.
 * `randomScenario` draws everything from the seed's one PRNG; named scenarios (defects.test.ts)
 * script their faults.
 */
import {
  SIGHUP_LATENCY_BOUND_MS,
  CLOCK_RATE_EPSILON,
  LIVENESS_BOUND_MS,
  World,
  type PodSpec,
  type SimPod,
  type Violation,
} from './world.ts';
import { formatTimeline, type TimelineEntry } from './sim.ts';

export interface FaultStep {
  readonly atMs: number;
  readonly what: string;
  run(world: World): void;
}

export interface Scenario {
  readonly name: string;
  readonly pods: readonly PodSpec[];
  /** When each pod's node and sidecar start (true ms). */
  readonly starts: readonly { readonly nodeAtMs: number; readonly sidecarAtMs: number }[];
  readonly faults: readonly FaultStep[];
  /** Every fault (and its recovery) is over by then. */
  readonly quietFromMs: number;
  readonly endMs: number;
  /** Check liveness after quietFromMs + LIVENESS_BOUND_MS (off for scenarios without an eligible node). */
  readonly checkLiveness: boolean;
  /** A scenario-specific requirement checked after the run (null = met). */
  readonly check?: (world: World) => string | null;
  /** Extra per-scenario setup (node SIGHUP latency and the like). */
  readonly setup?: (world: World) => void;
}

export interface RunResult {
  readonly seed: number;
  readonly scenario: string;
  readonly violation: Violation | null;
  readonly timeline: readonly TimelineEntry[];
  readonly virtualMs: number;
  readonly faults: readonly string[];
}

export type Profile = 'baseline' | 'full';

/** The sidecar's pods in a StatefulSet: same names, own node and disk each. */
export function podSpec(world: World, name: string, overrides: Partial<PodSpec> = {}): PodSpec {
  const rng = world.sim.rng;
  const handlerDelayMs = rng.between(20, 300);
  return {
    name,
    label: name,
    startAsNonProducing: true,
    node: { nonProducingFlag: true, handlerDelayMs, socketDelayMs: handlerDelayMs + rng.between(300, 3500) },
    clockRate: 1 + rng.between(-CLOCK_RATE_EPSILON, CLOCK_RATE_EPSILON),
    ...overrides,
  };
}

function pod(world: World, index: number): SimPod | undefined {
  return world.pods[index % world.pods.length];
}

/** Draws a scenario from the seed. Baseline: faults the design claims to handle; full: adds the issue-8 fault kinds. */
export function randomScenario(world: World, profile: Profile): Scenario {
  const rng = world.sim.rng;
  const podCount = rng.int(2, 3);
  const pods = Array.from({ length: podCount }, (_, i) => podSpec(world, `pool-${i}`));
  const starts = pods.map(() => ({ nodeAtMs: rng.between(0, 2000), sidecarAtMs: rng.between(0, 3000) }));
  const faultWindowEnd = rng.between(25_000, 45_000);
  const clusterManaged = profile === 'full' && rng.chance(0.5);
  const faults: FaultStep[] = [];
  let quietFromMs = 8000;
  const count = rng.int(1, 6);
  const kinds = [
    'sidecar-kill',
    'sidecar-term',
    'sidecar-freeze',
    'node-crash',
    'api-outage',
    'api-partition',
    'api-flaky',
    'watch-drop',
    'slow-fsync',
    ...(profile === 'full'
      ? [
          'duplicate-identity',
          'edit-holder',
          'edit-duration',
          'lease-delete',
          'target-readonly',
          'fs-eio',
          'slow-sighup',
          'hung-proc',
          'pid-reuse',
          'early-sighup-window',
        ]
      : []),
    ...(clusterManaged ? ['cluster-disable', 'cluster-delete'] : []),
  ];
  for (let i = 0; i < count; i++) {
    const atMs = rng.between(5000, faultWindowEnd);
    const kind = rng.pick(kinds);
    const target = rng.int(0, podCount - 1);
    const dur = (min: number, max: number): number => rng.between(min, max);
    const end = (ms: number): void => {
      quietFromMs = Math.max(quietFromMs, atMs + ms);
    };
    const label = pods[target]!.label;
    end(0); // an instantaneous fault (hand edit, dropped watch) ends when it happens
    switch (kind) {
      case 'sidecar-kill': {
        const restart = dur(500, 5000);
        end(restart);
        faults.push({
          atMs,
          what: `SIGKILL sidecar ${label}, restart after ${Math.round(restart)} ms`,
          run: (w) => {
            const p = pod(w, target)!;
            p.killSidecar();
            w.sim.at(w.sim.world, restart, () => p.startSidecar());
          },
        });
        break;
      }
      case 'sidecar-term': {
        const restart = dur(500, 5000);
        end(TIMING_TERM_MAX_MS + restart);
        faults.push({
          atMs,
          what: `SIGTERM sidecar ${label}, restart ${Math.round(restart)} ms after it exits`,
          run: (w) => {
            const p = pod(w, target)!;
            p.terminateSidecar(() => w.sim.at(w.sim.world, restart, () => p.startSidecar()));
          },
        });
        break;
      }
      case 'sidecar-freeze': {
        const ms = dur(100, 1500);
        end(ms);
        faults.push({
          atMs,
          what: `SIGSTOP sidecar ${label} for ${Math.round(ms)} ms`,
          run: (w) => pod(w, target)!.freezeSidecar(ms),
        });
        break;
      }
      case 'node-crash': {
        const restart = dur(500, 5000);
        end(restart + 4000);
        faults.push({
          atMs,
          what: `node of ${label} crashes (SIGKILL, socket left stale), restarts after ${Math.round(restart)} ms`,
          run: (w) => {
            const p = pod(w, target)!;
            p.nodeRestartDelayMs = restart;
            p.node.exit('crash', false);
          },
        });
        break;
      }
      case 'api-outage': {
        const ms = dur(1000, 15_000);
        end(ms);
        faults.push({
          atMs,
          what: `apiserver outage for ${Math.round(ms)} ms`,
          run: (w) => {
            w.api.setDown(true);
            w.sim.at(w.sim.world, ms, () => w.api.setDown(false));
          },
        });
        break;
      }
      case 'api-partition': {
        const ms = dur(1000, 15_000);
        end(ms);
        faults.push({
          atMs,
          what: `${label} partitioned from the apiserver for ${Math.round(ms)} ms`,
          run: (w) => {
            const name = pod(w, target)!.spec.name;
            w.api.setPartitioned(name, true);
            w.sim.at(w.sim.world, ms, () => w.api.setPartitioned(name, false));
          },
        });
        break;
      }
      case 'api-flaky': {
        const ms = dur(2000, 15_000);
        const faultsNow = {
          latencyMaxMs: dur(20, 1500),
          serverErrorRate: dur(0, 0.3),
          lostResponseRate: dur(0, 0.3),
        };
        end(ms);
        faults.push({
          atMs,
          what: `apiserver flaky for ${Math.round(ms)} ms (latency ≤ ${Math.round(faultsNow.latencyMaxMs)} ms, 5xx ${faultsNow.serverErrorRate.toFixed(2)}, lost responses ${faultsNow.lostResponseRate.toFixed(2)})`,
          run: (w) => {
            w.api.faults = faultsNow;
            w.sim.at(w.sim.world, ms, () => {
              w.api.faults = { latencyMaxMs: 20, serverErrorRate: 0, lostResponseRate: 0 };
              w.sim.log('apiserver', 'flakiness over');
            });
          },
        });
        break;
      }
      case 'watch-drop':
        faults.push({ atMs, what: 'apiserver drops every watch', run: (w) => w.api.dropWatches() });
        break;
      case 'slow-fsync': {
        const ms = dur(1000, 10_000);
        const delay = dur(50, 800);
        end(ms);
        faults.push({
          atMs,
          what: `fsync on ${label} takes ${Math.round(delay)} ms for ${Math.round(ms)} ms`,
          run: (w) => {
            const p = pod(w, target)!;
            p.fs.fsyncDelayMs = delay;
            w.sim.at(w.sim.world, ms, () => (p.fs.fsyncDelayMs = 0));
          },
        });
        break;
      }
      case 'duplicate-identity': {
        faults.push({
          atMs,
          what: `a second sidecar+node with POD_NAME=${pods[target]!.name} starts`,
          run: (w) => {
            // Labels (and so incarnation ids) stay unique when the fault repeats: two real processes never
            // draw the same UUID.
            const label = `${pods[target]!.name}-twin${w.pods.length}`;
            const twin = w.addPod(podSpec(w, pods[target]!.name, { label }));
            twin.startNode();
            twin.startSidecar();
          },
        });
        end(5000);
        break;
      }
      case 'edit-holder':
        faults.push({
          atMs,
          what: 'hand edit: holderIdentity set to another pod',
          run: (w) => {
            const holder = w.api.holder();
            // The identity another pod's running elector writes (pod name + incarnation id).
            const other =
              w.pods.map((p) => p.sidecar?.elector.identity ?? p.spec.name).find((n) => n !== holder) ??
              'someone-else';
            w.api.handEdit(`holderIdentity=${other}`, (spec) => {
              spec.holderIdentity = other;
            });
          },
        });
        break;
      case 'edit-duration':
        faults.push({
          atMs,
          what: 'hand edit: leaseDurationSeconds shortened to 1',
          run: (w) =>
            w.api.handEdit('leaseDurationSeconds=1', (spec) => void (spec.leaseDurationSeconds = 1)),
        });
        break;
      case 'lease-delete':
        faults.push({ atMs, what: 'hand delete of the Lease', run: (w) => w.api.handDelete() });
        break;
      case 'target-readonly':
      case 'fs-eio': {
        const ms = dur(2000, 20_000);
        const code = kind === 'target-readonly' ? 'EROFS' : rng.pick(['EIO', 'EACCES', 'ENOSPC'] as const);
        end(ms);
        faults.push({
          atMs,
          what: `${code} on ${label}'s credential targets for ${Math.round(ms)} ms`,
          run: (w) => {
            const p = pod(w, target)!;
            p.fs.targetFault = code;
            w.sim.at(w.sim.world, ms, () => (p.fs.targetFault = null));
          },
        });
        break;
      }
      case 'slow-sighup': {
        const ms = dur(2000, 20_000);
        const delay = dur(1000, 8000);
        end(ms + delay);
        faults.push({
          atMs,
          what: `node of ${label} takes ${Math.round(delay)} ms to act on SIGHUP for ${Math.round(ms)} ms`,
          run: (w) => {
            const p = pod(w, target)!;
            const normal = p.node.sighupDelayMs;
            p.node.sighupDelayMs = () => delay;
            w.sim.at(w.sim.world, ms, () => (p.node.sighupDelayMs = normal));
          },
        });
        break;
      }
      case 'hung-proc': {
        const ms = dur(2000, 15_000);
        end(ms + 30_000);
        faults.push({
          atMs,
          what: `/proc reads on ${label} hang (30 s each) for ${Math.round(ms)} ms`,
          run: (w) => {
            const p = pod(w, target)!;
            p.node.procHangMs = 30_000;
            w.sim.at(w.sim.world, ms, () => (p.node.procHangMs = 0));
          },
        });
        break;
      }
      case 'pid-reuse': {
        const restart = dur(500, 5000);
        end(restart + 4000);
        faults.push({
          atMs,
          what: `node of ${label} crashes, its PID goes to another process, restarts after ${Math.round(restart)} ms`,
          run: (w) => {
            const p = pod(w, target)!;
            p.node.reusePidOnExit = true;
            p.nodeRestartDelayMs = restart;
            p.node.exit('crash', false);
          },
        });
        break;
      }
      case 'cluster-disable': {
        const ms = dur(2000, 15_000);
        end(ms);
        faults.push({
          atMs,
          what: `operator sets spec.forgeState=Disabled for ${Math.round(ms)} ms, then Priority-based`,
          run: (w) => {
            w.cluster?.setForgeState('Disabled');
            w.sim.at(w.sim.world, ms, () => w.cluster?.setForgeState('Priority-based'));
          },
        });
        break;
      }
      case 'cluster-delete':
        end(5000);
        faults.push({
          atMs,
          what: 'operator deletes the CardanoForgeCluster',
          run: (w) => w.cluster?.delete(),
        });
        break;
      case 'early-sighup-window': {
        const restart = dur(500, 3000);
        end(restart + 8000);
        faults.push({
          atMs,
          what: `node of ${label} restarts and installs its SIGHUP handler only after its socket is up`,
          run: (w) => {
            const p = pod(w, target)!;
            p.nodeRestartDelayMs = restart;
            p.nextNodeStart = { ...p.nextNodeStart, handlerDelayMs: 3000, socketDelayMs: 500 };
            p.node.exit('crash', false);
          },
        });
        break;
      }
    }
  }
  faults.sort((a, b) => a.atMs - b.atMs);
  return {
    name: `random-${profile}`,
    pods,
    starts,
    faults,
    quietFromMs,
    endMs: quietFromMs + LIVENESS_BOUND_MS + 5000,
    checkLiveness: true,
    setup: (w) => {
      if (clusterManaged) w.enableClusterManagement();
      for (const p of w.pods) p.node.sighupDelayMs = () => w.sim.rng.between(0, SIGHUP_LATENCY_BOUND_MS);
    },
  };
}

/** A SIGTERM'd sidecar is gone after at most the termination grace period. */
const TIMING_TERM_MAX_MS = 30_000;

/** Runs a scenario on a world whose PRNG already drew it (or a scripted one). */
export async function runScenario(world: World, scenario: Scenario, seed: number): Promise<RunResult> {
  const { sim } = world;
  // Stack traces are most of the cost of the many AbortErrors and ENOENTs; a replay keeps them.
  const stackTraceLimit = Error.stackTraceLimit;
  if (!sim.verbose) Error.stackTraceLimit = 0;
  try {
    return await runScenarioNow(world, scenario, seed);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

async function runScenarioNow(world: World, scenario: Scenario, seed: number): Promise<RunResult> {
  const { sim } = world;
  for (const spec of scenario.pods) world.addPod(spec);
  scenario.setup?.(world);
  world.pods.forEach((p, i) => {
    const start = scenario.starts[i] ?? { nodeAtMs: 0, sidecarAtMs: 0 };
    sim.at(sim.world, start.nodeAtMs, () => p.startNode());
    sim.at(sim.world, start.sidecarAtMs, () => p.startSidecar());
  });
  for (const fault of scenario.faults)
    sim.at(sim.world, fault.atMs, () => {
      sim.log('FAULT', fault.what);
      fault.run(world);
    });
  if (scenario.checkLiveness) world.requireLivenessFrom(scenario.quietFromMs + LIVENESS_BOUND_MS);
  await sim.run(scenario.endMs);
  const failed = world.violation === null ? (scenario.check?.(world) ?? null) : null;
  if (failed !== null) world.violation = { kind: 'requirement', atMs: sim.now, message: failed };
  // Stop every task so nothing keeps the process busy.
  for (const p of world.pods) if (p.sidecar) sim.kill(p.sidecar.owner);
  return {
    seed,
    scenario: scenario.name,
    violation: world.violation,
    timeline: sim.timeline,
    virtualMs: sim.now,
    faults: scenario.faults.map((f) => `${(f.atMs / 1000).toFixed(3)}s ${f.what}`),
  };
}

export async function runSeed(seed: number, profile: Profile, verbose = false): Promise<RunResult> {
  const world = new World(seed, verbose);
  const scenario = randomScenario(world, profile);
  return runScenario(world, scenario, seed);
}

export function describeFailure(result: RunResult): string {
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
