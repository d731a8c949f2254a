/**
 * `forge-manager run`: resolves names and plugins from the config, assembles the sidecar from the
 * DI container (manager/assembly.ts: one token per part, replaceable through `configure`), starts
 * it and shuts it down on SIGTERM/SIGINT: revoke → signal → release → exit.
 */
import { installProcessHandlers } from './process-handlers.js';
import type { ResolvedConfig } from '../config/schema.js';
import type { Container } from '../di/container.js';
import { Lifecycle } from '../di/lifecycle.js';
import { TOKENS } from '../di/tokens.js';
import type { ForgePlugin } from '../plugin/define.js';
import { createPluginHost } from '../plugin/instantiate.js';
import { closeInstances, formatPluginProblem, instantiatePlugins, resolvePlugins } from '../plugin/loader.js';
import { frameworkVersion } from '../plugin/package-info.js';
import { builtinDefaultOptions } from '../plugins/builtin-options.js';
import { namesFromConfig, validateNetwork } from '../cluster/naming.js';
import { failSafeRevoke, failSafeTargetsFromConfig, stopLoopThenFailClosed } from './fail-safe.js';
import {
  createSidecarContainer,
  shutdownDeadlineMs as shutdownDeadlineOf,
  sidecarTiming,
} from './assembly.js';
import { assembleSidecar } from './sidecar.js';
import { kesMonitorComponent } from '../kes/component.js';
import { selectCoordination } from '../plugins/etcd-arbiter/mode.js';

export interface RunManagerOptions {
  readonly builtins: Record<string, ForgePlugin>;
  /** --plugin-root / FORGE_PLUGIN_ROOT; undefined = the framework's install location. */
  readonly pluginRoot?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the manager should stop (default: SIGTERM or SIGINT). */
  readonly stopSignal?: Promise<string>;
  /**
   * Replaces parts of the sidecar before it is assembled: register a value (or factory) for a
   * token of `TOKENS` (e.g. `TOKENS.nodeController`) and the default of that token is not built.
   */
  readonly configure?: ((container: Container) => void) | undefined;
}

export async function runManager(config: ResolvedConfig, options: RunManagerOptions): Promise<number> {
  const version = frameworkVersion();
  const { container, replaced } = createSidecarContainer(config, {
    env: options.env,
    version,
    configure: options.configure,
  });
  const logger = container.resolve(TOKENS.logger);
  const shutdownDeadlineMs = shutdownDeadlineOf(config);
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
  // Listening from the start: a SIGTERM while plugins are created still ends in a clean stop.
  const handlers = installProcessHandlers({ onFatal, stopOnSignals: options.stopSignal === undefined });
  const stopSignal: Promise<string> = options.stopSignal ?? handlers.stopRequested;
  try {
    return await runAssembled();
  } finally {
    handlers.dispose();
  }

  async function runAssembled(): Promise<number> {
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

    // The built-ins take their options from the config sections: kubernetes-lease gets the
    // computed lease name (the Python sidecar computed it and ignored it, G12), the one logged above.
    const resolved = await resolvePlugins(config, {
      builtins: options.builtins,
      root: options.pluginRoot,
      builtinOptions: builtinDefaultOptions,
    });
    if (!resolved.ok) {
      for (const problem of resolved.problems) logger.fatal(formatPluginProblem(problem));
      return failClosed(1);
    }
    // One budget for the whole revocation chain inside the fencing margin LD − RD (core/timing.ts);
    // config validation already rejected a combination where it does not fit.
    const timing = sidecarTiming(config);
    if (!timing.ok) {
      logger.fatal(`invalid configuration: ${timing.message}`);
      return failClosed(1);
    }

    // Each plugin instance is registered on its kind's token, from where the sidecar resolves it;
    // a kind whose token the caller replaced is not created.
    const abort = new AbortController();
    const plugins = resolved.value;
    const created = await instantiatePlugins(
      [plugins.leaderElector, plugins.credentialProvisioner, plugins.priority, ...plugins.health].filter(
        (p) => !replaced(p.kind),
      ),
      createPluginHost(container, abort.signal),
    );
    if (!created.ok) {
      for (const problem of created.problems) logger.fatal(formatPluginProblem(problem));
      return failClosed(1);
    }
    const instances = created.value;

    // Cluster mode (the Lease alone, no etcd) or global mode (the Lease AND the etcd forger key),
    // chosen once here: global mode wraps the elector and the policy the container built.
    try {
      const coordination = await selectCoordination(config, {
        elector: container.resolve(TOKENS.leaderElector),
        policy: container.resolve(TOKENS.clusterPolicy),
        clock: container.resolve(TOKENS.clock),
        logger: logger.child({ component: 'coordination' }),
        registry: container.resolve(TOKENS.metricsRegistry),
        leaseName: names.leaseName,
      });
      if (coordination.mode === 'global') {
        container.registerValue(TOKENS.leaderElector, coordination.elector);
        container.registerValue(TOKENS.clusterPolicy, coordination.policy);
      }
    } catch (error) {
      logger.fatal({ err: error }, `cross-region arbiter could not start: ${(error as Error).message}`);
      await closeInstances(instances);
      return failClosed(1);
    }

    let sidecar: ReturnType<typeof assembleSidecar>;
    try {
      sidecar = assembleSidecar(container);
    } catch (error) {
      logger.fatal({ err: error }, 'forge manager failed to assemble');
      await closeInstances(instances);
      return failClosed(1);
    }
    const kesMonitor = kesMonitorComponent(config, {
      clock: container.resolve(TOKENS.clock),
      registry: container.resolve(TOKENS.metricsRegistry),
      logger,
    });
    const events = container.resolve(TOKENS.eventRecorder);
    const dispatcher = container.resolve(TOKENS.httpDispatcher);

    // Started in this order, stopped in reverse: the sidecar (revoke → signal → release → HTTP) goes
    // first, and the plugins and HTTP pool only after it, so nothing it needs disappears under it.
    let converged = false;
    let address = { host: '', port: 0 };
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
          await container.dispose();
        },
      })
      .add({ name: 'http-dispatcher', stop: () => dispatcher.close().catch(() => undefined) })
      // Its stop (after the sidecar's) writes what the rate limit held back.
      .add({ name: 'events', stop: () => events.flush() })
      .add({
        name: 'sidecar',
        stopTimeoutMs: shutdownDeadlineMs + 5000,
        start: async () => {
          address = await sidecar.start();
          kesMonitor?.attach(sidecar.http);
          stopLoop = () => sidecar.stop();
        },
        stop: async () => {
          converged = await sidecar.stop();
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
    logger.info({ converged }, 'forge manager stopped');
    return converged ? 0 : failClosed(1);
  }
}
