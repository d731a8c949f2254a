/**
 * `forge-manager run`: the composition root. Resolves names and plugins from the config, builds
 * the parts (plugins through the loader, the node controller, the cluster policy), starts the
 * sidecar and shuts it down on SIGTERM/SIGINT: revoke → signal → release → exit.
 */
import 'reflect-metadata';
import { createRequire } from 'node:module';
import type { ResolvedConfig } from '../config/schema.js';
import type {
  CredentialProvisioner,
  HealthProbe,
  LeaderElector,
  PriorityStrategy,
} from '../contracts/index.js';
import type { ForgePlugin } from '../plugin/define.js';
import { createSystemClock } from '../core/clock.js';
import { revocationBudget } from '../core/timing.js';
import { createRootContainer, Lifecycle } from '../di/index.js';
import { createLogger } from '../observability/logger.js';
import { createMetricsRegistry } from '../observability/metrics.js';
import { createHttpDispatcher, createKubeConfigFactory, identityFromConfig } from '../plugin/host.js';
import {
  closeInstances,
  formatPluginProblem,
  instantiatePlugins,
  resolvePlugins,
  type PluginHost,
  type PluginInstance,
} from '../plugin/loader.js';
import { namesFromConfig, validateNetwork } from '../cluster/naming.js';
import { createClusterManager, disabledClusterPolicy } from '../cluster/manager.js';
import { createNodeController, slotReferenceFor, wallClockSlot } from '../node/index.js';
import { failSafeRevoke, failSafeTargetsFromConfig, stopLoopThenFailClosed } from './fail-safe.js';
import { startSidecar, type SidecarPolicy } from './sidecar.js';
import { kesMonitorComponent } from '../kes/component.js';
import { eventRecorderComponent } from '../events/component.js';
import { selectCoordination } from '../plugins/etcd-arbiter/mode.js';

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
  const shutdownDeadlineMs = Math.max(5000, config.election.renewDeadlineSeconds * 1000);
  // Every way out that is not a clean shutdown first withdraws the credentials (fail-safe.ts).
  const failClosed = async (code: number): Promise<number> => {
    await failSafeRevoke(failSafeTargetsFromConfig(config), {
      logger: logger.child({ component: 'fail-safe' }),
    });
    return code;
  };
  let stopLoop: () => Promise<unknown> = async () => undefined;
  const onFatal = (error: unknown) => {
    logger.fatal(
      { err: error },
      'unexpected error; stopping the control loop, withdrawing credentials, exiting',
    );
    void stopLoopThenFailClosed(stopLoop, shutdownDeadlineMs + 1000, () => failClosed(70)).then((code) =>
      process.exit(code),
    );
  };
  process.once('uncaughtException', onFatal);
  process.once('unhandledRejection', onFatal);
  const stopSignal = options.stopSignal ?? waitForTermination();
  const version = frameworkVersion();

  if (config.cluster.enabled && config.pool.id) {
    const network = validateNetwork(config.pool.network, config.pool.networkMagic);
    if (!network.ok) {
      logger.fatal({ reason: network.reason }, `invalid configuration: ${network.message}`);
      return failClosed(1);
    }
  }
  const names = namesFromConfig(config);
  for (const note of names.adjustments) logger.warn(note);
  logger.info(
    { lease: names.leaseName, cardanoLeader: names.leaderName, cluster: names.clusterName },
    'resource names',
  );

  // The loader gives kubernetes-lease the computed lease name (the Python sidecar computed it and
  // ignored it, G12), the same one logged above.
  const resolved = await resolvePlugins(config, { builtins: options.builtins, root: options.pluginRoot });
  if (!resolved.ok) {
    for (const problem of resolved.problems) logger.fatal(formatPluginProblem(problem));
    return failClosed(1);
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
    identity: identityFromConfig(config),
    signal: abort.signal,
  };
  const plugins = resolved.value;
  const created = await instantiatePlugins(
    [plugins.leaderElector, plugins.credentialProvisioner, plugins.priority, ...plugins.health] as never[],
    host,
  );
  if (!created.ok) {
    for (const problem of created.problems) logger.fatal(formatPluginProblem(problem));
    return failClosed(1);
  }
  const instances = created.value as PluginInstance[];
  const find = (path: string) => instances.find((i) => i.resolved.configPath === path)?.value;
  const elector = find('plugins.leaderElector') as LeaderElector;
  const credentials = find('plugins.credentialProvisioner') as CredentialProvisioner;
  const priority = find('plugins.priority') as PriorityStrategy;
  const healthProbes = instances
    .filter((i) => i.resolved.kind === 'health-probe')
    .map((i) => i.value as HealthProbe);

  // One budget for the whole revocation chain inside the fencing margin LD − RD (core/timing.ts);
  // config validation already rejected a combination where it does not fit.
  const timing = revocationBudget({
    leaseDurationSeconds: config.election.leaseDurationSeconds,
    renewDeadlineSeconds: config.election.renewDeadlineSeconds,
    sighupLatencyBoundMs: config.node.sighupLatencyBoundMs,
  });
  if (!timing.ok) {
    logger.fatal(`invalid configuration: ${timing.message}`);
    return failClosed(1);
  }
  const { callTimeoutMs, terminateGraceMs } = timing.budget;
  // Tip gate: judge the node against the network's wall-clock slot when the network is known.
  const slotReference = slotReferenceFor(config.pool.network, config.node.slotReference);
  if (config.node.maxSlotLag !== undefined && slotReference === null)
    logger.warn(
      `tip gate for network "${config.pool.network}" has no slot reference (set NODE_SLOT_REFERENCE_SLOT/_UNIX); judging the node against its own progress only`,
    );
  const node = createNodeController(
    {
      logger: logger.child({ component: 'node' }),
      registry,
      clock,
      dispatcher,
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

  // Cluster mode (the Lease alone, no etcd) or global mode (the Lease AND the etcd forger key).
  let coordination: Awaited<ReturnType<typeof selectCoordination<SidecarPolicy>>>;
  try {
    coordination = await selectCoordination(config, {
      elector,
      policy,
      clock,
      logger: logger.child({ component: 'coordination' }),
      registry,
      leaseName: names.leaseName,
    });
  } catch (error) {
    logger.fatal({ err: error }, `cross-region arbiter could not start: ${(error as Error).message}`);
    return failClosed(1);
  }

  const kesMonitor = kesMonitorComponent(config, { clock, registry, logger });
  const events = eventRecorderComponent(config, {
    clock,
    logger,
    kubeConfig: kubeConfig(),
    timeoutMs: callTimeoutMs,
    podUid: options.env.POD_UID,
  });

  // Started in this order, stopped in reverse: the sidecar (revoke → signal → release → HTTP) goes
  // first, and the plugins and HTTP pool only after it, so nothing it needs disappears under it.
  let converged = false;
  let address = { host: '', port: 0 };
  let stopSidecar: () => Promise<boolean> = async () => true;
  const lifecycle = new Lifecycle({
    onStep: (phase, step) => {
      if (!step.ok) logger.error({ phase, component: step.name, reason: step.reason }, step.message);
    },
  });
  lifecycle
    .add({
      name: 'plugins',
      stop: async () => {
        await closeInstances(instances);
        await host.container.dispose();
      },
    })
    .add({ name: 'http-dispatcher', stop: () => dispatcher.close().catch(() => undefined) })
    .add(events)
    .add({
      name: 'sidecar',
      stopTimeoutMs: shutdownDeadlineMs + 5000,
      start: async () => {
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
            leader: {
              name: names.leaderName,
              group: config.crd.group,
              version: config.crd.version,
              plural: config.crd.leaderPlural,
            },
            // React at least as fast as the elector polls; SLEEP_INTERVAL only bounds the resync period.
            intervalMs: Math.min(config.loop.intervalSeconds * 1000, retryMs),
            callTimeoutMs,
            shutdownDeadlineMs,
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
          },
          {
            clock,
            logger,
            registry,
            kubeConfig: kubeConfig(),
            elector: coordination.elector,
            credentials,
            node,
            policy: coordination.policy,
            events: events.recorder,
          },
        );
        address = sidecar.address;
        kesMonitor?.attach(sidecar.http);
        stopSidecar = () => sidecar.stop();
        stopLoop = stopSidecar;
      },
      stop: async () => {
        converged = await stopSidecar();
      },
    });
  if (kesMonitor) lifecycle.add(kesMonitor);
  try {
    await lifecycle.start();
  } catch (error) {
    logger.fatal({ err: error }, 'forge manager failed to start');
    return failClosed(1);
  }
  logger.info({ version, pod: config.podName, port: address.port }, 'forge manager running');

  const signal = await stopSignal;
  logger.info({ signal }, 'stop requested');
  await lifecycle.stop();
  abort.abort(new Error('manager stopped'));
  process.off('uncaughtException', onFatal);
  process.off('unhandledRejection', onFatal);
  logger.info({ converged }, 'forge manager stopped');
  return converged ? 0 : failClosed(1);
}
