/**
 * The few settings the fail-safe needs (where the node reads its keys, how to find the node, its
 * metrics URL), read leniently when the configuration as a whole is invalid. A sidecar whose config
 * fails to load must still withdraw the keys it may have installed from the config FILE's paths, not
 * just from env and defaults (that left the node forging while a standby took over).
 *
 * Sources, most trusted first: CLI overrides and env (they win in the real load too), the file
 * parsed as an object when it still loads (a bad value or a broken timing rule), else a text scan
 * of the file (a .ts that throws at import, YAML with tabs), then the defaults. Credential targets
 * are the union of all of them: removing a file that is not there costs nothing, missing one that
 * is there keeps a node forging. Source paths (the Secret) are never returned as targets.
 */
import { readFile } from 'node:fs/promises';
import { locateConfigFile, readConfigFile } from './load.js';
import { isPlainObject } from './merge.js';

export type PidDiscovery = 'socket' | 'name';

export interface LenientNodeAndCredentials {
  /** Every credential target path found, the effective ones first. */
  readonly credentialTargets: readonly string[];
  /** Candidate node sockets, the effective one first. */
  readonly socketPaths: readonly string[];
  readonly processName: string;
  readonly pidDiscovery: PidDiscovery;
  readonly metricsUrl: string | undefined;
  /** How each part was found, for the log (e.g. "file (text scan): 3 target path(s)"). */
  readonly notes: readonly string[];
}

export interface LenientInput {
  readonly configPath?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly overrides?: Record<string, unknown> | undefined;
  readonly cwd?: string | undefined;
}

const KEYS = ['kesKey', 'vrfKey', 'opCert'] as const;
const DEFAULT_TARGETS = [
  '/opt/cardano/secrets/kes.skey',
  '/opt/cardano/secrets/vrf.skey',
  '/opt/cardano/secrets/node.cert',
];
const DEFAULT_SOURCES = ['/secrets/kes.skey', '/secrets/vrf.skey', '/secrets/node.cert'];
const DEFAULT_SOCKET = '/ipc/node.socket';
const DEFAULT_PROCESS_NAME = 'cardano-node';

/** What one layer (env, file, overrides) says; every field optional. */
interface Layer {
  targets: string[];
  sources: string[];
  socketPath?: string;
  processName?: string;
  pidDiscovery?: PidDiscovery;
  metricsUrl?: string;
}

const emptyLayer = (): Layer => ({ targets: [], sources: [] });
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';
const asDiscovery = (v: unknown): PidDiscovery | undefined =>
  v === 'socket' || v === 'name' ? v : undefined;
const child = (o: unknown, key: string): unknown => (isPlainObject(o) ? o[key] : undefined);

function pathsOf(section: unknown): string[] {
  return KEYS.map((k) => child(section, k)).filter(nonEmpty);
}

/** From a parsed object (the file or the overrides): only fields of the right type are taken. */
export function layerFromObject(raw: unknown): Layer {
  const layer = emptyLayer();
  const credentials = child(raw, 'credentials');
  const pluginOptions = child(child(child(raw, 'plugins'), 'credentialProvisioner'), 'options');
  layer.targets.push(...pathsOf(child(credentials, 'target')), ...pathsOf(child(pluginOptions, 'target')));
  layer.sources.push(...pathsOf(child(credentials, 'source')), ...pathsOf(child(pluginOptions, 'source')));
  const node = child(raw, 'node');
  const socketPath = child(node, 'socketPath');
  const processName = child(node, 'processName');
  const metricsUrl = child(node, 'metricsUrl');
  const pidDiscovery = asDiscovery(child(node, 'pidDiscovery'));
  if (nonEmpty(socketPath)) layer.socketPath = socketPath;
  if (nonEmpty(processName)) layer.processName = processName;
  if (nonEmpty(metricsUrl)) layer.metricsUrl = metricsUrl;
  if (pidDiscovery) layer.pidDiscovery = pidDiscovery;
  return layer;
}

function layerFromEnv(env: Readonly<Record<string, string | undefined>>): Layer {
  const get = (name: string) => (nonEmpty(env[name]) ? env[name].trim() : undefined);
  const layer = emptyLayer();
  layer.targets.push(
    ...[get('TARGET_KES_KEY'), get('TARGET_VRF_KEY'), get('TARGET_OP_CERT')].filter(nonEmpty),
  );
  layer.sources.push(
    ...[get('SOURCE_KES_KEY'), get('SOURCE_VRF_KEY'), get('SOURCE_OP_CERT')].filter(nonEmpty),
  );
  const socketPath = get('NODE_SOCKET');
  const processName = get('CARDANO_NODE_PROCESS_NAME');
  const metricsUrl = get('NODE_METRICS_URL');
  const pidDiscovery = asDiscovery(get('NODE_PID_DISCOVERY'));
  if (socketPath) layer.socketPath = socketPath;
  if (processName) layer.processName = processName;
  if (metricsUrl) layer.metricsUrl = metricsUrl;
  if (pidDiscovery) layer.pidDiscovery = pidDiscovery;
  return layer;
}

/**
 * A text scan for a file that does not load at all. It finds `key: value` / `key = value` pairs
 * whose value is a string literal (quoted) or, for YAML, a plain path or URL; expressions are
 * skipped (their value is unknowable without running the file). A credential key belongs to the
 * nearest `source`/`target` section opened before it; one with neither counts as a target.
 */
export function layerFromText(text: string): Layer {
  const layer = emptyLayer();
  const value = String.raw`(?:"([^"\n]*)"|'([^'\n]*)'|\x60([^\x60$\n]*)\x60|([/A-Za-z][^\s,'"\x60#{}\[\]]*))`;
  const pair = new RegExp(
    String.raw`(?:^|[\s{,])["']?(kesKey|vrfKey|opCert|socketPath|processName|pidDiscovery|metricsUrl|source|target)["']?[ \t]*[:=][ \t]*(?:${value})?`,
    'gm',
  );
  let section: 'source' | 'target' | null = null;
  for (const m of text.matchAll(pair)) {
    const key = m[1];
    const found = m[2] ?? m[3] ?? m[4] ?? m[5];
    if (key === 'source' || key === 'target') {
      section = key;
      continue;
    }
    if (!nonEmpty(found)) continue;
    const quoted = m[5] === undefined;
    switch (key) {
      case 'kesKey':
      case 'vrfKey':
      case 'opCert':
        // An unquoted YAML value must look like a path; a bare identifier is a JS expression.
        if (quoted || found.startsWith('/'))
          (section === 'source' ? layer.sources : layer.targets).push(found);
        break;
      case 'socketPath':
        if (quoted || found.startsWith('/')) layer.socketPath ??= found;
        break;
      case 'metricsUrl':
        if (/^https?:\/\//.test(found)) layer.metricsUrl ??= found;
        break;
      case 'processName':
        if (quoted || /^[\w.-]+$/.test(found)) layer.processName ??= found;
        break;
      case 'pidDiscovery':
        layer.pidDiscovery ??= asDiscovery(found);
        break;
    }
  }
  return layer;
}

async function layerFromFile(file: string, notes: string[]): Promise<Layer> {
  try {
    const layer = layerFromObject(await readConfigFile(file));
    notes.push(`config file ${file} read as an object (${layer.targets.length} target path(s))`);
    return layer;
  } catch {
    // Does not load (syntax, a throw at import): fall back to its text.
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    notes.push(
      `config file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): using env and defaults`,
    );
    return emptyLayer();
  }
  const layer = layerFromText(text);
  notes.push(`config file ${file} does not load: text scan found ${layer.targets.length} target path(s)`);
  return layer;
}

/** Reads what the fail-safe needs; never throws. */
export async function readFailSafeSettings(input: LenientInput): Promise<LenientNodeAndCredentials> {
  const notes: string[] = [];
  // The file the strict load read (or failed on): named, or discovered in the working directory.
  let file: string | undefined;
  try {
    const location = await locateConfigFile(input);
    file = location.how === 'none' ? undefined : location.file;
    if (location.how === 'discovered' || location.how === 'discovered-broken')
      notes.push(`config file ${location.file} discovered in ${input.cwd ?? process.cwd()}`);
  } catch (error) {
    notes.push(
      `no config file located (${error instanceof Error ? error.message : String(error)}): using env and defaults`,
    );
  }
  // Precedence as in loadConfig: overrides > env > file > defaults.
  const layers = [
    layerFromObject(input.overrides ?? {}),
    layerFromEnv(input.env),
    file ? await layerFromFile(file, notes) : emptyLayer(),
  ];
  const first = <K extends keyof Layer>(key: K) => layers.map((l) => l[key]).find((v) => v !== undefined);
  const sources = new Set([...layers.flatMap((l) => l.sources), ...DEFAULT_SOURCES]);
  // Never a source: the Secret's keys must survive whatever the config looks like.
  const targets = [...new Set([...layers.flatMap((l) => l.targets), ...DEFAULT_TARGETS])].filter(
    (t) => !sources.has(t),
  );
  const socketPaths = [...new Set([...layers.map((l) => l.socketPath).filter(nonEmpty), DEFAULT_SOCKET])];
  return {
    credentialTargets: targets,
    socketPaths,
    processName: (first('processName') as string | undefined) ?? DEFAULT_PROCESS_NAME,
    pidDiscovery: (first('pidDiscovery') as PidDiscovery | undefined) ?? 'socket',
    metricsUrl: first('metricsUrl') as string | undefined,
    notes,
  };
}
