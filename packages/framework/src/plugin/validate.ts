/**
 * Step 2 of loading plugins: check what `locate` found against the slot it fills — brand and shape,
 * apiVersion, kind, the package's framework peer range, the options against the plugin's Standard
 * Schema, unique instance ids — and collect every problem with its config path. No side effects:
 * this is what `forge-manager validate` runs.
 */
import path from 'node:path';
// The two functions, not semver's entry (its whole API: ~0.8 MiB of RSS in a sidecar).
import satisfies from 'semver/functions/satisfies.js';
import validRange from 'semver/ranges/valid.js';
import type { PluginRef, ResolvedConfig } from '../config/schema.js';
import { mergeLayers } from '../config/merge.js';
import {
  type ForgePlugin,
  type PluginKind,
  SUPPORTED_PLUGIN_API_VERSIONS,
  pluginShapeProblems,
} from './define.js';
import { discoverInstalledPlugins } from './discover.js';
import { locatePlugin, normalizeRef, refLabel, type LocateContext } from './locate.js';
import {
  FRAMEWORK_PACKAGE_NAME,
  frameworkPackageDir,
  frameworkVersion as readFrameworkVersion,
} from './package-info.js';
import { errorText, type PluginProblem, type PluginProblemReason, type PluginResult } from './problems.js';

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

/** A slot of the config that holds plugin refs. */
export interface PluginSlot {
  readonly configPath: string;
  readonly kind: PluginKind;
  readonly ref: PluginRef;
}

/** Options a built-in gets from the config sections, before the ref's own options merge over them. */
export type BuiltinOptionsFromConfig = (
  builtinName: string,
  config: ResolvedConfig,
) => Record<string, unknown> | undefined;

export interface ResolvePluginsOptions {
  /** Built-in plugins by the name a config uses for them, e.g. { 'kubernetes-lease': ..., files: ... }. */
  readonly builtins: Readonly<Record<string, ForgePlugin>>;
  /** Directory whose node_modules hold plugin packages. Default: the framework's package directory. */
  readonly root?: string | undefined;
  /** Default: the version in the framework's package.json. */
  readonly frameworkVersion?: string | undefined;
  /**
   * Options a built-in gets from the config sections (the built-in set's own defaults, e.g.
   * plugins/builtin-options.ts). Without it, built-ins get only the ref's options.
   */
  readonly builtinOptions?: BuiltinOptionsFromConfig | undefined;
}

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

function issuePath(segments: ReadonlyArray<PropertyKey | { key: PropertyKey }> | undefined): string {
  if (!segments || segments.length === 0) return '';
  return segments.map((p) => String(typeof p === 'object' && p !== null ? p.key : p)).join('.');
}

function frameworkRangeProblem(range: string | undefined, hostVersion: string): string | undefined {
  if (range === undefined)
    return `package.json declares no peerDependencies["${FRAMEWORK_PACKAGE_NAME}"]; a plugin must state the framework versions it supports`;
  if (validRange(range) === null)
    return `peerDependencies["${FRAMEWORK_PACKAGE_NAME}"] ${JSON.stringify(range)} is not a valid semver range`;
  if (!satisfies(hostVersion, range, { includePrerelease: true }))
    return `requires ${FRAMEWORK_PACKAGE_NAME} ${range}, but ${hostVersion} is installed`;
  return undefined;
}

interface SlotContext extends LocateContext {
  readonly config: ResolvedConfig;
  readonly hostVersion: string;
  readonly builtinOptions: BuiltinOptionsFromConfig | undefined;
}

async function resolveSlot<K extends PluginKind>(
  slot: PluginSlot & { readonly kind: K },
  context: SlotContext,
): Promise<PluginResult<ResolvedPlugin<K>>> {
  const ref = normalizeRef(slot.ref);
  const label = refLabel(ref.use);
  const problem = (reason: PluginProblemReason, message: string): PluginProblem => ({
    configPath: slot.configPath,
    plugin: label,
    reason,
    message,
  });

  const found = await locatePlugin(ref.use, context);
  if (!found.ok) return { ok: false, problems: [problem(found.reason, found.message)] };
  const { value, source } = found.located;

  const problems: PluginProblem[] = pluginShapeProblems(value).map((p) => problem('NotAPlugin', p));
  if (problems.length > 0) return { ok: false, problems };
  const plugin = value as ForgePlugin;

  if (!SUPPORTED_PLUGIN_API_VERSIONS.includes(plugin.apiVersion)) {
    problems.push(
      problem(
        'UnsupportedApiVersion',
        `apiVersion ${JSON.stringify(plugin.apiVersion)} is not supported by @cardano-forge/framework ${context.hostVersion} ` +
          `(supported: ${SUPPORTED_PLUGIN_API_VERSIONS.join(', ')})`,
      ),
    );
  }
  if (!isOfKind(plugin, slot.kind)) {
    problems.push(
      problem('WrongKind', `is a ${plugin.kind} plugin, but ${slot.configPath} needs a ${slot.kind}`),
    );
  }
  if (source === 'package') {
    const rangeProblem = frameworkRangeProblem(found.located.peerRange, context.hostVersion);
    if (rangeProblem !== undefined) problems.push(problem('IncompatibleFramework', rangeProblem));
  }

  const defaults =
    found.located.builtinName !== undefined
      ? context.builtinOptions?.(found.located.builtinName, context.config)
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

  if (problems.length > 0 || !isOfKind(plugin, slot.kind)) return { ok: false, problems };
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

/** Narrows a checked plugin to the kind of its slot (the check the WrongKind problem reports). */
function isOfKind<K extends PluginKind>(plugin: ForgePlugin, kind: K): plugin is ForgePlugin<K> {
  return plugin.kind === kind;
}

async function resolveSlots<K extends PluginKind>(
  config: ResolvedConfig,
  slots: readonly (PluginSlot & { readonly kind: K })[],
  options: ResolvePluginsOptions,
): Promise<{ bySlot: Map<string, ResolvedPlugin<K>>; problems: PluginProblem[] }> {
  const root = path.resolve(options.root ?? frameworkPackageDir());
  let installedCache: string[] | undefined;
  const context: SlotContext = {
    config,
    builtins: options.builtins,
    root,
    installed: () => (installedCache ??= discoverInstalledPlugins(root)),
    hostVersion: options.frameworkVersion ?? readFrameworkVersion(),
    builtinOptions: options.builtinOptions,
  };

  const problems: PluginProblem[] = [];
  const bySlot = new Map<string, ResolvedPlugin<K>>();
  // Sequential on purpose: problems come out in config order.
  for (const slot of slots) {
    const result = await resolveSlot(slot, context);
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

function slotsOfKind<K extends PluginKind>(
  slots: readonly PluginSlot[],
  kind: K,
): (PluginSlot & { readonly kind: K })[] {
  return slots.filter((s): s is PluginSlot & { readonly kind: K } => s.kind === kind);
}

/**
 * Resolves and checks every plugin of the config without creating any (no connections, no files
 * touched). All problems are returned together, in config order.
 */
export async function resolvePlugins(
  config: ResolvedConfig,
  options: ResolvePluginsOptions,
): Promise<PluginResult<ResolvedPlugins>> {
  const slots = pluginSlots(config);
  const electors = await resolveSlots(config, slotsOfKind(slots, 'leader-elector'), options);
  const provisioners = await resolveSlots(config, slotsOfKind(slots, 'credential-provisioner'), options);
  const priorities = await resolveSlots(config, slotsOfKind(slots, 'priority-strategy'), options);
  const health = await resolveSlots(config, slotsOfKind(slots, 'health-probe'), options);
  const problems = [electors, provisioners, priorities, health].flatMap((r) => r.problems);
  const leaderElector = electors.bySlot.get('plugins.leaderElector');
  const credentialProvisioner = provisioners.bySlot.get('plugins.credentialProvisioner');
  const priority = priorities.bySlot.get('plugins.priority');
  if (problems.length > 0 || !leaderElector || !credentialProvisioner || !priority)
    return { ok: false, problems };
  return {
    ok: true,
    value: { leaderElector, credentialProvisioner, priority, health: [...health.bySlot.values()] },
  };
}

/** Resolves only the plugins of one kind (e.g. `forge-manager probe` needs just the health plugins). */
export async function resolvePluginsOfKind<K extends PluginKind>(
  config: ResolvedConfig,
  kind: K,
  options: ResolvePluginsOptions,
): Promise<PluginResult<ResolvedPlugin<K>[]>> {
  const { bySlot, problems } = await resolveSlots(config, slotsOfKind(pluginSlots(config), kind), options);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, value: [...bySlot.values()] };
}
