/**
 * forge-manager commands, separated from process globals (argv, env, stdout, exit) so tests can
 * call them in-process. main.ts wires them to the real process.
 */
import { parseArgs } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { ConfigError, formatConfigIssue } from '../config/errors.js';
import type { LenientInput } from '../config/lenient.js';
import { loadConfig } from '../config/load.js';
import { redactConfig } from '../config/redact.js';
import type { ResolvedConfig } from '../config/schema.js';
import { createRootContainer } from '../di/container.js';
import { createLogger } from '../observability/logger.js';
import { createMetricsRegistry } from '../observability/metrics.js';
import type { ForgePlugin } from '../plugin/define.js';
import { createSystemClock } from '../core/clock.js';
import {
  closeInstances,
  formatPluginProblem,
  instantiatePlugins,
  resolvePlugins,
  resolvePluginsOfKind,
  type PluginProblem,
} from '../plugin/loader.js';
import { OPS_COMMANDS, OPS_HELP, runOps } from './ops/index.js';
import { coordinationModeLine, coordinationWarnings } from '../plugins/etcd-arbiter/warnings.js';

export interface CliIo {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

export interface CliDeps {
  readonly builtins: () => Promise<Record<string, ForgePlugin>> | Record<string, ForgePlugin>;
  /** Runs the manager; resolves with the process exit code. */
  readonly runManager: (
    config: ResolvedConfig,
    options: {
      builtins: Record<string, ForgePlugin>;
      pluginRoot?: string | undefined;
      env: Readonly<Record<string, string | undefined>>;
    },
  ) => Promise<number>;
  /**
   * `run` could not load its config: withdraw the credentials from every path the file (read
   * leniently), the environment and the defaults name, before exiting.
   */
  readonly failSafe?: (input: LenientInput) => Promise<void>;
}

/** Exit codes: 0 ok, 1 runtime failure / unhealthy probe, 2 usage or configuration error. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export const HELP = `forge-manager: keeps exactly one forging cardano-node per stake pool.

Usage:
  forge-manager run      [--config <file>] [flags]   run the sidecar
  forge-manager validate [--config <file>] [flags]   load config and all plugins, print the resolved
                                                     config (secrets redacted); non-zero on any error
  forge-manager probe    [--config <file>] [flags]   create the health plugins, run each once, print results
  forge-manager status | maintenance | failover       operator commands (below)
  forge-manager --help

Config precedence: CLI flags > environment (the Python sidecar's variables) > file > defaults.
The file may be .ts/.mts/.mjs/.js/.json/.yaml/.yml; without --config, FORGE_CONFIG is used; with neither,
only the environment and defaults apply.

Flags:
  -c, --config <file>        config file (or env FORGE_CONFIG)
      --plugin-root <dir>    directory whose node_modules hold plugin packages
                             (or env FORGE_PLUGIN_ROOT; default: the framework's install location)
      --format yaml|json     output format of validate/probe (default yaml)
      --log-level <level>    overrides log.level (debug, info, warning, error, critical, ...)
      --pod-name <name>      overrides podName
      --namespace <ns>       overrides namespace
      --http-host <addr>     overrides http.host
      --http-port <port>     overrides http.port
      --set <path=value>     overrides any key, e.g. --set cluster.priority=5 (value parsed as JSON when it can be)
  -h, --help                 this text

${OPS_HELP}`;

class UsageError extends Error {}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  if (keys.some((k) => k === '')) throw new UsageError(`--set: bad path ${JSON.stringify(dotted)}`);
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next === 'object' && next !== null && !Array.isArray(next))
      node = next as Record<string, unknown>;
    else node = node[key] = {};
  }
  node[keys[keys.length - 1]!] = value;
}

function parseSetValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

interface ParsedCli {
  readonly command: string | undefined;
  readonly help: boolean;
  readonly configPath: string | undefined;
  readonly pluginRoot: string | undefined;
  readonly format: 'yaml' | 'json';
  readonly overrides: Record<string, unknown>;
}

export function parseCli(argv: readonly string[]): ParsedCli {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      'plugin-root': { type: 'string' },
      format: { type: 'string' },
      'log-level': { type: 'string' },
      'pod-name': { type: 'string' },
      namespace: { type: 'string' },
      'http-host': { type: 'string' },
      'http-port': { type: 'string' },
      set: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length > 1) throw new UsageError(`unexpected arguments: ${positionals.slice(1).join(' ')}`);
  const format = values.format ?? 'yaml';
  if (format !== 'yaml' && format !== 'json')
    throw new UsageError(`--format must be yaml or json, got ${format}`);
  const overrides: Record<string, unknown> = {};
  if (values['log-level'] !== undefined) setPath(overrides, 'log.level', values['log-level']);
  if (values['pod-name'] !== undefined) setPath(overrides, 'podName', values['pod-name']);
  if (values.namespace !== undefined) setPath(overrides, 'namespace', values.namespace);
  if (values['http-host'] !== undefined) setPath(overrides, 'http.host', values['http-host']);
  if (values['http-port'] !== undefined) {
    const port = Number(values['http-port']);
    if (!Number.isInteger(port))
      throw new UsageError(`--http-port must be an integer, got ${values['http-port']}`);
    setPath(overrides, 'http.port', port);
  }
  for (const assignment of values.set ?? []) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set expects path=value, got ${JSON.stringify(assignment)}`);
    setPath(overrides, assignment.slice(0, eq), parseSetValue(assignment.slice(eq + 1)));
  }
  return {
    command: positionals[0],
    help: values.help === true,
    configPath: values.config,
    pluginRoot: values['plugin-root'],
    format,
    overrides,
  };
}

function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

function render(value: unknown, format: 'yaml' | 'json'): string {
  return format === 'json' ? JSON.stringify(value, null, 2) : toYaml(value);
}

function reportProblems(io: CliIo, title: string, problems: readonly PluginProblem[]): void {
  write(
    io.stderr,
    `${title} (${problems.length}):\n${problems.map((p) => `  - ${formatPluginProblem(p)}`).join('\n')}`,
  );
}

async function loadOrReport(io: CliIo, cli: ParsedCli): Promise<ResolvedConfig | undefined> {
  try {
    return await loadConfig({
      configPath: cli.configPath,
      env: io.env,
      overrides: cli.overrides,
      cwd: io.cwd,
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    write(
      io.stderr,
      `configuration errors (${error.issues.length}):\n${error.issues.map((i) => `  - ${formatConfigIssue(i)}`).join('\n')}`,
    );
    return undefined;
  }
}

async function validate(io: CliIo, cli: ParsedCli, deps: CliDeps): Promise<number> {
  const config = await loadOrReport(io, cli);
  if (!config) return EXIT.usage;
  const builtins = await deps.builtins();
  const result = await resolvePlugins(config, { builtins, root: cli.pluginRoot ?? io.env.FORGE_PLUGIN_ROOT });
  if (!result.ok) {
    reportProblems(io, 'plugin errors', result.problems);
    return EXIT.usage;
  }
  const plugins = [
    result.value.leaderElector,
    result.value.credentialProvisioner,
    result.value.priority,
    ...result.value.health,
  ];
  write(
    io.stdout,
    render(
      {
        config: redactConfig(config),
        plugins: plugins.map((p) => ({
          path: p.configPath,
          kind: p.kind,
          name: p.plugin.name,
          version: p.version,
          id: p.instanceId,
          source: p.source,
          options: (redactConfig({ options: p.options }) as { options: unknown }).options,
        })),
      },
      cli.format,
    ),
  );
  write(io.stderr, coordinationModeLine(config));
  for (const warning of coordinationWarnings(config)) write(io.stderr, `warning: ${warning}`);
  write(io.stderr, `configuration valid: ${plugins.length} plugin(s) loaded`);
  return EXIT.ok;
}

async function probe(io: CliIo, cli: ParsedCli, deps: CliDeps): Promise<number> {
  const config = await loadOrReport(io, cli);
  if (!config) return EXIT.usage;
  const builtins = await deps.builtins();
  const resolved = await resolvePluginsOfKind(config, 'health-probe', {
    builtins,
    root: cli.pluginRoot ?? io.env.FORGE_PLUGIN_ROOT,
  });
  if (!resolved.ok) {
    reportProblems(io, 'plugin errors', resolved.problems);
    return EXIT.usage;
  }
  if (resolved.value.length === 0) {
    write(io.stderr, 'no health plugins configured (plugins.health is empty)');
    return EXIT.ok;
  }
  // The host pulls in the Kubernetes client: loaded here, not on every command (see main.ts).
  const { createHttpDispatcher, createKubeConfigFactory, identityFromConfig } =
    await import('../plugin/host.js');
  const shutdown = new AbortController();
  const dispatcher = createHttpDispatcher();
  const container = createRootContainer();
  // Logs go to stderr so stdout stays machine-readable.
  const logger = createLogger({ level: config.log.level, pretty: false, destination: io.stderr });
  const created = await instantiatePlugins(resolved.value, {
    container,
    logger,
    metrics: { registry: createMetricsRegistry({ defaultMetrics: false }) },
    http: { dispatcher },
    kube: { config: createKubeConfigFactory(io.env) },
    clock: createSystemClock(),
    identity: identityFromConfig(config),
    signal: shutdown.signal,
  });
  try {
    if (!created.ok) {
      reportProblems(io, 'plugin errors', created.problems);
      return EXIT.usage;
    }
    const timeoutMs = config.cluster.healthCheck.timeoutSeconds * 1000;
    const results = [];
    for (const instance of created.value) {
      const began = performance.now();
      try {
        const r = await instance.value.check(AbortSignal.timeout(timeoutMs));
        results.push({
          path: instance.resolved.configPath,
          plugin: instance.resolved.plugin.name,
          id: instance.resolved.instanceId,
          ...r,
        });
      } catch (error) {
        // A probe must not throw; report it as unhealthy rather than crash the command.
        results.push({
          path: instance.resolved.configPath,
          plugin: instance.resolved.plugin.name,
          id: instance.resolved.instanceId,
          healthy: false,
          reason: 'ProbeThrew',
          message: error instanceof Error ? error.message : String(error),
          latencyMs: performance.now() - began,
        });
      }
    }
    write(io.stdout, render({ probes: results }, cli.format));
    return results.every((r) => r.healthy) ? EXIT.ok : EXIT.failure;
  } finally {
    shutdown.abort(new Error('probe finished'));
    if (created.ok) await closeInstances(created.value);
    await container.dispose();
    await dispatcher.close();
  }
}

async function run(io: CliIo, cli: ParsedCli, deps: CliDeps): Promise<number> {
  const config = await loadOrReport(io, cli);
  if (!config) {
    // A sidecar that cannot start must not leave its node forging (the lease will expire).
    await deps.failSafe?.({ configPath: cli.configPath, env: io.env, overrides: cli.overrides, cwd: io.cwd });
    return EXIT.usage;
  }
  const builtins = await deps.builtins();
  return deps.runManager(config, {
    builtins,
    pluginRoot: cli.pluginRoot ?? io.env.FORGE_PLUGIN_ROOT,
    env: io.env,
  });
}

export async function runCli(io: CliIo, deps: CliDeps): Promise<number> {
  // Operator commands have their own flags (contexts, output): parsed in cli/ops/.
  if ((OPS_COMMANDS as readonly string[]).includes(io.argv[0] ?? '')) return runOps(io);
  let cli: ParsedCli;
  try {
    cli = parseCli(io.argv);
  } catch (error) {
    write(io.stderr, `${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
    return EXIT.usage;
  }
  if (cli.help || cli.command === undefined || cli.command === 'help') {
    write(cli.help || cli.command === 'help' ? io.stdout : io.stderr, HELP);
    return cli.help || cli.command === 'help' ? EXIT.ok : EXIT.usage;
  }
  switch (cli.command) {
    case 'validate':
      return validate(io, cli, deps);
    case 'probe':
      return probe(io, cli, deps);
    case 'run':
      return run(io, cli, deps);
    default:
      write(io.stderr, `unknown command ${JSON.stringify(cli.command)}\n\n${HELP}`);
      return EXIT.usage;
  }
}
