/**
 * The built-in NodeController: watches the local cardano-node (socket liveness, PID, its own
 * forging metric, distance from the tip) and sends it SIGHUP so it re-reads its credential paths.
 */
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import type {
  Clock,
  NodeController,
  NodeObservation,
  ReloadOptions,
  SignalOutcome,
} from '../contracts/index.js';
import type { NodeMetricsScrape } from './node-metrics.js';
import { createSystemClock } from '../core/clock.js';
import { createNodeOs, type NodeOs } from './os.js';

export const SIGHUP_SIGNALS_METRIC = 'cardano_sighup_signals_total';
export const NON_PRODUCING_FLAG = '--start-as-non-producing-node';

export const nodeControllerOptionsSchema = z.strictObject({
  /** The node's local (node-to-client) socket, e.g. /ipc/node.socket. */
  socketPath: z.string().min(1),
  processName: z.string().min(1).default('cardano-node'),
  /** 'socket': the process holding the listening socket (exact); 'name': exact comm/argv[0] match. */
  pidDiscovery: z.enum(['socket', 'name']).default('socket'),
  /** cardano-node's Prometheus endpoint, e.g. http://127.0.0.1:12798/metrics. */
  metricsUrl: z.url().optional(),
  /** When set, the node counts as behind when (expected slot - its tip slot) exceeds this. */
  maxSlotLag: z.number().int().nonnegative().optional(),
  slotLengthMs: z.number().int().positive().default(1000),
  procRoot: z.string().min(1).default('/proc'),
  connectTimeoutMs: z.number().int().positive().default(1000),
  metricsTimeoutMs: z.number().int().positive().default(2000),
  /**
   * Only SIGHUP a process that has been seen serving the node socket: SIGHUP's default action kills
   * a process that has not installed its handler yet. Off only with DISABLE_SOCKET_CHECK (no socket).
   */
  requireServingSocket: z.boolean().default(true),
});

export type NodeControllerOptions = z.input<typeof nodeControllerOptionsSchema>;

export interface NodeControllerDeps {
  readonly logger: Logger;
  readonly registry?: Registry;
  readonly clock?: Pick<Clock, 'monotonicMs'> & Partial<Pick<Clock, 'sleep'>>;
  /**
   * The slot the network is at now (e.g. from the wall clock and the genesis system start), or
   * null when unknown. Without it the controller projects the highest tip it has seen from this
   * node forward at one slot per slotLengthMs (see `judgeTip`).
   */
  readonly expectedSlot?: () => number | null;
  /** Signal seam (tests inject EPERM/ESRCH); defaults to the os seam's sendSignal (process.kill). */
  readonly sendSignal?: (pid: number, signal: NodeJS.Signals) => void;
  readonly dispatcher?: Dispatcher;
  /** The operating-system seam; defaults to the real one over `procRoot` (the simulation models it). */
  readonly os?: NodeOs;
  /** Our own PID, never a candidate; defaults to process.pid. */
  readonly ownPid?: number;
}

interface PidLookup {
  readonly pid: number | null;
  readonly detail: string;
  /** No PID, but not because the node is known to be absent (discovery failed, ambiguous, or a
   * listener we cannot see): the node may be running, so it must not be taken for gone. */
  readonly uncertain?: boolean;
}

function sighupCounter(registry: Registry | undefined): Counter<'reason'> | null {
  if (registry === undefined) return null;
  const existing = registry.getSingleMetric(SIGHUP_SIGNALS_METRIC);
  if (existing !== undefined) return existing as Counter<'reason'>;
  return new Counter({
    name: SIGHUP_SIGNALS_METRIC,
    help: 'SIGHUP attempts by outcome: <reason> sent, <reason>_skipped no PID found, <reason>_cross_container PID vanished',
    labelNames: ['reason'],
    registers: [registry],
  });
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

export function createNodeController(
  deps: NodeControllerDeps,
  options: NodeControllerOptions,
): NodeController {
  const config = nodeControllerOptionsSchema.parse(options);
  const { logger } = deps;
  // Every wait on the injected clock (the deterministic simulation drives it); the system clock otherwise.
  const systemClock = createSystemClock();
  const clock = deps.clock;
  const monotonicMs = clock ? () => clock.monotonicMs() : () => systemClock.monotonicMs();
  const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
    clock?.sleep ? clock.sleep(ms, signal) : systemClock.sleep(ms, signal);
  const os = deps.os ?? createNodeOs(config.procRoot, deps.dispatcher);
  const sendSignal = deps.sendSignal ?? ((pid: number, signal: NodeJS.Signals) => os.sendSignal(pid, signal));
  const ownPid = deps.ownPid ?? process.pid;
  const sighups = sighupCounter(deps.registry);

  let cachedPid: number | null = null;
  /** The PID last seen holding the socket while the socket accepted connections. */
  let servingPid: number | null = null;
  /** The highest projection of this node's tip: (slot, when seen). */
  let slotAnchor: { slot: number; atMs: number } | null = null;

  async function lookupBySocket(): Promise<PidLookup> {
    const inodes = await os.listeningSocketInodes(config.socketPath);
    if (inodes.size === 0) return { pid: null, detail: `no process listens on ${config.socketPath}` };
    // The cached PID is only reused while it still holds the current listening socket.
    if (cachedPid !== null && (await os.pidHoldsSocket(cachedPid, inodes))) {
      return { pid: cachedPid, detail: `pid ${cachedPid} listens on ${config.socketPath}` };
    }
    const holders = await os.pidsHoldingSocket(inodes, ownPid);
    if (holders.length === 1)
      return { pid: holders[0] ?? null, detail: `pid ${holders[0]} listens on ${config.socketPath}` };
    if (holders.length === 0) {
      return {
        pid: null,
        detail: `the socket ${config.socketPath} is listened on by no visible process (no shared PID namespace?)`,
        uncertain: true,
      };
    }
    // Inherited fds (a fork) can share the listener; prefer the one that has the node's name.
    const named: number[] = [];
    for (const pid of holders) if (await os.pidHasName(pid, config.processName)) named.push(pid);
    if (named.length === 1)
      return { pid: named[0] ?? null, detail: `pid ${named[0]} listens on ${config.socketPath}` };
    return {
      pid: null,
      detail: `ambiguous: pids ${holders.join(', ')} all hold ${config.socketPath}`,
      uncertain: true,
    };
  }

  async function lookupByName(): Promise<PidLookup> {
    if (cachedPid !== null && (await os.pidHasName(cachedPid, config.processName))) {
      return { pid: cachedPid, detail: `pid ${cachedPid} is ${config.processName}` };
    }
    const matches = await os.pidsWithName(config.processName, ownPid);
    if (matches.length === 1)
      return { pid: matches[0] ?? null, detail: `pid ${matches[0]} is ${config.processName}` };
    if (matches.length === 0)
      return { pid: null, detail: `no process named ${config.processName} is visible` };
    return {
      pid: null,
      detail: `ambiguous: pids ${matches.join(', ')} are all named ${config.processName}`,
      uncertain: true,
    };
  }

  async function findPid(): Promise<PidLookup> {
    let lookup: PidLookup;
    try {
      lookup = config.pidDiscovery === 'socket' ? await lookupBySocket() : await lookupByName();
    } catch (error) {
      lookup = { pid: null, detail: `process discovery failed (${errorCode(error)})`, uncertain: true };
    }
    if (lookup.pid !== cachedPid)
      logger.debug({ pid: lookup.pid, previous: cachedPid }, `node pid: ${lookup.detail}`);
    cachedPid = lookup.pid;
    return lookup;
  }

  /**
   * Tip gate. The expected slot comes from deps.expectedSlot when it knows; otherwise it is the
   * highest projection seen so far: max over observations of (slot + elapsed / slotLength). That
   * catches a node that stalls or comes back behind after a restart, but cannot know the tip of a
   * node seen for the first time; supply expectedSlot for a real tip gate. slotNum is the slot of
   * the last adopted block, which trails the wall-clock slot by the block gap (often 20 s, at
   * times minutes), so maxSlotLag must be generous.
   */
  function judgeTip(slot: number | null): { atTip: boolean | null; detail: string } {
    if (config.maxSlotLag === undefined) return { atTip: null, detail: '' };
    if (slot === null) return { atTip: null, detail: 'tip unknown (no slot metric)' };
    const now = monotonicMs();
    const projected =
      slotAnchor === null
        ? null
        : slotAnchor.slot + Math.floor((now - slotAnchor.atMs) / config.slotLengthMs);
    if (projected === null || slot >= projected) slotAnchor = { slot, atMs: now };
    const expected = deps.expectedSlot?.() ?? Math.max(projected ?? slot, slot);
    const lag = expected - slot;
    const atTip = lag <= config.maxSlotLag;
    return {
      atTip,
      detail: `${atTip ? 'at tip' : 'behind'}: slot ${slot}, expected ${expected}, lag ${lag} (max ${config.maxSlotLag})`,
    };
  }

  async function observe(signal: AbortSignal): Promise<NodeObservation> {
    const noMetrics: NodeMetricsScrape = { forging: null, slot: null, detail: '' };
    const [socket, metrics] = await Promise.all([
      os.probeSocket(config.socketPath, config.connectTimeoutMs, signal),
      config.metricsUrl === undefined
        ? Promise.resolve(noMetrics)
        : os.scrapeMetrics(config.metricsUrl, config.metricsTimeoutMs, signal),
    ]);
    const pid = await findPid();
    if (socket.state === 'up' && pid.pid !== null) servingPid = pid.pid;
    const tip = judgeTip(metrics.slot);
    const startsNonProducing = pid.pid === null ? null : await os.pidHasArgument(pid.pid, NON_PRODUCING_FLAG);
    const message = [`socket ${socket.state}: ${socket.detail}`, pid.detail, metrics.detail, tip.detail]
      .filter((part) => part !== '')
      .join('; ');
    // A node we cannot find but may not be gone (discovery failed, ambiguous, invisible listener) is
    // unknown unless its socket serves: never report "no socket, no process" = not forging on a guess.
    const state =
      pid.pid === null && pid.uncertain === true && socket.state !== 'up' ? 'unknown' : socket.state;
    return {
      socket: state,
      pid: pid.pid,
      forgingMetric: metrics.forging,
      atTip: tip.atTip,
      startsNonProducing,
      message,
    };
  }

  /**
   * findPid, but a revoke cannot wait for it: when the lookup outlasts `budgetMs` (a /proc read
   * that hangs) or fails, the PID last seen serving the socket is used. That PID was the node's;
   * PIDs are not reused until the counter wraps, and a stray SIGHUP is a smaller harm than a node
   * left forging next to a new leader (docs/safety.md §11).
   */
  async function findPidForRevoke(budgetMs: number | undefined): Promise<PidLookup> {
    if (budgetMs === undefined) return findPid();
    const timer = new AbortController();
    const lookup = await Promise.race([
      findPid(),
      sleep(budgetMs, timer.signal).then(
        () => null,
        () => null,
      ),
    ]);
    timer.abort();
    if (lookup !== null && !(lookup.pid === null && lookup.uncertain === true)) return lookup;
    const why = lookup === null ? `process lookup did not answer within ${budgetMs} ms` : lookup.detail;
    if (servingPid === null) return { pid: null, detail: why, uncertain: true };
    logger.warn({ pid: servingPid }, `${why}; using pid ${servingPid}, last seen serving the socket`);
    return { pid: servingPid, detail: `${why}; pid ${servingPid} last served ${config.socketPath}` };
  }

  /** Whether `pid` has been seen serving the socket (probing now if it has not been yet). */
  async function serving(pid: number): Promise<boolean> {
    if (!config.requireServingSocket || pid === servingPid) return true;
    const probe = await os.probeSocket(config.socketPath, config.connectTimeoutMs);
    if (probe.state !== 'up') return false;
    const again = await findPid();
    if (again.pid !== pid) return false;
    servingPid = pid;
    return true;
  }

  async function reload(reason: string, options: ReloadOptions = {}): Promise<SignalOutcome> {
    const lookup = await findPidForRevoke(options.lookupBudgetMs);
    if (lookup.pid === null) {
      sighups?.inc({ reason: `${reason}_skipped` });
      logger.warn({ reason }, `SIGHUP not sent: ${lookup.detail}`);
      return {
        delivered: false,
        pid: null,
        reason: 'NoProcess',
        message: `SIGHUP not sent: ${lookup.detail}`,
      };
    }
    const pid = lookup.pid;
    if (!(await serving(pid))) {
      sighups?.inc({ reason: `${reason}_skipped` });
      logger.warn({ reason, pid }, 'SIGHUP not sent: the process has not been seen serving its socket yet');
      return {
        delivered: false,
        pid,
        reason: 'NotServing',
        message: `SIGHUP not sent: pid ${pid} has not been seen serving ${config.socketPath} yet (it may not handle SIGHUP)`,
      };
    }
    // Checked immediately before the signal: the caller's deadline may have passed during the lookup.
    const refused = options.proceed?.() ?? null;
    if (refused !== null)
      return { delivered: false, pid, reason: 'Refused', message: `SIGHUP not sent: ${refused}` };
    try {
      sendSignal(pid, 'SIGHUP');
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ESRCH') {
        cachedPid = null;
        servingPid = null;
        sighups?.inc({ reason: `${reason}_cross_container` });
        logger.warn({ reason, pid }, 'SIGHUP not delivered: the process exited');
        return {
          delivered: false,
          pid,
          reason: 'ProcessGone',
          message: `pid ${pid} exited before SIGHUP could be delivered`,
        };
      }
      // Like the Python sidecar, permission and other errors are not counted in the metric.
      logger.error({ reason, pid, code }, 'SIGHUP failed');
      if (code === 'EPERM') {
        return {
          delivered: false,
          pid,
          reason: 'PermissionDenied',
          message: `not permitted to signal pid ${pid} (run as the node's UID)`,
        };
      }
      return {
        delivered: false,
        pid,
        reason: 'SignalFailed',
        message: `SIGHUP to pid ${pid} failed (${code})`,
      };
    }
    sighups?.inc({ reason });
    logger.info({ reason, pid }, 'sent SIGHUP to cardano-node');
    return {
      delivered: true,
      pid,
      reason: 'Delivered',
      message: `SIGHUP delivered to pid ${pid} (${lookup.detail})`,
    };
  }

  /** Whether `pid` still exists (signal 0 probes without delivering anything). */
  function alive(pid: number): boolean {
    try {
      sendSignal(pid, 0 as unknown as NodeJS.Signals);
      return true;
    } catch (error) {
      return errorCode(error) !== 'ESRCH';
    }
  }

  async function terminate(
    reason: string,
    graceMs: number,
    signal: AbortSignal,
    options: Pick<ReloadOptions, 'lookupBudgetMs'> = {},
  ): Promise<SignalOutcome> {
    const lookup = await findPidForRevoke(options.lookupBudgetMs);
    if (lookup.pid === null)
      return {
        delivered: false,
        pid: null,
        reason: 'NoProcess',
        message: `node not stopped: ${lookup.detail}`,
      };
    const pid = lookup.pid;
    const began = monotonicMs();
    for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
      try {
        sendSignal(pid, sig);
        logger.error({ reason, pid, signal: sig }, `stopping cardano-node (${sig}): ${reason}`);
      } catch (error) {
        const code = errorCode(error);
        if (code !== 'ESRCH')
          return {
            delivered: false,
            pid,
            reason: 'SignalFailed',
            message: `${sig} to pid ${pid} failed (${code})`,
          };
      }
      const until = sig === 'SIGTERM' ? began + graceMs : monotonicMs() + graceMs;
      while (alive(pid) && monotonicMs() < until && !signal.aborted)
        await sleep(50, signal).catch(() => undefined);
      if (!alive(pid)) {
        cachedPid = null;
        servingPid = null;
        return { delivered: true, pid, reason: 'ProcessGone', message: `pid ${pid} stopped (${sig})` };
      }
      if (signal.aborted) break;
    }
    return { delivered: false, pid, reason: 'StillRunning', message: `pid ${pid} is still running` };
  }

  return { observe, reload, terminate };
}
