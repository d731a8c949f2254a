/**
 * Everything the node controller asks of the operating system, behind one interface so the
 * deterministic simulation (test/dst) can run the real controller against a modelled node: socket
 * connect, /proc lookups, the node's metrics endpoint, and signals. `createNodeOs` is the real one.
 */
import type { Dispatcher } from 'undici';
import type { Clock } from '../contracts/index.js';
import { createSystemClock } from '../core/clock.js';
import { scrapeNodeMetrics, type NodeMetricsScrape } from './node-metrics.js';
import {
  listeningSocketInodes,
  pidHasArgument,
  pidHasName,
  pidsHoldingSocket,
  socketFdOf,
  pidsWithName,
} from './proc.js';
import { probeUnixSocket, type SocketProbe } from './socket-probe.js';

export interface NodeOs {
  /** connect() to the unix socket at `path`; 'up' only when it succeeds within `timeoutMs`. */
  probeSocket(path: string, timeoutMs: number, signal?: AbortSignal): Promise<SocketProbe>;
  /** Inodes of the listening unix sockets bound to `socketPath` (empty when none). */
  listeningSocketInodes(socketPath: string): Promise<Set<string>>;
  pidHoldsSocket(pid: number, inodes: ReadonlySet<string>): Promise<boolean>;
  /** PIDs (other than `ownPid`) holding one of `inodes` open. */
  pidsHoldingSocket(inodes: ReadonlySet<string>, ownPid: number): Promise<number[]>;
  pidHasName(pid: number, processName: string): Promise<boolean>;
  pidsWithName(processName: string, ownPid: number): Promise<number[]>;
  /** Whether the process's command line carries `arg`; null when it cannot be read. */
  pidHasArgument(pid: number, arg: string): Promise<boolean | null>;
  /** Scrapes the node's Prometheus endpoint. Never throws. */
  scrapeMetrics(url: string, timeoutMs: number, signal: AbortSignal): Promise<NodeMetricsScrape>;
  /** process.kill: throws ESRCH/EPERM like it; signal 0 only checks that the process exists. */
  sendSignal(pid: number, signal: NodeJS.Signals | 0): void;
}

/** The real one; its connect and scrape deadlines run on `clock` (the system clock by default). */
export function createNodeOs(
  procRoot: string,
  dispatcher?: Dispatcher,
  clock: Clock = createSystemClock(),
): NodeOs {
  // The fd through which the node was last seen holding its listener: checked first next time.
  let lastHolder: { pid: number; fd: string } | null = null;
  return {
    probeSocket: (path, timeoutMs, signal) => probeUnixSocket(path, timeoutMs, signal, clock),
    listeningSocketInodes: (socketPath) => listeningSocketInodes(procRoot, socketPath),
    pidHoldsSocket: async (pid, inodes) => {
      const hint = lastHolder?.pid === pid ? lastHolder.fd : undefined;
      const fd = await socketFdOf(procRoot, pid, inodes, hint);
      if (fd !== null) lastHolder = { pid, fd };
      return fd !== null;
    },
    pidsHoldingSocket: (inodes, ownPid) => pidsHoldingSocket(procRoot, inodes as Set<string>, ownPid),
    pidHasName: (pid, name) => pidHasName(procRoot, pid, name),
    pidsWithName: (name, ownPid) => pidsWithName(procRoot, name, ownPid),
    pidHasArgument: (pid, arg) => pidHasArgument(procRoot, pid, arg),
    scrapeMetrics: (url, timeoutMs, signal) => scrapeNodeMetrics(url, timeoutMs, signal, dispatcher, clock),
    sendSignal: (pid, signal) => void process.kill(pid, signal),
  };
}
