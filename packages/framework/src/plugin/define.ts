/**
 * The plugin contract. A plugin package default-exports the object `definePlugin(...)` returns.
 * The host recognises it by brand and apiVersion (never by `instanceof`, which breaks when two
 * copies of the framework are installed), validates the options with the plugin's own Standard
 * Schema, and calls `create` with a context. Plugins never see the DI container.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Dispatcher } from 'undici';
import type {
  Clock,
  CredentialProvisioner,
  HealthProbe,
  LeaderElector,
  PriorityStrategy,
} from '../contracts/index.js';

export const PLUGIN_BRAND = 'cardano-forge.plugin' as const;
/** The contract version this framework implements. */
export const PLUGIN_API_VERSION = 'cardano-forge.dev/v1' as const;
export const SUPPORTED_PLUGIN_API_VERSIONS: readonly string[] = [PLUGIN_API_VERSION];

export interface PluginKindMap {
  'health-probe': HealthProbe;
  'priority-strategy': PriorityStrategy;
  'leader-elector': LeaderElector;
  'credential-provisioner': CredentialProvisioner;
}
export type PluginKind = keyof PluginKindMap;
export const PLUGIN_KINDS: readonly PluginKind[] = [
  'health-probe',
  'priority-strategy',
  'leader-elector',
  'credential-provisioner',
];

/** Facts about the sidecar's own identity that plugins may need. */
export interface ForgeIdentity {
  readonly podName: string;
  readonly namespace: string;
  readonly network: string;
  readonly poolId: string;
  readonly region: string;
}

/** Everything a plugin instance gets from the host. */
export interface PluginContext {
  /** The config path this instance was created from, e.g. `plugins.health[1]`. */
  readonly configPath: string;
  /** Unique id of this instance (the `id` from config, or the plugin name). */
  readonly instanceId: string;
  /** A child logger bound to the plugin name and instance id. */
  readonly logger: Logger;
  /** The host's registry (one per manager instance). Use `metrics.register` helpers or pass
   * `registers: [ctx.metrics.registry]` to prom-client constructors. */
  readonly metrics: { readonly registry: Registry };
  /** A shared undici dispatcher for HTTP plugins (connection pooling, timeouts). */
  readonly http: { readonly dispatcher: Dispatcher };
  /** The Kubernetes client configuration of the local cluster (in-cluster or KUBECONFIG). */
  readonly kube: { config(): KubeConfig };
  readonly clock: Clock;
  readonly identity: ForgeIdentity;
  /** Fires when the manager shuts down. */
  readonly signal: AbortSignal;
}

export interface PluginDefinition<K extends PluginKind, Options> {
  readonly kind: K;
  /** The npm package name (or a built-in name such as `kubernetes-lease`). */
  readonly name: string;
  readonly version: string;
  readonly description?: string;
  /** A Standard Schema (zod 4, valibot, arktype...) for the options. Defaults apply here. */
  readonly optionsSchema: StandardSchemaV1<unknown, Options>;
  create(context: PluginContext, options: Options): PluginKindMap[K] | Promise<PluginKindMap[K]>;
}

export interface ForgePlugin<K extends PluginKind = PluginKind, Options = unknown> extends PluginDefinition<
  K,
  Options
> {
  readonly $$type: typeof PLUGIN_BRAND;
  readonly apiVersion: string;
}

/** Brands a plugin definition so the host can recognise it. */
export function definePlugin<K extends PluginKind, Options>(
  definition: PluginDefinition<K, Options>,
): ForgePlugin<K, Options> {
  return Object.freeze({ $$type: PLUGIN_BRAND, apiVersion: PLUGIN_API_VERSION, ...definition });
}

/** Narrow check used by the loader; reports what is wrong rather than a boolean. */
export function pluginShapeProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return ['is not an object'];
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  if (v.$$type !== PLUGIN_BRAND)
    problems.push(
      `is not a cardano-forge plugin (missing brand "${PLUGIN_BRAND}"; was it made with definePlugin?)`,
    );
  if (typeof v.apiVersion !== 'string') problems.push('has no apiVersion');
  if (typeof v.kind !== 'string' || !(PLUGIN_KINDS as readonly string[]).includes(v.kind))
    problems.push(`has unknown kind ${JSON.stringify(v.kind)} (expected one of ${PLUGIN_KINDS.join(', ')})`);
  if (typeof v.name !== 'string' || v.name === '') problems.push('has no name');
  if (typeof v.version !== 'string') problems.push('has no version');
  if (typeof v.create !== 'function') problems.push('has no create() function');
  const schema = v.optionsSchema as { '~standard'?: { validate?: unknown } } | undefined;
  if (typeof schema?.['~standard']?.validate !== 'function')
    problems.push('has no Standard Schema optionsSchema');
  return problems;
}
