/**
 * Resolves the plugin refs of a config into checked plugin objects with validated options
 * (`resolvePlugins`, no side effects: this is what `forge-manager validate` runs), then creates
 * them (`instantiatePlugins`), one child DI container and one PluginContext per instance.
 *
 * Package names resolve from the manager's install root (default: the framework's own package
 * directory, so plugins installed next to the framework are found whatever the working directory
 * is), never from the config file's directory: a ConfigMap mounted at /etc/forge has no node_modules.
 * Every problem is collected and reported with its config path and plugin name.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import semver from 'semver';
import { namesFromConfig } from '../cluster/naming.js';
import type { ResolvedConfig, PluginRef } from '../config/schema.js';
import { mergeLayers } from '../config/merge.js';
import type { Container } from '../di/container.js';
import { TOKENS } from '../di/tokens.js';
import {
  type ForgePlugin,
  type PluginContext,
  type PluginKind,
  type PluginKindMap,
  PLUGIN_BRAND,
  SUPPORTED_PLUGIN_API_VERSIONS,
  pluginShapeProblems,
} from './define.js';
import { discoverInstalledPlugins } from './discover.js';
import {
  FRAMEWORK_PACKAGE_NAME,
  findOwningPackageJson,
  frameworkPackageDir,
  frameworkVersion as readFrameworkVersion,
} from './package-info.js';

// ------------------------------------------------------------------------------------------------
// Types
// ------------------------------------------------------------------------------------------------

export type PluginProblemReason =
  | 'UnknownPlugin'
  | 'ImportFailed'
  | 'NotAPlugin'
  | 'UnsupportedApiVersion'
  | 'WrongKind'
  | 'IncompatibleFramework'
  | 'InvalidOptions'
  | 'DuplicateId'
  | 'CreateFailed';

export interface PluginProblem {
  readonly configPath: string;
  /** The package name, built-in name or plugin object name, as the user wrote it. */
  readonly plugin: string;
  readonly reason: PluginProblemReason;
  readonly message: string;
}

export function formatPluginProblem(problem: PluginProblem): string {
  return `${problem.configPath} (${JSON.stringify(problem.plugin)}): ${problem.message}`;
}

export class PluginLoadError extends Error {
  readonly problems: readonly PluginProblem[];
  constructor(problems: readonly PluginProblem[]) {
    super(`plugin errors:\n${problems.map((p) => `  - ${formatPluginProblem(p)}`).join('\n')}`);
    this.name = 'PluginLoadError';
    this.problems = problems;
  }
}

export interface ResolvedPlugin<K extends PluginKind = PluginKind> {
  readonly configPath: string;
  readonly kind: K;
  readonly instanceId: string;
  readonly source: 'builtin' | 'package' | 'object';
  readonly plugin: ForgePlugin<K>;
  /** Validated options (schema output, defaults applied). */
  readonly options: unknown;
  /** npm version of a package plugin (from its package.json), else the plugin's own `version`. */
  readonly version: string;
}

export interface ResolvedPlugins {
  readonly leaderElector: ResolvedPlugin<'leader-elector'>;
  readonly credentialProvisioner: ResolvedPlugin<'credential-provisioner'>;
  readonly priority: ResolvedPlugin<'priority-strategy'>;
  readonly health: readonly ResolvedPlugin<'health-probe'>[];
}

export type PluginResult<T> = { ok: true; value: T } | { ok: false; problems: PluginProblem[] };

/** A slot of the config that holds plugin refs. */
export interface PluginSlot {
  readonly configPath: string;
  readonly kind: PluginKind;
  readonly ref: PluginRef;
}

export interface ResolvePluginsOptions {
  /** Built-in plugins by the name a config uses for them, e.g. { 'kubernetes-lease': ..., files: ... }. */
  readonly builtins: Readonly<Record<string, ForgePlugin>>;
  /** Directory whose node_modules hold plugin packages. Default: the framework's package directory. */
  readonly root?: string | undefined;
  /** Default: the version in the framework's package.json. */
  readonly frameworkVersion?: string | undefined;
  /**
   * Options a built-in gets from the config sections before the ref's own options are merged over
   * them. Default: builtinDefaultOptions (the lead's code may pass computed names, e.g. leaseName).
   */
  readonly builtinOptions?:
    ((builtinName: string, config: ResolvedConfig) => Record<string, unknown> | undefined) | undefined;
}

// ------------------------------------------------------------------------------------------------
// Built-in option defaults
// ------------------------------------------------------------------------------------------------

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));
}

/**
 * Built-ins are configured from the config sections (and so from the Python env vars) by default.
 * An unset election.leaseName is computed by the naming rules (cluster/naming.ts), the same name
 * the cluster manager uses (the Python sidecar computed it and then ignored it, G12).
 */
export function builtinDefaultOptions(
  builtinName: string,
  config: ResolvedConfig,
): Record<string, unknown> | undefined {
  switch (builtinName) {
    case 'kubernetes-lease':
      return withoutUndefined({
        namespace: config.namespace,
        identity: config.podName,
        leaseName: namesFromConfig(config).leaseName,
        legacyLeaseName: namesFromConfig(config).legacyLeaseName ?? undefined,
        leaseDurationSeconds: config.election.leaseDurationSeconds,
        renewDeadlineSeconds: config.election.renewDeadlineSeconds,
        retryPeriodSeconds: config.election.retryPeriodSeconds,
      });
    case 'files':
      return { source: { ...config.credentials.source }, target: { ...config.credentials.target } };
    default:
      return undefined;
  }
}

// ------------------------------------------------------------------------------------------------
// Resolution
// ------------------------------------------------------------------------------------------------

export function pluginSlots(config: ResolvedConfig): PluginSlot[] {
  return [
    { configPath: 'plugins.leaderElector', kind: 'leader-elector', ref: config.plugins.leaderElector },
    {
      configPath: 'plugins.credentialProvisioner',
      kind: 'credential-provisioner',
      ref: config.plugins.credentialProvisioner,
    },
    { configPath: 'plugins.priority', kind: 'priority-strategy', ref: config.plugins.priority },
    ...config.plugins.health.map((ref, i): PluginSlot => ({
      configPath: `plugins.health[${i}]`,
      kind: 'health-probe',
      ref,
    })),
  ];
}

interface NormalizedRef {
  readonly use: string | ForgePlugin;
  readonly id?: string | undefined;
  readonly options?: unknown;
}

function normalizeRef(ref: PluginRef): NormalizedRef {
  if (typeof ref === 'string') return { use: ref };
  if ((ref as { $$type?: unknown }).$$type === PLUGIN_BRAND) return { use: ref as ForgePlugin };
  return ref as NormalizedRef;
}

function refLabel(use: unknown): string {
  if (typeof use === 'string') return use;
  const name = (use as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : '(plugin object)';
}

/** `module.default`, CJS `module.default.default`, or the module's only branded export. */
export function unwrapPluginModule(mod: unknown): unknown {
  let value = mod;
  for (let i = 0; i < 2; i++) {
    const inner = (value as { default?: unknown } | null)?.default;
    if (inner === undefined || inner === null) break;
    value = inner;
  }
  if (value === mod && typeof mod === 'object' && mod !== null) {
    const branded = Object.values(mod).filter(
      (v) => (v as { $$type?: unknown } | null)?.$$type === PLUGIN_BRAND,
    );
    if (branded.length === 1) return branded[0];
  }
  return value;
}

interface Located {
  readonly value: unknown;
  readonly source: ResolvedPlugin['source'];
  readonly builtinName?: string;
  readonly packageVersion?: string;
  readonly peerRange?: string | undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function locate(
  use: string | ForgePlugin,
  options: ResolvePluginsOptions,
  root: string,
  installed: () => string[],
): Promise<{ ok: true; located: Located } | { ok: false; reason: PluginProblemReason; message: string }> {
  if (typeof use !== 'string') {
    const builtinName = Object.entries(options.builtins).find(([, p]) => p === use)?.[0];
    return builtinName !== undefined
      ? { ok: true, located: { value: use, source: 'builtin', builtinName } }
      : { ok: true, located: { value: use, source: 'object' } };
  }
  const builtin = options.builtins[use];
  if (builtin !== undefined)
    return { ok: true, located: { value: builtin, source: 'builtin', builtinName: use } };

  const req = createRequire(path.join(root, 'package.json'));
  let file: string;
  try {
    file = req.resolve(use);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND') {
      const known = [...Object.keys(options.builtins), ...installed()];
      return {
        ok: false,
        reason: 'UnknownPlugin',
        message:
          `package not found from ${root}. Installed plugins: ${known.length > 0 ? known.join(', ') : '(none)'}. ` +
          `Install it next to the manager (npm install ${use}) or fix the name.`,
      };
    }
    return { ok: false, reason: 'ImportFailed', message: `cannot resolve: ${errorText(error)}` };
  }
  let mod: unknown;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (error) {
    return { ok: false, reason: 'ImportFailed', message: `cannot import ${file}: ${errorText(error)}` };
  }
  const owner = findOwningPackageJson(file, use);
  return {
    ok: true,
    located: {
      value: unwrapPluginModule(mod),
      source: 'package',
      ...(owner?.pkg.version ? { packageVersion: owner.pkg.version } : {}),
      peerRange: owner?.pkg.peerDependencies?.[FRAMEWORK_PACKAGE_NAME],
    },
  };
}

function issuePath(path: ReadonlyArray<PropertyKey | { key: PropertyKey }> | undefined): string {
  if (!path || path.length === 0) return '';
  return path.map((p) => String(typeof p === 'object' && p !== null ? p.key : p)).join('.');
}

async function resolveSlot(
  slot: PluginSlot,
  config: ResolvedConfig,
  options: ResolvePluginsOptions,
  root: string,
  hostVersion: string,
  installed: () => string[],
): Promise<PluginResult<ResolvedPlugin>> {
  const ref = normalizeRef(slot.ref);
  const label = refLabel(ref.use);
  const problem = (reason: PluginProblemReason, message: string): PluginProblem => ({
    configPath: slot.configPath,
    plugin: label,
    reason,
    message,
  });

  const found = await locate(ref.use, options, root, installed);
  if (!found.ok) return { ok: false, problems: [problem(found.reason, found.message)] };
  const { value, source } = found.located;

  const problems: PluginProblem[] = pluginShapeProblems(value).map((p) => problem('NotAPlugin', p));
  if (problems.length > 0) return { ok: false, problems };
  const plugin = value as ForgePlugin;

  if (!SUPPORTED_PLUGIN_API_VERSIONS.includes(plugin.apiVersion)) {
    problems.push(
      problem(
        'UnsupportedApiVersion',
        `apiVersion ${JSON.stringify(plugin.apiVersion)} is not supported by @cardano-forge/framework ${hostVersion} ` +
          `(supported: ${SUPPORTED_PLUGIN_API_VERSIONS.join(', ')})`,
      ),
    );
  }
  if (plugin.kind !== slot.kind) {
    problems.push(
      problem('WrongKind', `is a ${plugin.kind} plugin, but ${slot.configPath} needs a ${slot.kind}`),
    );
  }
  if (source === 'package') {
    const range = found.located.peerRange;
    if (range === undefined) {
      problems.push(
        problem(
          'IncompatibleFramework',
          `package.json declares no peerDependencies["${FRAMEWORK_PACKAGE_NAME}"]; a plugin must state the framework versions it supports`,
        ),
      );
    } else if (semver.validRange(range) === null) {
      problems.push(
        problem(
          'IncompatibleFramework',
          `peerDependencies["${FRAMEWORK_PACKAGE_NAME}"] ${JSON.stringify(range)} is not a valid semver range`,
        ),
      );
    } else if (!semver.satisfies(hostVersion, range, { includePrerelease: true })) {
      problems.push(
        problem(
          'IncompatibleFramework',
          `requires ${FRAMEWORK_PACKAGE_NAME} ${range}, but ${hostVersion} is installed`,
        ),
      );
    }
  }

  const defaults =
    found.located.builtinName !== undefined
      ? (options.builtinOptions ?? builtinDefaultOptions)(found.located.builtinName, config)
      : undefined;
  const rawOptions = defaults !== undefined ? mergeLayers(defaults, ref.options) : (ref.options ?? {});
  let validated: unknown;
  try {
    const result = await plugin.optionsSchema['~standard'].validate(rawOptions);
    if (result.issues) {
      for (const issue of result.issues) {
        const where = issuePath(issue.path);
        problems.push(
          problem(
            'InvalidOptions',
            where === '' ? `options: ${issue.message}` : `option "${where}": ${issue.message}`,
          ),
        );
      }
    } else validated = result.value;
  } catch (error) {
    problems.push(problem('InvalidOptions', `options schema threw: ${errorText(error)}`));
  }

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    value: {
      configPath: slot.configPath,
      kind: slot.kind,
      instanceId: ref.id ?? plugin.name,
      source,
      plugin,
      options: validated,
      version: found.located.packageVersion ?? plugin.version,
    },
  };
}

async function resolveSlots(
  config: ResolvedConfig,
  slots: readonly PluginSlot[],
  options: ResolvePluginsOptions,
): Promise<{ bySlot: Map<string, ResolvedPlugin>; problems: PluginProblem[] }> {
  const root = path.resolve(options.root ?? frameworkPackageDir());
  const hostVersion = options.frameworkVersion ?? readFrameworkVersion();
  let installedCache: string[] | undefined;
  const installed = (): string[] => (installedCache ??= discoverInstalledPlugins(root));

  const problems: PluginProblem[] = [];
  const bySlot = new Map<string, ResolvedPlugin>();
  // Sequential on purpose: problems come out in config order.
  for (const slot of slots) {
    const result = await resolveSlot(slot, config, options, root, hostVersion, installed);
    if (result.ok) bySlot.set(slot.configPath, result.value);
    else problems.push(...result.problems);
  }

  // Instance ids label metrics and status; two probes with one id would overwrite each other.
  const seen = new Map<string, string>();
  for (const slot of slots) {
    const resolved = bySlot.get(slot.configPath);
    if (!resolved) continue;
    const key = `${resolved.kind}/${resolved.instanceId}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({
        configPath: slot.configPath,
        plugin: refLabel(normalizeRef(slot.ref).use),
        reason: 'DuplicateId',
        message: `duplicate id ${JSON.stringify(resolved.instanceId)} (also used by ${first}); give each instance a distinct "id"`,
      });
    } else seen.set(key, slot.configPath);
  }
  return { bySlot, problems };
}

/**
 * Resolves and checks every plugin of the config without creating any (no connections, no files
 * touched). All problems are returned together.
 */
export async function resolvePlugins(
  config: ResolvedConfig,
  options: ResolvePluginsOptions,
): Promise<PluginResult<ResolvedPlugins>> {
  const slots = pluginSlots(config);
  const { bySlot, problems } = await resolveSlots(config, slots, options);
  if (problems.length > 0) return { ok: false, problems };
  const get = <K extends PluginKind>(p: string) => bySlot.get(p) as ResolvedPlugin<K>;
  return {
    ok: true,
    value: {
      leaderElector: get<'leader-elector'>('plugins.leaderElector'),
      credentialProvisioner: get<'credential-provisioner'>('plugins.credentialProvisioner'),
      priority: get<'priority-strategy'>('plugins.priority'),
      health: slots.filter((s) => s.kind === 'health-probe').map((s) => get<'health-probe'>(s.configPath)),
    },
  };
}

/** Resolves only the plugins of one kind (e.g. `forge-manager probe` needs just the health plugins). */
export async function resolvePluginsOfKind<K extends PluginKind>(
  config: ResolvedConfig,
  kind: K,
  options: ResolvePluginsOptions,
): Promise<PluginResult<ResolvedPlugin<K>[]>> {
  const slots = pluginSlots(config).filter((s) => s.kind === kind);
  const { bySlot, problems } = await resolveSlots(config, slots, options);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: slots.map((s) => bySlot.get(s.configPath) as ResolvedPlugin<K>) };
}

// ------------------------------------------------------------------------------------------------
// Instantiation
// ------------------------------------------------------------------------------------------------

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

const KIND_TOKENS = {
  'health-probe': TOKENS.healthProbes,
  'priority-strategy': TOKENS.priorityStrategy,
  'leader-elector': TOKENS.leaderElector,
  'credential-provisioner': TOKENS.credentialProvisioner,
} as const;

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
      const value = (await resolved.plugin.create(context, resolved.options)) as PluginKindMap[K];
      const missing = REQUIRED_METHODS[resolved.kind].filter(
        (m) => typeof (value as unknown as Record<string, unknown> | null)?.[m] !== 'function',
      );
      if (missing.length > 0) {
        problems.push(
          problem(`create() returned an object without ${missing.map((m) => `${m}()`).join(', ')}`),
        );
        await child.dispose();
        continue;
      }
      child.registerValue(KIND_TOKENS[resolved.kind] as never, value as never);
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
  for (const instance of instances) {
    host.container.registerValue(KIND_TOKENS[instance.resolved.kind] as never, instance.value as never);
  }
  return { ok: true, value: instances };
}

/** Closes health probes (the only kind with close()) and disposes the per-instance containers, in reverse order. */
export async function closeInstances(instances: readonly PluginInstance[]): Promise<void> {
  for (const instance of [...instances].reverse()) {
    const closable = instance.value as { close?: () => Promise<void> };
    try {
      if (typeof closable.close === 'function') await closable.close();
    } catch {
      // best effort during shutdown; the lifecycle logs timeouts
    }
    await instance.container.dispose();
  }
}
