/**
 * One running sidecar: the reconciler (observe → decide → act), the CardanoLeader status writer,
 * metrics and the HTTP endpoints. `assembleSidecar` resolves every part from a DI container
 * (manager/assembly.ts registers the defaults from the config), so a test, an embedding program or
 * the deterministic simulation replaces one part by registering one token.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock, CredentialProvisioner, LeaderElector, NodeController } from '../contracts/index.js';
import type { DecisionConfig } from '../core/decide.js';
import { Reconciler, type PolicyFeed, type TickRecord } from '../core/reconciler.js';
import { createRootContainer, type Container } from '../di/container.js';
import { TOKENS } from '../di/tokens.js';
import { transitionsBetween, type EventRecorder } from '../events/index.js';
import { addMetricsRoute, createHttpServer, type HttpServer } from '../observability/http.js';
import { LeaderStatusWriter, type LeaderStatusReport } from './leader-status.js';
import { SidecarMetrics, type SidecarInfo } from './metrics.js';

export interface SidecarSettings {
  readonly info: SidecarInfo;
  readonly leader: {
    readonly name: string;
    readonly group: string;
    readonly version: string;
    readonly plural: string;
  };
  readonly intervalMs: number;
  readonly callTimeoutMs: number;
  readonly shutdownDeadlineMs: number;
  /** How long the node socket may stay absent before it is logged as a startup problem. */
  readonly socketWaitTimeoutMs: number;
  readonly decision: DecisionConfig;
  readonly node: {
    /** node.metricsUrl is set: the node's forging metric confirms what it loaded. */
    readonly metricsConfigured: boolean;
    readonly sighupLatencyBoundMs: number;
    readonly terminateGraceMs: number;
  };
  readonly http: { readonly host: string; readonly port: number };
}

/** The policy feed may also be the cluster manager, which wants to know about leadership. */
export interface SidecarPolicy extends PolicyFeed {
  start?(signal: AbortSignal): Promise<void>;
  stop?(): Promise<void>;
  setLocalLeader?(isLeader: boolean): void;
  reportLeadership?(report: {
    activeLeader: string;
    forgingEnabled: boolean;
    isLeader: boolean;
  }): Promise<void>;
}

/** Where the sidecar reports its leadership state (the CardanoLeader status). */
export interface LeaderStatusReporter {
  /** Never throws. */
  report(report: LeaderStatusReport): Promise<void>;
}

/** The parts of a sidecar, for callers that hold them directly (`startSidecar`). */
export interface SidecarParts {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly kubeConfig: KubeConfig;
  readonly elector: LeaderElector;
  readonly credentials: CredentialProvisioner;
  readonly node: NodeController;
  readonly policy: SidecarPolicy;
  /** Kubernetes Events on transitions (leadership, forging, health, handoff, failed revocation). */
  readonly events?: EventRecorder;
}

/** An assembled sidecar, not yet started. */
export interface Sidecar {
  readonly reconciler: Reconciler;
  readonly http: HttpServer;
  /** Listens, starts the policy feed, the elector (not a candidate yet) and the loop. */
  start(): Promise<{ host: string; port: number }>;
  /** Graceful shutdown; resolves true when credentials were withdrawn and the lease released in time. */
  stop(): Promise<boolean>;
}

export interface RunningSidecar {
  readonly reconciler: Reconciler;
  readonly http: HttpServer;
  readonly address: { host: string; port: number };
  /** Graceful shutdown; resolves true when credentials were withdrawn and the lease released in time. */
  stop(): Promise<boolean>;
}

/** The JSON the Python sidecar served on /startup-status (same keys). */
function startupStatus(ready: boolean, credentialsProvisioned: boolean, now: Date): Record<string, unknown> {
  return {
    status: ready ? 'ready' : 'not_ready',
    message: ready
      ? 'Startup credentials provisioned successfully'
      : 'Startup credentials not yet provisioned',
    credentials_provisioned: credentialsProvisioned,
    timestamp: now.toISOString().replace('Z', '+00:00'),
  };
}

const json = (status: number, body: unknown) => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** Registers parts held directly on a fresh container (each as its token). */
export function sidecarContainer(settings: SidecarSettings, parts: SidecarParts): Container {
  const container = createRootContainer()
    .registerValue(TOKENS.sidecarSettings, settings)
    .registerValue(TOKENS.clock, parts.clock)
    .registerValue(TOKENS.logger, parts.logger)
    .registerValue(TOKENS.metricsRegistry, parts.registry)
    .registerValue(TOKENS.leaderElector, parts.elector)
    .registerValue(TOKENS.credentialProvisioner, parts.credentials)
    .registerValue(TOKENS.nodeController, parts.node)
    .registerValue(TOKENS.clusterPolicy, parts.policy)
    .registerFactory(TOKENS.leaderStatus, (c) => leaderStatusWriter(c, parts.kubeConfig))
    .registerFactory(TOKENS.httpServer, (c) => sidecarHttpServer(c));
  if (parts.events) container.registerValue(TOKENS.eventRecorder, parts.events);
  return container;
}

/** The default CardanoLeader status writer of a container's settings and logger. */
export function leaderStatusWriter(container: Container, kubeConfig: KubeConfig): LeaderStatusReporter {
  const settings = container.resolve(TOKENS.sidecarSettings);
  return new LeaderStatusWriter(
    kubeConfig,
    {
      ...settings.leader,
      namespace: settings.info.namespace,
      podName: settings.info.podName,
      timeoutMs: settings.callTimeoutMs,
    },
    container.resolve(TOKENS.logger).child({ component: 'leader-status' }),
  );
}

/** The default HTTP server of a container's settings (routes are added by assembleSidecar). */
export function sidecarHttpServer(container: Container): HttpServer {
  const { http } = container.resolve(TOKENS.sidecarSettings);
  const logger = container.resolve(TOKENS.logger);
  return createHttpServer({
    host: http.host,
    port: http.port,
    onError: (error) => logger.error({ err: error }, 'HTTP handler failed'),
  });
}

/** Assembles and starts a sidecar from parts held directly. */
export async function startSidecar(settings: SidecarSettings, parts: SidecarParts): Promise<RunningSidecar> {
  const sidecar = assembleSidecar(sidecarContainer(settings, parts));
  const address = await sidecar.start();
  return { reconciler: sidecar.reconciler, http: sidecar.http, address, stop: () => sidecar.stop() };
}

/** Resolves every part of a sidecar from the container and wires them; nothing runs until start(). */
export function assembleSidecar(container: Container): Sidecar {
  const settings = container.resolve(TOKENS.sidecarSettings);
  const clock = container.resolve(TOKENS.clock);
  const logger = container.resolve(TOKENS.logger);
  const registry = container.resolve(TOKENS.metricsRegistry);
  const elector = container.resolve(TOKENS.leaderElector);
  const policy = container.resolve(TOKENS.clusterPolicy);
  const statusWriter = container.resolve(TOKENS.leaderStatus);
  const events = container.isRegistered(TOKENS.eventRecorder)
    ? container.resolve(TOKENS.eventRecorder)
    : undefined;
  const abort = new AbortController();
  const metrics = new SidecarMetrics(
    registry,
    {
      pod: settings.info.podName,
      network: settings.info.network,
      poolIdShort: settings.info.poolId ? settings.info.poolId.slice(0, 10) : 'unknown',
      application: settings.info.applicationType,
    },
    settings.info,
    settings.decision.startAsNonProducing,
  );
  let startupReady = false;
  let stateSince = clock.wallNow();
  let lastKey = '';
  // When start() ran: the socket-wait warning and the stall bound count from there.
  let startedAt = clock.monotonicMs();
  let socketWarned = false;
  let pendingStatus: Promise<void> = Promise.resolve();

  let previousTick: TickRecord | null = null;
  const onTick = async (tick: TickRecord): Promise<void> => {
    const { decision, observation } = tick;
    for (const event of transitionsBetween(previousTick, tick)) events?.record(event);
    previousTick = tick;
    metrics.record(tick, clock.wallNow());
    const provisioned = tick.results.some((r) => r.ok && r.action.type === 'provision');
    if (observation.credentials.presence === 'all' || provisioned || observation.phase === 'running')
      startupReady = true;
    if (
      !socketWarned &&
      observation.phase === 'starting' &&
      clock.monotonicMs() - startedAt > settings.socketWaitTimeoutMs
    ) {
      socketWarned = true;
      logger.warn(
        { socket: observation.node.socket },
        `node socket not up after ${settings.socketWaitTimeoutMs} ms; still waiting`,
      );
    }
    const key = JSON.stringify([
      decision.leader,
      decision.forge && tick.nodeLoaded.forging === true,
      decision.reason,
    ]);
    if (key !== lastKey) {
      lastKey = key;
      stateSince = clock.wallNow();
    }
    policy.setLocalLeader?.(decision.leader);
    // "Forging" for people and other pods means the node confirmed it, not that it was told to.
    const forgingConfirmed = decision.forge && tick.nodeLoaded.forging === true;
    // Status writes are off the fencing path: never block the next tick on the API server.
    pendingStatus = statusWriter.report({
      leader: decision.leader,
      forging: forgingConfirmed,
      reason: decision.reason,
      message: decision.message,
      transitions: observation.leadership.transitions,
      since: stateSince,
    });
    void policy
      .reportLeadership?.({
        activeLeader: decision.leader ? settings.info.podName : '',
        forgingEnabled: forgingConfirmed,
        isLeader: decision.leader,
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'cluster status not written'));
  };

  const reconciler = new Reconciler(
    {
      clock,
      logger: logger.child({ component: 'reconciler' }),
      node: container.resolve(TOKENS.nodeController),
      credentials: container.resolve(TOKENS.credentialProvisioner),
      elector,
      policy,
      onTick,
    },
    {
      intervalMs: settings.intervalMs,
      callTimeoutMs: settings.callTimeoutMs,
      config: settings.decision,
      ...settings.node,
    },
  );
  if (!settings.node.metricsConfigured)
    logger.warn(
      `node metrics are not configured (node.metricsUrl / NODE_METRICS_URL): the sidecar cannot confirm what the node has loaded and takes a delivered SIGHUP as applied after ${settings.node.sighupLatencyBoundMs} ms (an assumption); configure the node's Prometheus endpoint`,
    );

  const http = container.resolve(TOKENS.httpServer);
  addMetricsRoute(http, registry);
  http.route('GET', '/startup-status', () => {
    const presence = reconciler.current()?.observation.credentials.presence;
    return json(startupReady ? 200 : 503, startupStatus(startupReady, presence === 'all', clock.wallNow()));
  });
  // Liveness of the control loop: a stalled loop (no tick within a bound) is unhealthy (G28).
  const stallBoundMs = 3 * settings.intervalMs + 2 * settings.callTimeoutMs;
  const loopAlive = (): boolean => {
    const last = reconciler.lastTickAtMs();
    const reference = last ?? startedAt;
    return clock.monotonicMs() - reference <= stallBoundMs;
  };
  http.route('GET', '/health', () =>
    loopAlive()
      ? { status: 200, body: 'OK' }
      : { status: 503, body: `control loop stalled for more than ${stallBoundMs} ms` },
  );
  http.route('GET', '/readyz', () =>
    reconciler.lastTickAtMs() !== null && loopAlive()
      ? { status: 200, body: 'ready' }
      : { status: 503, body: 'not ready' },
  );
  http.route('GET', '/status', () => {
    const t = reconciler.current();
    if (!t) return json(503, { ready: false });
    return json(200, {
      pod: settings.info.podName,
      decision: t.decision,
      phase: t.observation.phase,
      leadership: t.observation.leadership,
      policy: t.observation.policy,
      node: t.observation.node,
      nodeLoaded: t.nodeLoaded,
      fault: t.observation.fault,
      credentialsUnrevocable: t.credentialsUnrevocable,
      // Presence and fingerprint only: never the key material.
      credentials: {
        presence: t.observation.credentials.presence,
        upToDate: t.observation.credentials.upToDate,
        sourcesValid: t.observation.credentials.sourcesValid,
        reason: t.observation.credentials.reason,
        message: t.observation.credentials.message,
      },
      results: t.results,
    });
  });

  let stopping: Promise<boolean> | null = null;
  return {
    reconciler,
    http,
    async start() {
      startedAt = clock.monotonicMs();
      const address = await http.listen();
      logger.info({ ...address }, 'HTTP server listening');
      await policy.start?.(abort.signal);
      // Not a candidate until the first decision says so: a pod whose node is not up must not take the lease.
      elector.setCandidacy(false, 'waiting for the first reconcile');
      await elector.start(abort.signal);
      reconciler.start();
      return address;
    },
    stop() {
      stopping ??= (async () => {
        logger.info('shutting down: revoking credentials, signalling the node, releasing the lease');
        const converged = await reconciler.shutdown(settings.shutdownDeadlineMs);
        if (!converged) logger.error('shutdown did not converge in time (see the last decision on /status)');
        const last = reconciler.current();
        if (last) await onTick(last);
        await pendingStatus;
        abort.abort(new Error('sidecar stopped'));
        await Promise.allSettled([elector.stop(), policy.stop?.()]);
        await http.close();
        return converged;
      })();
      return stopping;
    },
  };
}
