/**
 * The sidecar's composition: which default part fills each DI token, built from the config. An
 * embedding program or a test registers its own value for a token first (`configure`), and the
 * default of that token is then never built; a seam token registered that way also replaces the
 * configured plugin of its kind (the plugin is not created).
 */
import type { ResolvedConfig } from '../config/schema.js';
import type { LeaderElector } from '../contracts/index.js';
import { createSystemClock } from '../core/clock.js';
import { revocationBudget, type RevocationBudget, type TimingCheck } from '../core/timing.js';
import { createRootContainer, type Container } from '../di/container.js';
import type { Token } from '../di/token.js';
import { TOKENS } from '../di/tokens.js';
import { createClusterManager, disabledClusterPolicy } from '../cluster/manager.js';
import { namesFromConfig } from '../cluster/naming.js';
import { eventRecorderComponent } from '../events/component.js';
import { createNodeController, slotReferenceFor, wallClockSlot } from '../node/index.js';
import { createLogger } from '../observability/logger.js';
import { createMetricsRegistry } from '../observability/metrics.js';
import type { PluginKind } from '../plugin/define.js';
import { createHttpDispatcher, createKubeConfigFactory, identityFromConfig } from '../plugin/host.js';
import { pluginKindToken } from '../plugin/instantiate.js';
import { leaderStatusWriter, sidecarHttpServer, type SidecarSettings } from './sidecar.js';

export interface SidecarContainerOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The framework version (metrics, status). */
  readonly version: string;
  /** Registers replacements before the defaults: one token replaces one part. */
  readonly configure?: ((container: Container) => void) | undefined;
}

export interface SidecarContainer {
  readonly container: Container;
  /** True when `configure` replaced the seam of this plugin kind: that plugin is not created. */
  replaced(kind: PluginKind): boolean;
}

/** The revocation budget of the config (core/timing.ts); config validation already checked it fits. */
export function sidecarTiming(config: ResolvedConfig): TimingCheck {
  return revocationBudget({
    leaseDurationSeconds: config.election.leaseDurationSeconds,
    renewDeadlineSeconds: config.election.renewDeadlineSeconds,
    sighupLatencyBoundMs: config.node.sighupLatencyBoundMs,
  });
}

/** How long a graceful stop may take: max(5 s, renewDeadline). */
export function shutdownDeadlineMs(config: ResolvedConfig): number {
  return Math.max(5000, config.election.renewDeadlineSeconds * 1000);
}

function budgetOf(config: ResolvedConfig): RevocationBudget {
  const timing = sidecarTiming(config);
  if (!timing.ok) throw new Error(`invalid configuration: ${timing.message}`);
  return timing.budget;
}

export function sidecarSettingsFromConfig(config: ResolvedConfig, version: string): SidecarSettings {
  const { callTimeoutMs, terminateGraceMs } = budgetOf(config);
  return {
    info: {
      podName: config.podName,
      namespace: config.namespace,
      version,
      network: config.pool.network,
      poolId: config.pool.id,
      poolTicker: config.pool.ticker,
      applicationType: config.pool.applicationType,
    },
    leader: {
      name: namesFromConfig(config).leaderName,
      group: config.crd.group,
      version: config.crd.version,
      plural: config.crd.leaderPlural,
    },
    // The resync period (SLEEP_INTERVAL, 5 s like the Python sidecar's loop): how soon a change on
    // the node is seen. Lease and policy changes tick at once and the fencing deadline has its own
    // wake, so no safety margin depends on it (docs/safety.md, rule F).
    intervalMs: config.loop.intervalSeconds * 1000,
    callTimeoutMs,
    shutdownDeadlineMs: shutdownDeadlineMs(config),
    socketWaitTimeoutMs: config.node.socketWaitTimeoutSeconds * 1000,
    decision: {
      startAsNonProducing: config.node.startAsNonProducing,
      disableSocketCheck: config.node.disableSocketCheck,
      // A SIGHUP is confirmed by the next observation after the node applied it.
      confirmTimeoutMs: config.node.sighupLatencyBoundMs + 2 * callTimeoutMs,
      handoverHoldDownMs: config.node.handoverHoldDownSeconds * 1000,
    },
    node: {
      metricsConfigured: config.node.metricsUrl !== undefined,
      sighupLatencyBoundMs: config.node.sighupLatencyBoundMs,
      terminateGraceMs,
    },
    http: { host: config.http.host, port: config.http.port },
  };
}

/**
 * The region's own elector (the configured leader-elector plugin). Global mode wraps it with the
 * etcd arbiter once at startup (`selectCoordination` in run.ts, which needs an async etcd client)
 * and registers the wrapper on the same token before the sidecar is assembled.
 */
export function chooseLeaderElector(_config: ResolvedConfig, container: Container): LeaderElector {
  return container.resolve(TOKENS.localLeaderElector);
}

/** Registers `factory` for `token` unless something (an override) already is. */
function registerDefault<T>(container: Container, token: Token<T>, factory: (c: Container) => T): void {
  if (!container.isRegistered(token)) container.registerFactory(token, factory);
}

/**
 * A root container holding the caller's replacements, then the defaults of every part of the
 * sidecar built from the config. Parts are built on first resolve, from the container, so a
 * replaced part (a fake clock, a fake node controller) is what every other part receives.
 */
export function createSidecarContainer(
  config: ResolvedConfig,
  options: SidecarContainerOptions,
): SidecarContainer {
  const container = createRootContainer();
  options.configure?.(container);
  const electorReplaced =
    container.isRegistered(TOKENS.leaderElector) || container.isRegistered(TOKENS.localLeaderElector);
  const replaced = new Set<PluginKind>(
    (['credential-provisioner', 'priority-strategy', 'health-probe'] as const).filter((kind) =>
      container.isRegistered(pluginKindToken(kind)),
    ),
  );
  if (electorReplaced) replaced.add('leader-elector');

  const fallback = <T>(token: Token<T>, factory: (c: Container) => T) =>
    registerDefault(container, token, factory);
  fallback(TOKENS.config, () => config);
  fallback(TOKENS.logger, () => createLogger({ level: config.log.level }));
  fallback(TOKENS.metricsRegistry, () => createMetricsRegistry());
  fallback(TOKENS.clock, () => createSystemClock());
  fallback(TOKENS.httpDispatcher, () => createHttpDispatcher());
  fallback(TOKENS.kubeConfigFactory, () => createKubeConfigFactory(options.env));
  fallback(TOKENS.identity, () => identityFromConfig(config));
  fallback(TOKENS.sidecarSettings, () => sidecarSettingsFromConfig(config, options.version));
  fallback(TOKENS.leaderElector, (c) => chooseLeaderElector(config, c));
  fallback(TOKENS.nodeController, (c) => nodeControllerFromConfig(config, c));
  fallback(TOKENS.clusterPolicy, (c) => clusterPolicyFromConfig(config, c));
  fallback(TOKENS.leaderStatus, (c) => leaderStatusWriter(c, c.resolve(TOKENS.kubeConfigFactory)()));
  fallback(TOKENS.httpServer, (c) => sidecarHttpServer(c));
  fallback(
    TOKENS.eventRecorder,
    (c) =>
      eventRecorderComponent(config, {
        clock: c.resolve(TOKENS.clock),
        logger: c.resolve(TOKENS.logger),
        kubeConfig: c.resolve(TOKENS.kubeConfigFactory)(),
        timeoutMs: budgetOf(config).callTimeoutMs,
        podUid: options.env.POD_UID,
      }).recorder,
  );
  return { container, replaced: (kind) => replaced.has(kind) };
}

function nodeControllerFromConfig(config: ResolvedConfig, c: Container) {
  const { callTimeoutMs } = budgetOf(config);
  const clock = c.resolve(TOKENS.clock);
  const logger = c.resolve(TOKENS.logger);
  // Tip gate: judge the node against the network's wall-clock slot when the network is known.
  const slotReference = slotReferenceFor(config.pool.network, config.node.slotReference);
  if (config.node.maxSlotLag !== undefined && slotReference === null)
    logger.warn(
      `tip gate for network "${config.pool.network}" has no slot reference (set NODE_SLOT_REFERENCE_SLOT/_UNIX); judging the node against its own progress only`,
    );
  return createNodeController(
    {
      logger: logger.child({ component: 'node' }),
      registry: c.resolve(TOKENS.metricsRegistry),
      clock,
      dispatcher: c.resolve(TOKENS.httpDispatcher),
      ...(slotReference
        ? { expectedSlot: () => wallClockSlot(slotReference, clock.wallNow().getTime()) }
        : {}),
    },
    {
      socketPath: config.node.socketPath,
      processName: config.node.processName,
      pidDiscovery: config.node.pidDiscovery,
      connectTimeoutMs: Math.max(1, Math.floor(Math.min(1000, callTimeoutMs / 2))),
      metricsTimeoutMs: Math.max(1, Math.floor(callTimeoutMs / 2)),
      requireServingSocket: !config.node.disableSocketCheck,
      ...(config.node.metricsUrl ? { metricsUrl: config.node.metricsUrl } : {}),
      ...(config.node.maxSlotLag !== undefined ? { maxSlotLag: config.node.maxSlotLag } : {}),
    },
  );
}

function clusterPolicyFromConfig(config: ResolvedConfig, c: Container) {
  if (!config.cluster.enabled) return { snapshot: () => disabledClusterPolicy() };
  return createClusterManager(
    {
      kubeConfig: c.resolve(TOKENS.kubeConfigFactory)(),
      clock: c.resolve(TOKENS.clock),
      logger: c.resolve(TOKENS.logger).child({ component: 'cluster' }),
      registry: c.resolve(TOKENS.metricsRegistry),
      priorityStrategy: c.resolve(TOKENS.priorityStrategy),
      healthProbes: c.resolveAll(TOKENS.healthProbes),
    },
    {
      namespace: config.namespace,
      names: namesFromConfig(config),
      podName: config.podName,
      pool: config.pool,
      region: config.cluster.region,
      environment: config.cluster.environment,
      basePriority: config.cluster.priority,
      applicationType: config.pool.applicationType,
      policyStaleAfterSeconds: config.cluster.policyStaleAfterSeconds,
      healthCheck: config.cluster.healthCheck,
      crd: { group: config.crd.group, version: config.crd.version },
    },
  );
}
