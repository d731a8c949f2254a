/**
 * One simulated pool: pods (a sidecar running the REAL reconciler, lease elector, files
 * provisioner and node controller, next to a modelled cardano-node and filesystem) sharing one
 * modelled API server, plus the invariant checker.
 *
 * The sidecar is the real one (manager/sidecar.ts `assembleSidecar`), resolved from a DI container
 * in which the simulation registers its parts: the real elector, provisioner and node controller on
 * the modelled API server, filesystem and node, the pod's virtual clock, and in place of the HTTP
 * server and the CardanoLeader status writer (real sockets, a real KubeConfig) inert stand-ins.
 * The fail-safe is the real failSafeRevoke through its seams (file removal, node controller, sleep,
 * clock).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { LEASE_NAME, NAMESPACE, SimApiServer } from './apiserver.ts';
import { SimClusterObjects } from './cluster.ts';
import { SimFilesystem, SOURCES, TARGETS } from './filesystem.ts';
import {
  assembleSidecar,
  createClusterManager,
  createRootContainer,
  createFilesCredentialProvisioner,
  createNodeController,
  failSafeRevoke,
  KubernetesLeaseElector,
  TOKENS,
  type AssembledSidecar,
  type ClusterPolicySource,
  type FailSafeTargets,
  type HttpServer,
  type HealthProbe,
  type LeaderElector,
  type PolicyFeed,
  type PriorityStrategy,
} from './framework.ts';
import type { Logger } from 'pino';
import { METRICS_URL, SIDECAR_PID, SimNode, SOCKET_PATH, type NodeStartOptions } from './node.ts';
import { Owner, podClock, simLogger, Sim, type PodClock } from './sim.ts';

/** Timing as the defaults of manager/run.ts with the lease defaults 15/10/2. */
export const TIMING = {
  leaseDurationSeconds: 15,
  renewDeadlineSeconds: 10,
  retryPeriodSeconds: 2,
  intervalMs: 2000,
  /** run.ts: core/timing.ts revocationBudget(LD 15 s, RD 10 s, SIGHUP bound 1000 ms). */
  callTimeoutMs: 937,
  /** The same budget's terminate grace (SIGTERM → SIGKILL, SIGKILL → gone). */
  terminateGraceMs: 969,
  /** run.ts: max(5000, RD). */
  shutdownDeadlineMs: 10_000,
  /** Kubernetes terminationGracePeriodSeconds (default 30 s), then SIGKILL. */
  terminationGraceMs: 30_000,
} as const;

/** Clock-rate bound (stated assumption): each pod's clock runs at 1 ± ε of true time. */
export const CLOCK_RATE_EPSILON = 0.001;

/** Longest time (true ms) a node takes to act on a SIGHUP in the baseline (stated assumption). */
export const SIGHUP_LATENCY_BOUND_MS = 1000;

/**
 * Liveness bound after the last fault: a standby may have to wait a full leaseDuration from the
 * last change it saw, plus the takeover grace (renewDeadline) when the lease went vacant without a
 * release, two jittered retry periods (2.2·RP each), two reconcile intervals, three call timeouts
 * (observe, provision, signal), the SIGHUP latency and a node start (≤ 4 s).
 */
export type SidecarTiming = { readonly [K in keyof typeof TIMING]: number };

/** The liveness bound for a pool of one cluster with these timings (see LIVENESS_BOUND_MS). */
export function localLivenessBoundMs(timing: SidecarTiming): number {
  return (
    timing.leaseDurationSeconds * 1000 +
    timing.renewDeadlineSeconds * 1000 +
    2 * 2.2 * timing.retryPeriodSeconds * 1000 +
    2 * timing.intervalMs +
    3 * timing.callTimeoutMs +
    SIGHUP_LATENCY_BOUND_MS +
    4000
  );
}

export const LIVENESS_BOUND_MS = localLivenessBoundMs(TIMING);

export interface PodSpec {
  /** POD_NAME (the lease identity); two pods may share it (duplicate identity). */
  readonly name: string;
  /** Unique label in the timeline. */
  readonly label: string;
  readonly startAsNonProducing: boolean;
  readonly node: NodeStartOptions;
  readonly clockRate: number;
}

export interface Violation {
  readonly kind: 'safety' | 'liveness' | 'requirement';
  readonly atMs: number;
  readonly message: string;
}

/** Lower number = preferred; health does not change it (no health probes in the simulation). */
const staticPriority: PriorityStrategy = {
  compute: (input) => ({
    effectivePriority: input.basePriority,
    reason: 'Static',
    message: `priority ${input.basePriority}`,
  }),
};

/** The sidecar's HTTP endpoints are not modelled: routes are registered and never served. */
function inertHttpServer(): HttpServer {
  const server: HttpServer = {
    route: () => server,
    listen: async () => ({ host: '127.0.0.1', port: 0 }),
    close: async () => undefined,
    address: () => null,
  };
  return server;
}

interface Sidecar {
  readonly owner: Owner;
  /** The region's Lease elector. */
  readonly elector: KubernetesLeaseElector;
  /** What the reconciler runs on: the Lease elector, or the cross-region composition around it. */
  readonly leadership: LeaderElector;
  readonly assembled: AssembledSidecar;
  stopping: boolean;
}

/** What a sidecar's parts see of the pod that runs them (for a composed elector). */
export interface SidecarContext {
  readonly pod: SimPod;
  readonly owner: Owner;
  readonly logger: Logger;
  readonly clock: PodClock;
  readonly cluster: ClusterPolicySource | null;
  readonly incarnation: number;
}

/**
 * One region of a multi-region pool (test/dst/regions.ts): its name and CardanoForgeCluster
 * priority, the priority strategy and health probes of its cluster manager, the cross-region
 * leadership composed around each pod's Lease elector, and the pool-wide invariant checker.
 */
export interface RegionSetup {
  readonly name: string;
  readonly basePriority: number;
  readonly priorityStrategy: PriorityStrategy;
  readonly healthProbes: (owner: () => Owner, pod: SimPod) => HealthProbe[];
  /**
   * The cross-region leadership around the pod's Lease elector: the elector the reconciler runs on
   * and the policy feed it reads (a handover makes forging not allowed), as the sidecar wiring does.
   */
  readonly composeLeadership: (
    local: KubernetesLeaseElector,
    context: SidecarContext,
  ) => { readonly elector: LeaderElector; readonly policy: PolicyFeed };
  /** The sidecar's timings (election, loop interval, call timeouts), validated like run.ts does. */
  readonly timing: SidecarTiming;
  /** The cluster manager's health loop settings (its defaults are 10 s × 3 failures). */
  readonly healthCheck?: {
    readonly intervalSeconds: number;
    readonly timeoutSeconds: number;
    readonly failureThreshold: number;
    readonly recoveryThreshold: number;
  };
  /** Every change of a node's loaded state, for the checker that spans the regions. */
  readonly onForging: (who: string, forging: boolean) => void;
}

export class SimPod {
  readonly fs: SimFilesystem;
  readonly node: SimNode;
  readonly clock: PodClock;
  sidecar: Sidecar | null = null;
  #incarnation = 0;
  /** Restart the node container when it exits (kubelet); the world turns it off to keep one down. */
  restartNode = true;
  nodeRestartDelayMs = 2000;
  /** Options of the next node (re)start. */
  nextNodeStart: NodeStartOptions;

  readonly world: World;
  readonly spec: PodSpec;

  constructor(world: World, spec: PodSpec) {
    this.world = world;
    this.spec = spec;
    const sim = world.sim;
    this.clock = podClock(sim, () => this.owner, spec.clockRate, sim.rng.between(-2000, 2000));
    this.fs = new SimFilesystem(sim, () => this.owner, spec.label);
    this.node = new SimNode(
      sim,
      spec.label,
      this.fs,
      () => this.owner,
      (who, forging) => world.onForging(who, forging),
    );
    this.nextNodeStart = spec.node;
    this.node.onExit = () => {
      if (!this.restartNode) return;
      sim.at(sim.world, this.nodeRestartDelayMs, () => this.startNode());
    };
  }

  /** The current sidecar incarnation (an idle placeholder when none runs). */
  get owner(): Owner {
    return this.sidecar?.owner ?? this.world.idleOwner;
  }

  startNode(): void {
    this.node.start(this.nextNodeStart);
  }

  /** The real sidecar on this pod's simulated parts; it starts from one of its own tasks. */
  startSidecar(): void {
    if (this.sidecar !== null) return;
    const { sim, api } = this.world;
    const incarnation = ++this.#incarnation;
    const owner = new Owner(`${this.spec.label}/sidecar#${incarnation}`);
    const logger = simLogger(sim, this.spec.label);
    const elector = new KubernetesLeaseElector(
      api.api(this.spec.name, () => owner),
      {
        clock: this.clock,
        logger,
        random: () => sim.rng.next(),
        // The default is a random UUID; the simulation numbers incarnations so a seed replays.
        incarnationId: `${this.spec.label}-${incarnation}`,
      },
      {
        namespace: NAMESPACE,
        identity: this.spec.name,
        leaseName: LEASE_NAME,
        leaseDurationSeconds: this.world.timing.leaseDurationSeconds,
        renewDeadlineSeconds: this.world.timing.renewDeadlineSeconds,
        retryPeriodSeconds: this.world.timing.retryPeriodSeconds,
      },
    );
    const credentials = createFilesCredentialProvisioner(
      { logger: logger.child({ component: 'credentials' }), fs: this.fs.ops() },
      { source: SOURCES, target: TARGETS },
    );
    const node = createNodeController(
      {
        logger: logger.child({ component: 'node' }),
        clock: this.clock,
        os: this.node.os(),
        ownPid: SIDECAR_PID,
      },
      {
        socketPath: SOCKET_PATH,
        metricsUrl: METRICS_URL,
        connectTimeoutMs: Math.floor(Math.min(1000, this.world.timing.callTimeoutMs / 2)),
        metricsTimeoutMs: Math.floor(this.world.timing.callTimeoutMs / 2),
      },
    );
    const region = this.world.region;
    const cluster =
      this.world.cluster === null
        ? null
        : createClusterManager(
            {
              kubeConfig: {} as KubeConfig,
              clock: this.clock,
              logger: logger.child({ component: 'cluster' }),
              registry: new Registry(),
              priorityStrategy: region?.priorityStrategy ?? staticPriority,
              healthProbes: region?.healthProbes(() => owner, this) ?? [],
              gateway: this.world.cluster.gateway(() => owner),
            },
            {
              namespace: NAMESPACE,
              names: { clusterName: 'pool-cluster', poolShort: 'pool' },
              podName: this.spec.name,
              pool: { id: 'pool' },
              network: { name: 'mainnet', magic: 764824073 },
              region: region?.name ?? 'eu-west-1',
              environment: 'production',
              basePriority: region?.basePriority ?? 100,
              applicationType: 'block-producer',
              policyStaleAfterSeconds: 60,
              healthCheck: region?.healthCheck ?? {
                intervalSeconds: 10,
                timeoutSeconds: 5,
                failureThreshold: 3,
                recoveryThreshold: 2,
              },
              crd: { group: 'cardano.io', version: 'v1' },
            },
          );
    const composed =
      region?.composeLeadership(elector, {
        pod: this,
        owner,
        logger,
        clock: this.clock,
        cluster,
        incarnation,
      }) ?? null;
    const leadership = composed?.elector ?? elector;
    const container = createRootContainer()
      .registerValue(TOKENS.sidecarSettings, {
        info: {
          podName: this.spec.name,
          namespace: NAMESPACE,
          version: 'sim',
          network: 'mainnet',
          poolId: 'pool',
          poolTicker: '',
          applicationType: 'block-producer',
        },
        leader: { name: 'leader', group: 'cardano.io', version: 'v1', plural: 'cardanoleaders' },
        intervalMs: this.world.timing.intervalMs,
        callTimeoutMs: this.world.timing.callTimeoutMs,
        shutdownDeadlineMs: this.world.timing.shutdownDeadlineMs,
        socketWaitTimeoutMs: 600_000,
        decision: {
          startAsNonProducing: this.spec.startAsNonProducing,
          disableSocketCheck: false,
          // As run.ts: a SIGHUP is confirmed by the next observation after the node applied it.
          confirmTimeoutMs: SIGHUP_LATENCY_BOUND_MS + 2 * this.world.timing.callTimeoutMs,
          handoverHoldDownMs: 30_000,
        },
        node: {
          metricsConfigured: true,
          sighupLatencyBoundMs: SIGHUP_LATENCY_BOUND_MS,
          terminateGraceMs: this.world.timing.terminateGraceMs,
        },
        http: { host: '127.0.0.1', port: 0 },
      })
      .registerValue(TOKENS.clock, this.clock)
      .registerValue(TOKENS.logger, logger)
      .registerValue(TOKENS.metricsRegistry, new Registry())
      .registerValue(TOKENS.leaderElector, leadership)
      .registerValue(TOKENS.credentialProvisioner, credentials)
      .registerValue(TOKENS.nodeController, node)
      .registerValue(
        TOKENS.clusterPolicy,
        composed?.policy ??
          cluster ?? {
            snapshot: () => ({
              forgingAllowed: true,
              reason: 'cluster_management_disabled',
              message: 'cluster management is disabled',
            }),
          },
      )
      .registerValue(TOKENS.leaderStatus, { report: async () => undefined })
      .registerValue(TOKENS.httpServer, inertHttpServer());
    const assembled = assembleSidecar(container);
    const sidecar: Sidecar = { owner, elector, leadership, assembled, stopping: false };
    this.sidecar = sidecar;
    sim.log(this.spec.label, `sidecar #${incarnation} started (POD_NAME=${this.spec.name})`);
    // Everything the sidecar does runs as its own tasks, so start it from one of its timers.
    sim.at(owner, 0, () => {
      void assembled.start();
    });
  }

  /** SIGKILL of the sidecar container: its tasks stop with no cleanup; the node keeps running. */
  killSidecar(): void {
    const sidecar = this.sidecar;
    if (sidecar === null) return;
    this.world.sim.kill(sidecar.owner);
    this.sidecar = null;
    this.world.sim.log(this.spec.label, 'sidecar SIGKILLed');
  }

  /**
   * SIGTERM of the sidecar: the graceful stop of sidecar.ts and, when that did not converge,
   * run.ts's fail-safe; then the process exits. Kubernetes
   * SIGKILLs it after the termination grace period.
   */
  terminateSidecar(then?: () => void): void {
    const sidecar = this.sidecar;
    if (sidecar === null || sidecar.stopping) return;
    sidecar.stopping = true;
    const { sim } = this.world;
    sim.log(this.spec.label, 'sidecar got SIGTERM');
    const cancelGrace = sim.at(sim.world, this.world.timing.terminationGraceMs, () => {
      if (this.sidecar === sidecar) {
        sim.log(this.spec.label, 'termination grace period over: SIGKILL');
        this.killSidecar();
        then?.();
      }
    });
    sim.at(sidecar.owner, 0, () => {
      void (async () => {
        const converged = await sidecar.assembled.stop();
        if (!converged) {
          sim.log(this.spec.label, 'shutdown did not converge: fail-safe');
          await this.failSafe();
        }
        if (this.sidecar !== sidecar) return;
        cancelGrace();
        sim.log(this.spec.label, `sidecar exited (${converged ? 0 : 1})`);
        this.world.sim.kill(sidecar.owner);
        this.sidecar = null;
        then?.();
      })();
    });
  }

  /**
   * The real fail-safe (manager/fail-safe.ts failSafeRevoke) on the pod's modelled filesystem and
   * node: remove every target, SIGHUP, confirm by the metric, stop the node as the last resort.
   */
  async failSafe(targets: FailSafeTargets = this.configuredTargets()): Promise<void> {
    const { sim } = this.world;
    const logger = simLogger(sim, this.spec.label).child({ component: 'fail-safe' });
    const outcome = await failSafeRevoke(targets, {
      logger,
      nodeFor: (socketPath, t) =>
        createNodeController(
          { logger, clock: this.clock, os: this.node.os(), ownPid: SIDECAR_PID },
          {
            socketPath,
            processName: t.processName,
            pidDiscovery: t.pidDiscovery,
            metricsTimeoutMs: 1000,
            ...(t.metricsUrl ? { metricsUrl: t.metricsUrl } : {}),
          },
        ),
      removeFile: (path) => this.fs.remove(path),
      clock: this.clock,
    });
    sim.log(this.spec.label, `fail-safe: ${outcome.message}`);
  }

  /** What failSafeTargetsFromConfig gives for this pod's (valid) configuration. */
  configuredTargets(): FailSafeTargets {
    return {
      credentialPaths: [TARGETS.kesKey, TARGETS.vrfKey, TARGETS.opCert],
      socketPaths: [SOCKET_PATH],
      processName: 'cardano-node',
      pidDiscovery: 'socket',
      metricsUrl: METRICS_URL,
    };
  }

  freezeSidecar(ms: number): void {
    const sidecar = this.sidecar;
    if (sidecar === null) return;
    const { sim } = this.world;
    sim.freeze(sidecar.owner);
    sim.log(this.spec.label, `sidecar frozen (SIGSTOP) for ${Math.round(ms)} ms`);
    sim.at(sim.world, ms, () => {
      sim.thaw(sidecar.owner);
      sim.log(this.spec.label, 'sidecar thawed (SIGCONT)');
    });
  }
}

export class World {
  readonly sim: Sim;
  /** Set when this world is one region of a multi-region pool (test/dst/regions.ts). */
  readonly region: RegionSetup | null;
  readonly timing: SidecarTiming;
  readonly api: SimApiServer;
  readonly pods: SimPod[] = [];
  readonly idleOwner = new Owner('idle');
  /** The CardanoForgeCluster, when cluster management is on. */
  cluster: SimClusterObjects | null = null;
  violation: Violation | null = null;
  /** From this true time on, one node must forge at every instant (liveness). */
  livenessFromMs = Infinity;

  /** One pool in one cluster, or (with `shared`) one region of a pool on a simulation it shares. */
  constructor(seed: number, verbose: boolean, shared?: { readonly sim: Sim; readonly region: RegionSetup }) {
    this.sim = shared?.sim ?? new Sim(seed, verbose);
    this.region = shared?.region ?? null;
    this.timing = shared?.region.timing ?? TIMING;
    this.api = new SimApiServer(
      this.sim,
      this.region === null ? 'apiserver' : `${this.region.name}/apiserver`,
    );
  }

  addPod(spec: PodSpec): SimPod {
    const pod = new SimPod(this, spec);
    this.pods.push(pod);
    return pod;
  }

  forgers(): string[] {
    return this.pods.filter((p) => p.node.forging).map((p) => p.spec.label);
  }

  #violate(kind: Violation['kind'], message: string): void {
    if (this.violation !== null) return;
    this.violation = { kind, atMs: this.sim.now, message };
    this.sim.log('INVARIANT', `VIOLATED (${kind}): ${message}`);
    this.sim.stop(message);
  }

  /** Scenario-specific watchers of the nodes' loaded state. */
  readonly forgingListeners: Array<(who: string, forging: boolean) => void> = [];

  requirementBroken(message: string): void {
    this.#violate('requirement', message);
  }

  /** Called on every change of what a node has loaded: the only instants the answer can change. */
  onForging(who: string, forging: boolean): void {
    if (this.region !== null) {
      this.region.onForging(who, forging);
      return;
    }
    for (const listener of this.forgingListeners) listener(who, forging);
    const forgers = this.forgers();
    if (forgers.length > 1)
      this.#violate('safety', `${forgers.length} nodes forge at once: ${forgers.join(', ')}`);
    else if (forgers.length === 0 && this.sim.now >= this.livenessFromMs)
      this.#violate('liveness', 'no node forges although faults stopped long enough ago');
  }

  enableClusterManagement(): SimClusterObjects {
    this.cluster ??= new SimClusterObjects(
      this.sim,
      this.region === null ? 'cluster-cr' : `${this.region.name}/cluster-cr`,
    );
    return this.cluster;
  }

  /** Liveness: from `atMs` on (quiet period start + bound) one node must forge at every instant. */
  requireLivenessFrom(atMs: number): void {
    this.livenessFromMs = atMs;
    this.sim.at(this.sim.world, atMs - this.sim.now, () => {
      if (this.forgers().length === 0)
        this.#violate(
          'liveness',
          `no node forges ${Math.round(LIVENESS_BOUND_MS / 1000)} s after the last fault (bound ${LIVENESS_BOUND_MS} ms)`,
        );
    });
  }
}
