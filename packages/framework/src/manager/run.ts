/**
 * `forge-manager run`: the composition root. Resolves names and plugins from the config, builds
 * the parts (plugins through the loader, the node controller, the cluster policy), starts the
 * sidecar and shuts it down on SIGTERM/SIGINT: revoke → signal → release → exit.
 */
import 'reflect-metadata';
import { createRequire } from 'node:module';
import type { ResolvedConfig } from '../config/schema.js';
import type { ForgePlugin } from '../plugin/define.js';
import { createSystemClock } from '../core/clock.js';
import { createRootContainer } from '../di/index.js';
import { createLogger } from '../observability/logger.js';
import { createMetricsRegistry } from '../observability/metrics.js';
import { createHttpDispatcher, createKubeConfigFactory } from '../plugin/host.js';
import {
  builtinDefaultOptions,
  closeInstances,
  formatPluginProblem,
  instantiatePlugins,
  resolvePlugins,
  type PluginHost,
  type PluginInstance,
} from '../plugin/loader.js';
import { computeNames, validateNetwork } from '../cluster/naming.js';
import { createClusterManager, disabledClusterPolicy } from '../cluster/manager.js';
import { createNodeController } from '../node/index.js';
import { startSidecar, type SidecarPolicy } from './sidecar.js';

export interface RunManagerOptions {
  readonly builtins: Record<string, ForgePlugin>;
  /** --plugin-root / FORGE_PLUGIN_ROOT; undefined = the framework's install location. */
  readonly pluginRoot?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the manager should stop (default: SIGTERM or SIGINT). */
  readonly stopSignal?: Promise<string>;
}

function frameworkVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}

function waitForTermination(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

export async function runManager(config: ResolvedConfig, options: RunManagerOptions): Promise<number> {
  const logger = createLogger({ level: config.log.level });
  const stopSignal = options.stopSignal ?? waitForTermination();
  const version = frameworkVersion();

  if (config.cluster.enabled && config.pool.id) {
    const network = validateNetwork(config.pool.network, config.pool.networkMagic);
    if (!network.ok) {
      logger.fatal({ reason: network.reason }, `invalid configuration: ${network.message}`);
      return 1;
    }
  }
  const names = computeNames({
    network: config.pool.network,
    poolId: config.pool.id,
    region: config.cluster.region,
    identifier: config.cluster.identifier,
    leaseNameOverride: config.election.leaseName,
    leaderNameOverride: config.crd.leaderName,
  });
  for (const note of names.adjustments) logger.warn(note);
  logger.info({ lease: names.leaseName, cardanoLeader: names.leaderName, cluster: names.clusterName }, 'resource names');

  const resolved = await resolvePlugins(config, {
    builtins: options.builtins,
    root: options.pluginRoot,
    // The computed lease name is the one the elector uses (the Python sidecar computed it and ignored it, G12).
    builtinOptions: (name, cfg) => {
      const defaults = builtinDefaultOptions(name, cfg);
      return name === 'kubernetes-lease' ? { ...defaults, leaseName: names.leaseName } : defaults;
    },
  });
  if (!resolved.ok) {
    for (const problem of resolved.problems) logger.fatal(formatPluginProblem(problem));
    return 1;
  }

  const abort = new AbortController();
  const clock = createSystemClock();
  const registry = createMetricsRegistry();
  const kubeConfig = createKubeConfigFactory(options.env);
  const dispatcher = createHttpDispatcher();
  const host: PluginHost = {
    container: createRootContainer(),
    logger,
    metrics: { registry },
    http: { dispatcher },
    kube: { config: kubeConfig },
    clock,
    identity: {
      podName: config.podName,
      namespace: config.namespace,
      network: config.pool.network,
      poolId: config.pool.id,
      region: config.cluster.region,
    },
    signal: abort.signal,
  };
  const plugins = resolved.value;
  const created = await instantiatePlugins(
    [plugins.leaderElector, plugins.credentialProvisioner, plugins.priority, ...plugins.health] as never[],
    host,
  );
  if (!created.ok) {
    for (const problem of created.problems) logger.fatal(formatPluginProblem(problem));
    return 1;
  }
  const instances = created.value as PluginInstance[];
  const find = (path: string) => instances.find((i) => i.resolved.configPath === path)?.value;
  const elector = find('plugins.leaderElector') as import('../contracts/index.js').LeaderElector;
  const credentials = find('plugins.credentialProvisioner') as import('../contracts/index.js').CredentialProvisioner;
  const priority = find('plugins.priority') as import('../contracts/index.js').PriorityStrategy;
  const healthProbes = instances
    .filter((i) => i.resolved.kind === 'health-probe')
    .map((i) => i.value as import('../contracts/index.js').HealthProbe);

  // Local calls (socket, /proc, files, node metrics) are bounded well inside the fencing margin
  // leaseDuration − renewDeadline, so even a hung call cannot delay revocation past it.
  const marginMs = (config.election.leaseDurationSeconds - config.election.renewDeadlineSeconds) * 1000;
  const callTimeoutMs = Math.min(3000, Math.max(1000, marginMs / 2));
  const node = createNodeController(
    { logger: logger.child({ component: 'node' }), registry, clock, dispatcher },
    {
      socketPath: config.node.socketPath,
      processName: config.node.processName,
      pidDiscovery: config.node.pidDiscovery,
      connectTimeoutMs: Math.min(1000, callTimeoutMs / 2),
      metricsTimeoutMs: Math.max(500, callTimeoutMs / 2),
      ...(config.node.metricsUrl ? { metricsUrl: config.node.metricsUrl } : {}),
      ...(config.node.maxSlotLag !== undefined ? { maxSlotLag: config.node.maxSlotLag } : {}),
    },
  );

  const retryMs = config.election.retryPeriodSeconds * 1000;
  const policy: SidecarPolicy = config.cluster.enabled
    ? createClusterManager(
        {
          kubeConfig: kubeConfig(),
          clock,
          logger: logger.child({ component: 'cluster' }),
          registry,
          priorityStrategy: priority,
          healthProbes,
        },
        {
          namespace: config.namespace,
          names,
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
      )
    : { snapshot: () => disabledClusterPolicy() };

  const sidecar = await startSidecar(
    {
      info: {
        podName: config.podName,
        namespace: config.namespace,
        version,
        network: config.pool.network,
        poolId: config.pool.id,
        poolTicker: config.pool.ticker,
        applicationType: config.pool.applicationType,
      },
      leader: { name: names.leaderName, group: config.crd.group, version: config.crd.version, plural: config.crd.leaderPlural },
      // React at least as fast as the elector polls; SLEEP_INTERVAL only bounds the resync period.
      intervalMs: Math.min(config.loop.intervalSeconds * 1000, retryMs),
      callTimeoutMs,
      shutdownDeadlineMs: Math.max(5000, config.election.renewDeadlineSeconds * 1000),
      socketWaitTimeoutMs: config.node.socketWaitTimeoutSeconds * 1000,
      decision: { startAsNonProducing: config.node.startAsNonProducing, disableSocketCheck: config.node.disableSocketCheck },
      http: { host: config.http.host, port: config.http.port },
    },
    { clock, logger, registry, kubeConfig: kubeConfig(), elector, credentials, node, policy },
  );
  logger.info({ version, pod: config.podName, port: sidecar.address.port }, 'forge manager running');

  const signal = await stopSignal;
  logger.info({ signal }, 'stop requested');
  const converged = await sidecar.stop();
  abort.abort(new Error('manager stopped'));
  await closeInstances(instances);
  await dispatcher.close().catch(() => undefined);
  logger.info({ converged }, 'forge manager stopped');
  return converged ? 0 : 1;
}
