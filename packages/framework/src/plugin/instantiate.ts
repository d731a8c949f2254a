/**
 * Step 3 of loading plugins: create the checked plugins. Each instance gets its own child DI
 * container and PluginContext, and is registered on its kind's token in the host container, from
 * where the sidecar resolves it (plugins never see a container themselves).
 */
import type { Container } from '../di/container.js';
import type { Token } from '../di/token.js';
import { TOKENS } from '../di/tokens.js';
import type { PluginContext, PluginKind, PluginKindMap } from './define.js';
import { errorText, type PluginProblem, type PluginResult } from './problems.js';
import type { ResolvedPlugin } from './validate.js';

/** What the host provides to every plugin instance (the shared parts of a PluginContext). */
export interface PluginHost {
  readonly container: Container;
  readonly logger: PluginContext['logger'];
  readonly metrics: PluginContext['metrics'];
  readonly http: PluginContext['http'];
  readonly kube: PluginContext['kube'];
  readonly clock: PluginContext['clock'];
  readonly identity: PluginContext['identity'];
  readonly signal: AbortSignal;
}

/**
 * The plugin host of a container: its logger, metrics registry, HTTP dispatcher, kube config,
 * clock and identity are resolved from it, so overriding one of those tokens reaches every plugin.
 */
export function createPluginHost(container: Container, signal: AbortSignal): PluginHost {
  const kubeConfig = container.resolve(TOKENS.kubeConfigFactory);
  return {
    container,
    logger: container.resolve(TOKENS.logger),
    metrics: { registry: container.resolve(TOKENS.metricsRegistry) },
    http: { dispatcher: container.resolve(TOKENS.httpDispatcher) },
    kube: { config: kubeConfig },
    clock: container.resolve(TOKENS.clock),
    identity: container.resolve(TOKENS.identity),
    signal,
  };
}

export interface PluginInstance<K extends PluginKind = PluginKind> {
  readonly resolved: ResolvedPlugin<K>;
  readonly value: PluginKindMap[K];
  readonly container: Container;
}

const REQUIRED_METHODS: Readonly<Record<PluginKind, readonly string[]>> = {
  'health-probe': ['check'],
  'priority-strategy': ['compute'],
  'leader-elector': ['start', 'setCandidacy', 'snapshot', 'subscribe', 'release', 'stop'],
  'credential-provisioner': ['inspect', 'provision', 'revoke'],
};

const KIND_TOKENS: { readonly [K in PluginKind]: Token<PluginKindMap[K]> } = {
  'health-probe': TOKENS.healthProbes,
  'priority-strategy': TOKENS.priorityStrategy,
  'leader-elector': TOKENS.localLeaderElector,
  'credential-provisioner': TOKENS.credentialProvisioner,
};

/** The token instances of a plugin kind are registered on (and the sidecar resolves). */
export function pluginKindToken<K extends PluginKind>(kind: K): Token<PluginKindMap[K]> {
  return KIND_TOKENS[kind];
}

function missingMethods(value: unknown, kind: PluginKind): string[] {
  return REQUIRED_METHODS[kind].filter(
    (m) => typeof value !== 'object' || value === null || typeof Reflect.get(value, m) !== 'function',
  );
}

export function createPluginContext(host: PluginHost, resolved: ResolvedPlugin): PluginContext {
  return {
    configPath: resolved.configPath,
    instanceId: resolved.instanceId,
    logger: host.logger.child({ plugin: resolved.plugin.name, instance: resolved.instanceId }),
    metrics: host.metrics,
    http: host.http,
    kube: host.kube,
    clock: host.clock,
    identity: host.identity,
    signal: host.signal,
  };
}

/**
 * Creates the given plugins in order, each in its own child container with its own context, and
 * registers each instance on the host container under its kind's token. If any create() fails,
 * the instances already created are closed and every failure is returned.
 */
export async function instantiatePlugins<K extends PluginKind>(
  plugins: readonly ResolvedPlugin<K>[],
  host: PluginHost,
): Promise<PluginResult<PluginInstance<K>[]>> {
  const instances: PluginInstance<K>[] = [];
  const problems: PluginProblem[] = [];
  for (const resolved of plugins) {
    const child = host.container.createChild();
    const context = createPluginContext(host, resolved);
    child.registerValue(TOKENS.pluginContext, context);
    const problem = (message: string): PluginProblem => ({
      configPath: resolved.configPath,
      plugin: resolved.plugin.name,
      reason: 'CreateFailed',
      message,
    });
    try {
      const value = await resolved.plugin.create(context, resolved.options);
      const missing = missingMethods(value, resolved.kind);
      if (missing.length > 0) {
        problems.push(
          problem(`create() returned an object without ${missing.map((m) => `${m}()`).join(', ')}`),
        );
        await child.dispose();
        continue;
      }
      child.registerValue(pluginKindToken(resolved.kind), value);
      instances.push({ resolved, value, container: child });
    } catch (error) {
      problems.push(problem(`create() failed: ${errorText(error)}`));
      await child.dispose();
    }
  }
  if (problems.length > 0) {
    await closeInstances(instances);
    return { ok: false, problems };
  }
  for (const instance of instances)
    host.container.registerValue(pluginKindToken(instance.resolved.kind), instance.value);
  return { ok: true, value: instances };
}

/** Closes health probes (the only kind with close()) and disposes the per-instance containers, in reverse order. */
export async function closeInstances(instances: readonly PluginInstance[]): Promise<void> {
  for (const instance of [...instances].reverse()) {
    const close = Reflect.get(instance.value, 'close');
    try {
      if (typeof close === 'function') await close.call(instance.value);
    } catch {
      // best effort during shutdown; the lifecycle logs timeouts
    }
    await instance.container.dispose();
  }
}
