/**
 * Fail closed when the sidecar cannot run. A sidecar that exits (or crash-loops) on bad config, a
 * plugin that fails to load, or an unexpected error would otherwise leave its node forging with the
 * keys it loaded while the lease expires and a standby starts forging too. Before such an exit the
 * credential files are removed and the node is told to re-read them (docs/safety.md §7).
 */
import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/schema.js';
import { createNodeController } from '../node/index.js';

export interface FailSafeTargets {
  readonly credentialPaths: readonly string[];
  readonly socketPath: string;
  readonly processName: string;
}

export interface FailSafeOutcome {
  readonly removed: readonly string[];
  readonly signalled: boolean;
  readonly message: string;
}

/** From a loaded config. */
export function failSafeTargetsFromConfig(config: ResolvedConfig): FailSafeTargets {
  const t = config.credentials.target;
  return {
    credentialPaths: [t.kesKey, t.vrfKey, t.opCert],
    socketPath: config.node.socketPath,
    processName: config.node.processName,
  };
}

/** When the config could not be loaded: the Python sidecar's variables, else its defaults. */
export function failSafeTargetsFromEnv(env: Readonly<Record<string, string | undefined>>): FailSafeTargets {
  const pick = (name: string, fallback: string) => (env[name] ? (env[name] as string) : fallback);
  return {
    credentialPaths: [
      pick('TARGET_KES_KEY', '/opt/cardano/secrets/kes.skey'),
      pick('TARGET_VRF_KEY', '/opt/cardano/secrets/vrf.skey'),
      pick('TARGET_OP_CERT', '/opt/cardano/secrets/node.cert'),
    ],
    socketPath: pick('NODE_SOCKET', '/ipc/node.socket'),
    processName: pick('CARDANO_NODE_PROCESS_NAME', 'cardano-node'),
  };
}

/** Removes the credential files and SIGHUPs the node that owns the socket. Never throws. */
export async function failSafeRevoke(targets: FailSafeTargets, logger: Logger): Promise<FailSafeOutcome> {
  const removed: string[] = [];
  const problems: string[] = [];
  for (const path of targets.credentialPaths) {
    try {
      await rm(path);
      removed.push(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') problems.push(`${path}: ${code ?? String(error)}`);
    }
  }
  // Signal even when no file was there: the node may still hold keys it loaded earlier.
  const node = createNodeController(
    { logger },
    { socketPath: targets.socketPath, processName: targets.processName },
  );
  const outcome = await node.reload('disable_forging').catch((error: unknown) => ({
    delivered: false,
    message: String(error),
  }));
  const message = [
    `fail-safe: removed ${removed.length} credential file(s)`,
    outcome.delivered ? 'node signalled' : `node not signalled (${outcome.message})`,
    ...problems,
  ].join('; ');
  if (problems.length > 0 || (!outcome.delivered && removed.length > 0)) logger.error(message);
  else logger.warn(message);
  return { removed, signalled: outcome.delivered, message };
}
