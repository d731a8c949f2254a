/**
 * The cluster manager: keeps this cluster's CardanoForgeCluster, turns its spec (plus health) into
 * a PolicySnapshot the decision loop reads, and reports back through `/status`. It only composes
 * the parts, each in its own file:
 *
 *  - cluster-object.ts   the object created when none exists;
 *  - policy-cache.ts     read/create, watch and periodic re-read of the object;
 *  - policy-snapshot.ts  the snapshot as a pure function of the cache, the time and health (fail closed);
 *  - health-loop.ts      health rounds on the lease holder;
 *  - status-writer.ts    status writes (leader only, and once more after stepping down);
 *  - cluster-metrics.ts  the metrics.
 *
 * Fail-closed rules (docs/cluster-policy.md): until the object has been read, when it cannot be
 * created, and when it has not been confirmed for `policyStaleAfterSeconds`, forging is not
 * allowed. Only the pod that holds the lease runs health probes and writes status, so followers
 * never overwrite the leader's view (G7, G13).
 */
import type { GlobalForgeView } from './global-status.js';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock, HealthProbe, PriorityStrategy } from '../contracts/index.js';
import { sleepUnlessAborted } from '../core/deadline.js';
import { buildClusterObject, networkOf, type ClusterObjectInput } from './cluster-object.js';
import { createClusterMetrics } from './cluster-metrics.js';
import { createKubeClusterGateway, type ClusterObject, type ClusterObjectGateway } from './gateway.js';
import { createHealthLoop } from './health-loop.js';
import { createPolicyCache } from './policy-cache.js';
import {
  evaluatePolicySnapshot,
  failuresForPolicy,
  notLoadedSnapshot,
  publishedFailures,
  healthView,
  type HealthState,
  type PolicySnapshot,
} from './policy-snapshot.js';
import { computeEffectivePolicy, readSpecHealthCheck, type EffectivePolicy } from './policy.js';
import { sameCanonicalJson } from './status.js';
import { createStatusWriter, type LeadershipReport } from './status-writer.js';

export { buildClusterObject, networkOf } from './cluster-object.js';
export { disabledClusterPolicy, type PolicySnapshot } from './policy-snapshot.js';
export type { LeadershipReport } from './status-writer.js';

export interface ClusterPolicySource {
  start(signal: AbortSignal): Promise<void>;
  snapshot(): PolicySnapshot;
  subscribe(listener: (snapshot: PolicySnapshot) => void): () => void;
  /** Whether this pod holds the lease: the health loop and status writes run only then. */
  setLocalLeader(isLeader: boolean): void;
  /** The decision loop's outcome; written to status (activeLeader, forgingEnabled) only by the leader. */
  reportLeadership(report: LeadershipReport): Promise<void>;
  /** Global mode: the cross-region arbiter's view (status.globalArbiter; forge_enabled only where it forges). */
  reportGlobal?(view: GlobalForgeView): void;
  stop(): Promise<void>;
}

export interface ClusterManagerDeps {
  readonly kubeConfig: KubeConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly priorityStrategy: PriorityStrategy;
  readonly healthProbes: readonly HealthProbe[];
  /** Replaces the Kubernetes gateway (unit tests). */
  readonly gateway?: ClusterObjectGateway;
}

export interface ClusterManagerOptions extends ClusterObjectInput {
  readonly names: { readonly clusterName: string; readonly poolShort: string };
  readonly policyStaleAfterSeconds: number;
  readonly healthCheck: {
    readonly intervalSeconds: number;
    readonly timeoutSeconds: number;
    readonly failureThreshold: number;
    readonly recoveryThreshold: number;
  };
  readonly podName: string;
  /** Default min(30 s, policyStaleAfter / 3). */
  readonly resyncIntervalSeconds?: number;
  /** Default min(10 s, resync interval). */
  readonly requestTimeoutMs?: number;
  /** How often time-driven changes (staleness, override expiry) are re-evaluated. Default min(1 s, stale/10). */
  readonly tickMs?: number;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function createClusterManager(
  deps: ClusterManagerDeps,
  options: ClusterManagerOptions,
): ClusterPolicySource {
  const { clock, priorityStrategy, healthProbes } = deps;
  const log = deps.logger.child({ component: 'cluster-manager', cluster: options.names.clusterName });
  const name = options.names.clusterName;
  const staleAfterMs = options.policyStaleAfterSeconds * 1000;
  if (!(staleAfterMs > 0))
    throw new Error(`policyStaleAfterSeconds must be > 0, got ${options.policyStaleAfterSeconds}`);
  const resyncMs =
    (options.resyncIntervalSeconds ?? Math.min(30, options.policyStaleAfterSeconds / 3)) * 1000;
  const requestTimeoutMs = options.requestTimeoutMs ?? Math.min(10_000, resyncMs);
  const tickMs = options.tickMs ?? Math.min(1000, staleAfterMs / 10);
  const gateway =
    deps.gateway ??
    createKubeClusterGateway(deps.kubeConfig, {
      namespace: options.namespace,
      group: options.crd.group,
      version: options.crd.version,
      requestTimeoutMs,
    });
  const metrics = createClusterMetrics(deps.registry, {
    cluster: name,
    region: options.region,
    network: networkOf(options).name,
    poolId: options.names.poolShort === '' ? 'unknown' : options.names.poolShort,
  });

  const internal = new AbortController();
  let started = false;
  let localLeader = false;
  let leadership: LeadershipReport | null = null;
  /** Global mode: null until the arbiter reports (and always in cluster mode). */
  let globalView: GlobalForgeView | null = null;
  const listeners = new Set<(s: PolicySnapshot) => void>();
  /** What listeners were last told (compared as canonical JSON). */
  let lastNotified: unknown = undefined;
  const loops: Promise<void>[] = [];

  const cache = createPolicyCache(
    {
      clock,
      gateway,
      logger: log,
      signal: internal.signal,
      buildObject: () => buildClusterObject(options),
      onChange: () => refresh(),
    },
    { name, namespace: options.namespace, resyncMs },
  );
  const health = createHealthLoop({
    probes: healthProbes,
    clock,
    logger: log,
    metrics,
    settings: () => {
      const spec = readSpecHealthCheck(cache.view().object?.spec).healthCheck;
      return {
        intervalMs: spec.intervalMs ?? options.healthCheck.intervalSeconds * 1000,
        timeoutMs: spec.timeoutMs ?? options.healthCheck.timeoutSeconds * 1000,
        recoveryThreshold: spec.recoveryThreshold ?? options.healthCheck.recoveryThreshold,
      };
    },
    onRound: () => refresh(),
  });
  const writer = createStatusWriter(
    {
      clock,
      gateway,
      logger: log,
      onWritten: (object, atMs) => cache.confirm(object, atMs),
      onWriteAgain: () => refresh(),
    },
    {
      name,
      podName: options.podName,
      probesConfigured: healthProbes.length > 0,
      failureThreshold: options.healthCheck.failureThreshold,
    },
  );

  function healthState(): HealthState {
    return {
      probesConfigured: healthProbes.length > 0,
      localLeader,
      counters: health.counters(),
      lastRound: health.lastRound(),
    };
  }

  function policyOf(object: ClusterObject): EffectivePolicy {
    return computeEffectivePolicy({
      spec: object.spec,
      nowWall: clock.wallNow(),
      consecutiveFailures: failuresForPolicy(healthState(), object),
      priorityStrategy,
      defaults: {
        basePriority: options.basePriority,
        failureThreshold: options.healthCheck.failureThreshold,
      },
    });
  }

  function evaluate(): { snapshot: PolicySnapshot; policy: EffectivePolicy | null } {
    return evaluatePolicySnapshot({
      nowMs: clock.monotonicMs(),
      cache: cache.view(),
      policyStaleAfterSeconds: options.policyStaleAfterSeconds,
      health: healthState(),
      policyOf,
    });
  }

  let current: PolicySnapshot = notLoadedSnapshot(
    'PolicyNotLoaded',
    'the CardanoForgeCluster has not been read yet',
    null,
    healthView(healthState(), null),
  );

  function refresh(): void {
    const { snapshot, policy } = evaluate();
    current = snapshot;
    const forgesGlobally = globalView === null || globalView.forging;
    metrics.recordPolicy(
      snapshot.forgingAllowed && localLeader && forgesGlobally,
      snapshot.effectivePriority,
    );
    // A health round that changes nothing but its time is not a policy change (it would wake every
    // listener, and log, on every round).
    const { observedAtMs: _ignored, health: probed, ...rest } = snapshot;
    const { lastProbeTime: _time, ...healthShown } = probed;
    const shown = { ...rest, health: healthShown };
    if (!sameCanonicalJson(shown, lastNotified)) {
      lastNotified = shown;
      log.info(
        {
          forgingAllowed: snapshot.forgingAllowed,
          state: snapshot.effectiveState,
          priority: snapshot.effectivePriority,
          reason: snapshot.reason,
        },
        'cluster policy changed',
      );
      for (const listener of [...listeners]) {
        try {
          listener(snapshot);
        } catch (error) {
          log.error({ err: describe(error) }, 'policy listener threw');
        }
      }
    }
    const object = cache.view().object;
    if (policy !== null && started && !internal.signal.aborted && object !== null)
      void writer.write({
        object,
        snapshot,
        policy,
        localLeader,
        leadership,
        health: { counters: health.counters(), lastRound: health.lastRound() },
        global: globalView,
      });
  }

  function startHealthLoop(): void {
    if (!started || internal.signal.aborted) return;
    health.start(publishedFailures(cache.view().object));
  }

  function applyLeader(isLeader: boolean): void {
    if (isLeader === localLeader) return;
    localLeader = isLeader;
    if (isLeader) {
      writer.becameLeader();
      startHealthLoop();
    } else health.resign();
    refresh();
  }

  async function tickLoop(): Promise<void> {
    while (await sleepUnlessAborted(clock, tickMs, internal.signal)) refresh();
  }

  return {
    async start(signal) {
      if (started) throw new Error('cluster manager already started');
      started = true;
      signal.addEventListener('abort', () => internal.abort(signal.reason), { once: true });
      if (signal.aborted) internal.abort(signal.reason);
      await cache.ensure();
      loops.push(...cache.startLoops(), tickLoop());
      if (localLeader) startHealthLoop();
      refresh();
    },
    snapshot() {
      // Staleness and override expiry depend on time: evaluate now, not at the last event.
      return started ? evaluate().snapshot : current;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    setLocalLeader(isLeader) {
      applyLeader(isLeader);
    },
    reportGlobal(view) {
      if (sameCanonicalJson(view, globalView)) return;
      globalView = view;
      refresh();
    },
    async reportLeadership(report) {
      const changed = !sameCanonicalJson(report, leadership);
      leadership = report;
      if (report.isLeader !== localLeader) applyLeader(report.isLeader);
      else if (changed) refresh();
    },
    async stop() {
      internal.abort(new Error('cluster manager stopped'));
      health.stop();
      cache.closeWatch();
      // Probes belong to the plugin host, which closes them; the manager only stops using them.
      await Promise.allSettled([...loops, health.done(), cache.settled()]);
    },
  };
}
