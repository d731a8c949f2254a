/**
 * Loads the configuration: defaults < file < environment < CLI overrides (each layer wins over the
 * one before it). The file is loaded by cosmiconfig 10 from an explicit path only (no directory
 * search), so a ConfigMap mounted read-only works: nothing is written next to it, and .ts files go
 * through Node's own type stripping.
 */
import path from 'node:path';
import { cosmiconfig } from 'cosmiconfig';
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

export interface LoadConfigOptions {
  /** `--config`; falls back to env FORGE_CONFIG; with neither, only env and defaults apply. */
  readonly configPath?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** CLI flags, as a partial config. Highest precedence. */
  readonly overrides?: Record<string, unknown> | undefined;
  /** Base for a relative configPath. Default: process.cwd(). */
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

/** Reads the file and returns its default export / document, or throws ConfigError. */
export async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  const ext = path.extname(file).toLowerCase();
  if (!CONFIG_FILE_EXTENSIONS.includes(ext)) {
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
  // A fresh explorer per call with caching off: no module-level state, and a re-read sees changes.
  const explorer = cosmiconfig('forge', { searchStrategy: 'none', searchPlaces: [], cache: false });
  let loaded: unknown;
  try {
    const result = await explorer.load(file);
    loaded = result === null || result.isEmpty ? {} : result.config;
  } catch (error) {
    throw new ConfigError('ConfigFileError', [{ path: '', message: describeLoadError(file, error) }], file);
  }
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
  const requested = options.configPath ?? options.env.FORGE_CONFIG;
  const file =
    requested !== undefined && requested.trim() !== ''
      ? path.resolve(options.cwd ?? process.cwd(), requested)
      : undefined;
  const fileLayer = file ? await readConfigFile(file) : {};
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
