/**
 * Fail closed when the sidecar cannot run. A sidecar that exits (or crash-loops) on bad config, a
 * plugin that fails to load, or an unexpected error would otherwise leave its node forging with the
 * keys it loaded while the lease expires and a standby starts forging too. Before such an exit the
 * credential files are removed, the node is told to re-read them, and it must CONFIRM it stopped
 * forging (its metric, or its process gone). When the files cannot be removed or the node does not
 * confirm, the node process is stopped (its container restarts it non-producing). docs/safety.md §7.
 */
import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import { DEFAULT_SIGHUP_LATENCY_BOUND_MS, type ResolvedConfig } from '../config/schema.js';
import { layerFromObject, type LenientNodeAndCredentials, type PidDiscovery } from '../config/lenient.js';
import type { Clock, NodeController, SignalOutcome } from '../contracts/index.js';
import { createSystemClock } from '../core/clock.js';
import { withDeadline } from '../core/deadline.js';
import { createNodeController } from '../node/index.js';

export interface FailSafeTargets {
  /** Every path the node may read keys from; all are removed. */
  readonly credentialPaths: readonly string[];
  /** Candidate node sockets, most likely first (the first one with a visible node is used). */
  readonly socketPaths: readonly string[];
  readonly processName: string;
  readonly pidDiscovery: PidDiscovery;
  readonly metricsUrl?: string | undefined;
}

export interface FailSafeDeps {
  readonly logger: Logger;
  /** A node controller for one candidate socket (the simulation and unit tests model the node). */
  readonly nodeFor?: (socketPath: string, targets: FailSafeTargets) => NodeController;
  readonly removeFile?: (path: string) => Promise<void>;
  /** Every wait and deadline (the simulation's virtual clock); the system clock by default. */
  readonly clock?: Clock;
}

export interface FailSafeTimings {
  /** How long the node's forging metric may take to read 0 after the SIGHUP before it is stopped. */
  readonly confirmTimeoutMs: number;
  /** Without a metrics URL nothing can confirm: the node's SIGHUP latency bound stands in for it. */
  readonly unconfirmedWaitMs: number;
  /** SIGTERM → SIGKILL grace of the last resort. */
  readonly terminateGraceMs: number;
}

export const DEFAULT_FAIL_SAFE_TIMINGS: FailSafeTimings = {
  confirmTimeoutMs: 3000,
  unconfirmedWaitMs: DEFAULT_SIGHUP_LATENCY_BOUND_MS,
  terminateGraceMs: 3000,
};

/** How the node ended up; `safe` = it is confirmed (or, with no metrics, assumed) not forging. */
export type NodeEnd =
  'confirmed-not-forging' | 'assumed-not-forging' | 'terminated' | 'not-visible' | 'may-still-be-forging';

export interface FailSafeOutcome {
  readonly removed: readonly string[];
  /** Paths that could not be removed, with the error code. */
  readonly stuck: readonly string[];
  readonly signalled: boolean;
  readonly node: NodeEnd;
  readonly safe: boolean;
  readonly message: string;
}

/** From a loaded config: credentials.target and, when set, the credential plugin's own target paths. */
export function failSafeTargetsFromConfig(config: ResolvedConfig): FailSafeTargets {
  const t = config.credentials.target;
  return {
    credentialPaths: [...new Set([t.kesKey, t.vrfKey, t.opCert, ...layerFromObject(config).targets])],
    socketPaths: [config.node.socketPath],
    processName: config.node.processName,
    pidDiscovery: config.node.pidDiscovery,
    metricsUrl: config.node.metricsUrl,
  };
}

/** From the leniently read settings, when the config did not load (config/lenient.ts). */
export function failSafeTargetsFromSettings(settings: LenientNodeAndCredentials): FailSafeTargets {
  return {
    credentialPaths: settings.credentialTargets,
    socketPaths: settings.pidDiscovery === 'name' ? settings.socketPaths.slice(0, 1) : settings.socketPaths,
    processName: settings.processName,
    pidDiscovery: settings.pidDiscovery,
    metricsUrl: settings.metricsUrl,
  };
}

function defaultNodeFor(logger: Logger) {
  return (socketPath: string, targets: FailSafeTargets): NodeController =>
    createNodeController(
      { logger },
      {
        socketPath,
        processName: targets.processName,
        pidDiscovery: targets.pidDiscovery,
        metricsTimeoutMs: 1000,
        ...(targets.metricsUrl ? { metricsUrl: targets.metricsUrl } : {}),
      },
    );
}

/**
 * On a fatal error: stop the control loop first (bounded by `boundMs`: a hung stop must not keep
 * the fail-safe waiting), so it cannot re-provision behind the fail-safe's back, then fail closed.
 */
export async function stopLoopThenFailClosed(
  stopLoop: () => Promise<unknown>,
  boundMs: number,
  failClosed: () => Promise<number>,
  clock: Clock = createSystemClock(),
): Promise<number> {
  const stopped = (): Promise<void> =>
    stopLoop().then(
      () => undefined,
      () => undefined,
    );
  await withDeadline(clock, boundMs, stopped, { onTimeout: () => undefined });
  return failClosed();
}

const codeOf = (error: unknown) => (error as NodeJS.ErrnoException).code ?? String(error);

/**
 * Removes the credential files, SIGHUPs the node, confirms it stopped forging, and stops the node
 * as the last resort. Never throws; logs one line saying what happened and what the operator must do.
 */
export async function failSafeRevoke(
  targets: FailSafeTargets,
  deps: FailSafeDeps,
  timings: FailSafeTimings = DEFAULT_FAIL_SAFE_TIMINGS,
): Promise<FailSafeOutcome> {
  const { logger } = deps;
  const removeFile = deps.removeFile ?? ((p: string) => rm(p));
  const clock = deps.clock ?? createSystemClock();
  // A node call that hangs (a stuck /proc read, a metrics endpoint that never answers) ends at its bound.
  const observeWithin = (candidate: NodeController, ms: number) =>
    withDeadline(clock, ms, (signal) => candidate.observe(signal));
  const nodeFor = deps.nodeFor ?? defaultNodeFor(logger);

  const removed: string[] = [];
  const stuck: string[] = [];
  for (const path of targets.credentialPaths) {
    try {
      await removeFile(path);
      removed.push(path);
    } catch (error) {
      if (codeOf(error) !== 'ENOENT') stuck.push(`${path}: ${codeOf(error)}`);
    }
  }

  // The node is the one behind the first candidate socket where a process is visible. Signal it
  // even when no file was there: it may still hold keys it loaded earlier.
  let node: NodeController | null = null;
  let sighup: SignalOutcome | null = null;
  const notFound: string[] = [];
  for (const socketPath of targets.socketPaths) {
    const candidate = nodeFor(socketPath, targets);
    if (stuck.length > 0) {
      // Rule N (docs/safety.md): the files stay, so a SIGHUP would make the node (re)load them — a
      // node restarted non-producing would start forging. Locate it without signalling; stop it below.
      const seen = await observeWithin(candidate, 2000).catch(() => null);
      if (seen !== null && seen.pid === null && (seen.socket === 'missing' || seen.socket === 'stale')) {
        notFound.push(`no node process behind ${socketPath} (${seen.message})`);
        continue;
      }
      node = candidate;
      sighup = {
        delivered: false,
        pid: seen?.pid ?? null,
        reason: 'NotSignalled',
        message: 'not signalled: its credential files could not be removed',
      };
      break;
    }
    const outcome = await candidate.reload('disable_forging').catch((error: unknown): SignalOutcome => ({
      delivered: false,
      pid: null,
      reason: 'SignalFailed',
      message: String(error),
    }));
    if (outcome.pid === null && outcome.reason === 'NoProcess') {
      notFound.push(outcome.message);
      continue;
    }
    node = candidate;
    sighup = outcome;
    break;
  }

  const terminate = async (why: string): Promise<SignalOutcome> =>
    withDeadline(clock, timings.terminateGraceMs * 2 + 1000, (signal) =>
      (node as NodeController).terminate(why, timings.terminateGraceMs, signal),
    ).catch((error: unknown) => ({
      delivered: false,
      pid: null,
      reason: 'SignalFailed',
      message: String(error),
    }));

  let end: NodeEnd;
  const detail: string[] = [];
  if (node === null || sighup === null) {
    // No process visible. If its metric still says forging, the node runs where we cannot see it.
    const metric = targets.metricsUrl
      ? await observeWithin(nodeFor(targets.socketPaths[0] ?? '', targets), 2000)
          .then((o) => o.forgingMetric)
          .catch(() => null)
      : null;
    end = metric === true ? 'may-still-be-forging' : 'not-visible';
    detail.push(`no node process found (${notFound.join('; ')})`);
    if (metric === true) detail.push(`but ${targets.metricsUrl} still reports forging enabled`);
  } else if (stuck.length > 0 || (!sighup.delivered && sighup.reason !== 'ProcessGone')) {
    // The node would re-read the same keys (or cannot be signalled): stop it.
    detail.push(sighup.delivered ? 'node signalled' : `node not signalled (${sighup.message})`);
    const stopped = await terminate(
      stuck.length > 0 ? 'credentials cannot be removed' : 'node cannot be signalled',
    );
    detail.push(`last resort: ${stopped.message}`);
    end = stopped.delivered ? 'terminated' : 'may-still-be-forging';
  } else {
    detail.push(sighup.delivered ? `node signalled (${sighup.message})` : sighup.message);
    end = await confirmStopped(node, targets, timings, clock, detail);
    if (end === 'may-still-be-forging') {
      const stopped = await terminate('node did not confirm it stopped forging');
      detail.push(`last resort: ${stopped.message}`);
      if (stopped.delivered) end = 'terminated';
    }
  }

  const safe = end !== 'may-still-be-forging';
  const message = [
    `fail-safe: removed ${removed.length} credential file(s)`,
    ...(stuck.length > 0 ? [`could NOT remove ${stuck.join(', ')}`] : []),
    ...detail,
    `node ${end}`,
  ].join('; ');
  const advice = adviceFor(end, stuck.length > 0);
  if (!safe || stuck.length > 0 || end === 'terminated')
    logger.fatal({ outcome: end }, `${message}. ${advice}`);
  else logger.warn({ outcome: end }, advice ? `${message}. ${advice}` : message);
  return { removed, stuck, signalled: sighup?.delivered === true, node: end, safe, message };
}

async function confirmStopped(
  node: NodeController,
  targets: FailSafeTargets,
  timings: FailSafeTimings,
  clock: Clock,
  detail: string[],
): Promise<NodeEnd> {
  if (!targets.metricsUrl) {
    await clock.sleep(timings.unconfirmedWaitMs);
    detail.push(`no node metrics URL: waited ${timings.unconfirmedWaitMs} ms without confirmation`);
    return 'assumed-not-forging';
  }
  const deadline = clock.monotonicMs() + timings.confirmTimeoutMs;
  let last: string;
  for (;;) {
    const observed = await withDeadline(clock, 1000, (signal) => node.observe(signal)).catch(() => null);
    if (observed?.forgingMetric === false) {
      detail.push('its metric confirms forging disabled');
      return 'confirmed-not-forging';
    }
    if (observed && observed.pid === null && observed.socket !== 'up') {
      detail.push('its process is gone');
      return 'confirmed-not-forging';
    }
    last = observed ? `forging metric ${String(observed.forgingMetric)}` : 'observe failed';
    if (clock.monotonicMs() >= deadline) break;
    await clock.sleep(100);
  }
  detail.push(`not confirmed within ${timings.confirmTimeoutMs} ms (${last})`);
  return 'may-still-be-forging';
}

function adviceFor(end: NodeEnd, stuck: boolean): string {
  const fixFiles = stuck ? ' Make the key directory writable by the sidecar.' : '';
  switch (end) {
    case 'may-still-be-forging':
      return `OPERATOR ACTION REQUIRED: the node may still be forging and a standby can take over; stop this node now (kubectl delete pod, or scale down).${fixFiles}`;
    case 'terminated':
      return `The node process was stopped so it cannot forge; its container restarts it non-producing.${fixFiles} Then fix the sidecar.`;
    case 'not-visible':
      return 'No node process was visible to signal (not started, or no shared process namespace); if a node runs with keys loaded, stop it.';
    case 'assumed-not-forging':
      return 'Set node.metricsUrl (NODE_METRICS_URL) so the fail-safe can confirm the node stopped forging.';
    case 'confirmed-not-forging':
      return '';
  }
}
