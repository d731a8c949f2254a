/**
 * Loads the configuration: defaults < file < environment < CLI overrides (each layer wins over the
 * one before it). The file is the one named by --config / FORGE_CONFIG, else the one cosmiconfig 10
 * discovers in the working directory (CONFIG_SEARCH_PLACES: a `forge` key in package.json,
 * .forgerc*, forge.config.*). Nothing is written next to it (a read-only ConfigMap mount works), and
 * .ts/.mts files go through Node's own type stripping.
 */
import path from 'node:path';
import { cosmiconfig, type PublicExplorer } from 'cosmiconfig';
import type { z } from 'zod';
import { configFromEnv } from './env.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { isPlainObject, mergeLayers } from './merge.js';
import { ForgeConfigSchema, type ResolvedConfig } from './schema.js';

export const CONFIG_FILE_EXTENSIONS: readonly string[] = [
  '.ts',
  '.mts',
  '.mjs',
  '.js',
  '.json',
  '.yaml',
  '.yml',
];

/** Where a config is discovered, first match wins (cosmiconfig's order: package.json, rc files, config files). */
export const CONFIG_SEARCH_PLACES: readonly string[] = [
  'package.json',
  ...['.forgerc', '.config/forgerc'].flatMap((rc) =>
    ['', '.json', '.yaml', '.yml', '.js', '.ts', '.mjs', '.mts'].map((ext) => `${rc}${ext}`),
  ),
  ...CONFIG_FILE_EXTENSIONS.map((ext) => `forge.config${ext}`),
];

/** An extensionless rc file (`.forgerc`) is YAML or JSON, as cosmiconfig reads it. */
function isRcFile(file: string): boolean {
  const base = path.basename(file);
  return base === '.forgerc' || base === 'forgerc';
}

/**
 * A fresh explorer per call with caching off: no module-level state, and a re-read sees changes.
 * It only looks in the directory it is given (searchStrategy "none"), never in its parents.
 */
function configExplorer(): PublicExplorer {
  return cosmiconfig('forge', {
    searchStrategy: 'none',
    searchPlaces: [...CONFIG_SEARCH_PLACES],
    cache: false,
  });
}

export interface LoadConfigOptions {
  /** `--config`; falls back to env FORGE_CONFIG; with neither, the file discovered in `cwd` (if any). */
  readonly configPath?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** CLI flags, as a partial config. Highest precedence. */
  readonly overrides?: Record<string, unknown> | undefined;
  /** Base for a relative configPath, and where a config is discovered. Default: process.cwd(). */
  readonly cwd?: string | undefined;
}

/** Formats a zod issue path like `plugins.health[1].options`. */
export function formatPath(segments: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

/** What is wrong with a config file that does not load, and what to do about it. */
function describeLoadError(file: string, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT')
    return `config file not found: ${file} (check --config / FORGE_CONFIG and the mount)`;
  if (code === 'EISDIR')
    return `config file ${file} is a directory, not a file: point --config at the file inside it`;
  if (code === 'EACCES' || code === 'EPERM')
    return `config file ${file} is not readable by the sidecar (permission denied, ${code})`;
  const message = error instanceof Error ? error.message : String(error);
  // YAML's commonest mistake gets its fix spelled out.
  if (/tab/i.test(message) && /\.ya?ml$/i.test(file))
    return `cannot load config file ${file}: ${message} (YAML indentation must use spaces, not tabs)`;
  return `cannot load config file ${file}: ${message}`;
}

/** A received value, short and safe to print (the top-level schema holds no secrets: plugin options are not validated here). */
function describeReceived(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** The loaded document as the file layer, or a ConfigError saying what the file must hold. */
function asFileLayer(file: string, loaded: unknown): Record<string, unknown> {
  if (loaded === undefined || loaded === null) return {};
  if (!isPlainObject(loaded)) {
    throw new ConfigError(
      'ConfigFileError',
      [{ path: '', message: 'the config file must export (default) or contain an object' }],
      file,
    );
  }
  return loaded;
}

function loadFailure(file: string, error: unknown): ConfigError {
  return new ConfigError('ConfigFileError', [{ path: '', message: describeLoadError(file, error) }], file);
}

/** Reads the file and returns its default export / document, or throws ConfigError. */
export async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  const ext = path.extname(file).toLowerCase();
  if (!CONFIG_FILE_EXTENSIONS.includes(ext) && !isRcFile(file)) {
    throw new ConfigError(
      'ConfigFileError',
      [
        {
          path: '',
          message: `unsupported config file type "${ext || '(none)'}" (use ${CONFIG_FILE_EXTENSIONS.join(', ')})`,
        },
      ],
      file,
    );
  }
  let loaded: unknown;
  try {
    const result = await configExplorer().load(file);
    loaded = result === null || result.isEmpty ? {} : result.config;
  } catch (error) {
    throw loadFailure(file, error);
  }
  return asFileLayer(file, loaded);
}

/** The file a load uses: named (--config, FORGE_CONFIG) or discovered in the working directory. */
export type ConfigFileLocation =
  | { readonly how: 'named'; readonly file: string }
  | { readonly how: 'discovered'; readonly file: string; readonly layer: Record<string, unknown> }
  | { readonly how: 'discovered-broken'; readonly file: string; readonly error: ConfigError }
  | { readonly how: 'none' };

/**
 * Finds the config file the way loadConfig does: --config, else FORGE_CONFIG (relative to cwd),
 * else cosmiconfig's search of cwd. A discovered file that does not load is still located (the
 * fail-safe reads its text), with the error the strict load reports.
 */
export async function locateConfigFile(options: {
  readonly configPath?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string | undefined;
}): Promise<ConfigFileLocation> {
  const cwd = options.cwd ?? process.cwd();
  const requested = options.configPath ?? options.env.FORGE_CONFIG;
  if (requested !== undefined && requested.trim() !== '')
    return { how: 'named', file: path.resolve(cwd, requested) };
  let found: Awaited<ReturnType<PublicExplorer['search']>>;
  try {
    found = await configExplorer().search(cwd);
  } catch (error) {
    // cosmiconfig stops at the first candidate that exists and does not load, and names it.
    const file = typeof error === 'object' && error !== null ? Reflect.get(error, 'filepath') : undefined;
    if (typeof file !== 'string') throw error;
    return { how: 'discovered-broken', file, error: loadFailure(file, error) };
  }
  if (found === null) return { how: 'none' };
  try {
    return {
      how: 'discovered',
      file: found.filepath,
      layer: asFileLayer(found.filepath, found.isEmpty ? {} : found.config),
    };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { how: 'discovered-broken', file: found.filepath, error };
  }
}

async function fileLayerOf(location: ConfigFileLocation): Promise<Record<string, unknown>> {
  switch (location.how) {
    case 'named':
      return readConfigFile(location.file);
    case 'discovered':
      return location.layer;
    case 'discovered-broken':
      throw location.error;
    case 'none':
      return {};
  }
}

function envSourceFor(issuePath: string, sources: ReadonlyMap<string, string>): string | undefined {
  for (const [configPath, env] of sources) {
    if (issuePath === configPath || issuePath.startsWith(`${configPath}.`)) return env;
  }
  return undefined;
}

function toIssues(
  error: z.ZodError,
  sources: ReadonlyMap<string, string>,
  overrides: ReadonlySet<string>,
): ConfigIssue[] {
  return error.issues.map((issue) => {
    const issuePath = formatPath(issue.path);
    const env = overrides.has(issuePath) ? undefined : envSourceFor(issuePath, sources);
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown key(s): ${issue.keys.join(', ')}`;
    else if (issue.code === 'invalid_type' && issue.input !== undefined && !issuePath.includes('options'))
      message = `expected ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}, got ${describeReceived(issue.input)}`;
    return env ? { path: issuePath, message, env } : { path: issuePath, message };
  });
}

function leafPaths(value: unknown, prefix: string[] = [], out = new Set<string>()): Set<string> {
  if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) leafPaths(v, [...prefix, k], out);
  } else if (prefix.length > 0) out.add(prefix.join('.'));
  return out;
}

/** Validates already-merged raw input; exported for callers that build config in code (tests, the lab). */
export function parseConfig(
  input: unknown,
  context: {
    envSources?: ReadonlyMap<string, string>;
    overridePaths?: ReadonlySet<string>;
    file?: string;
  } = {},
): ResolvedConfig {
  const parsed = ForgeConfigSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    throw new ConfigError(
      'ConfigInvalid',
      toIssues(parsed.error, context.envSources ?? new Map(), context.overridePaths ?? new Set()),
      context.file,
    );
  }
  return parsed.data;
}

export async function loadConfig(options: LoadConfigOptions): Promise<ResolvedConfig> {
  const location = await locateConfigFile(options);
  const file = location.how === 'none' ? undefined : location.file;
  const fileLayer = await fileLayerOf(location);
  const envLayer = configFromEnv(options.env);
  const merged = mergeLayers(mergeLayers(fileLayer, envLayer.values), options.overrides ?? {});
  const overridePaths = leafPaths(options.overrides ?? {});
  let resolved: ResolvedConfig | undefined;
  const issues: ConfigIssue[] = [...envLayer.issues];
  try {
    resolved = parseConfig(merged, { envSources: envLayer.sources, overridePaths });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Env values that did not even parse are reported once (by the env layer), not again by zod.
    const reported = new Set(envLayer.issues.map((i) => i.path));
    issues.push(...error.issues.filter((i) => !reported.has(i.path)));
  }
  if (issues.length > 0 || resolved === undefined) throw new ConfigError('ConfigInvalid', issues, file);
  return resolved;
}
