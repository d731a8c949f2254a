/**
 * A pod's cardano-node container and PID namespace, modelled on dynamic block forging as the real
 * node and test/cardano-node-sim do it: the credential files are read when the node comes up
 * (unless it runs with --start-as-non-producing-node) and re-read on SIGHUP, all three valid ⇒
 * forging, otherwise not. A SIGHUP that arrives before the node installed its handler kills it
 * (the default action). `forging` here is what the node has ACTUALLY loaded: the invariant is
 * checked on it, never on what a sidecar believes.
 *
 * `os()` is the NodeOs the real node controller runs on: socket connect, /proc lookups, the
 * node's metrics endpoint (cardano_node_metrics_forging_enabled), and signals.
 */
import type { SimFilesystem } from './filesystem.ts';
import type { NodeMetricsScrape, NodeOs, SocketProbe } from './framework.ts';
import { Owner, type Sim } from './sim.ts';

export const SOCKET_PATH = '/ipc/node.socket';
export const METRICS_URL = 'http://127.0.0.1:12798/metrics';
export const NON_PRODUCING_FLAG = '--start-as-non-producing-node';
const PAUSE_PID = 1;
export const SIDECAR_PID = 7;

interface Proc {
  readonly pid: number;
  readonly comm: string;
  readonly args: readonly string[];
  holdsInode: string | null;
  signal(sig: NodeJS.Signals): void;
}

export interface NodeStartOptions {
  /** --start-as-non-producing-node on the command line. */
  readonly nonProducingFlag: boolean;
  /** From process start until the SIGHUP handler is installed (earlier SIGHUPs kill it). */
  readonly handlerDelayMs: number;
  /** From process start until the socket listens and startup credentials are read. */
  readonly socketDelayMs: number;
}

interface NodeIncarnation {
  readonly proc: Proc;
  readonly owner: Owner;
  handlerInstalled: boolean;
  running: boolean;
}

export class SimNode {
  readonly procs = new Map<number, Proc>();
  /** The socket file on disk: its inode, or null when absent. */
  socketFile: string | null = null;
  forging = false;
  node: NodeIncarnation | null = null;
  /** SIGHUP reaction time (true ms) for the next signals. */
  sighupDelayMs: () => number = () => 0;
  /** /proc reads take this long (true ms) and ignore cancellation; 0 = normal. */
  procHangMs = 0;
  /** The metrics endpoint does not answer (the caller's timeout ends the scrape). */
  metricsHung = false;
  /** Signals to the node fail with EPERM (it runs under another UID). */
  signalDenied = false;
  /** Nodes killed by a SIGHUP that came before their handler. */
  killedBySighup = 0;
  /** The next node exit hands its PID to an unrelated process. */
  reusePidOnExit = false;
  /** Called when the node exits; the world restarts the container. */
  onExit: (why: string) => void = () => undefined;
  #nextPid = 100;
  #nextInode = 5000;
  starts = 0;

  private readonly sim: Sim;
  readonly who: string;
  private readonly fs: SimFilesystem;
  private readonly sidecarOwner: () => Owner;
  private readonly onForging: (who: string, forging: boolean) => void;

  constructor(
    sim: Sim,
    who: string,
    fs: SimFilesystem,
    sidecarOwner: () => Owner,
    onForging: (who: string, forging: boolean) => void,
  ) {
    this.sim = sim;
    this.who = who;
    this.fs = fs;
    this.sidecarOwner = sidecarOwner;
    this.onForging = onForging;
    this.#addProc(PAUSE_PID, 'pause', ['/pause']);
    this.#addProc(SIDECAR_PID, 'node', ['node', 'forge-manager', 'run']);
  }

  #addProc(pid: number, comm: string, args: string[], onSignal?: (sig: NodeJS.Signals) => void): Proc {
    const proc: Proc = {
      pid,
      comm,
      args,
      holdsInode: null,
      signal: onSignal ?? (() => undefined),
    };
    this.procs.set(pid, proc);
    return proc;
  }

  #setForging(forging: boolean, why: string): void {
    if (this.forging === forging) return;
    this.forging = forging;
    this.sim.log(this.who, `NODE ${forging ? 'FORGING ON' : 'forging off'} (${why})`);
    this.onForging(this.who, forging);
  }

  get alive(): boolean {
    return this.node !== null;
  }

  start(options: NodeStartOptions): void {
    if (this.node !== null) return;
    this.starts += 1;
    const pid = this.#nextPid++;
    const args = ['cardano-node', 'run', '--socket-path', SOCKET_PATH];
    if (options.nonProducingFlag) args.push(NON_PRODUCING_FLAG);
    const owner = new Owner(`${this.who}/node`);
    const proc = this.#addProc(pid, 'cardano-node', args, (sig) => this.#onSignal(incarnation, sig));
    const incarnation: NodeIncarnation = { proc, owner, handlerInstalled: false, running: false };
    this.node = incarnation;
    this.sim.log(
      this.who,
      `node started pid ${pid}${options.nonProducingFlag ? ' (non-producing)' : ' WITHOUT the non-producing flag'}`,
    );
    this.sim.at(owner, options.handlerDelayMs, () => {
      incarnation.handlerInstalled = true;
    });
    this.sim.at(owner, options.socketDelayMs, () => {
      incarnation.running = true;
      const inode = String(this.#nextInode++);
      this.socketFile = inode;
      proc.holdsInode = inode;
      this.sim.log(this.who, `node pid ${pid} up (socket listening)`);
      if (!options.nonProducingFlag) this.#setForging(this.fs.targetsValid(), 'credentials read at startup');
    });
  }

  /** Process exit. `cleanSocket`: a graceful exit removes the socket file; a kill leaves it stale. */
  exit(why: string, cleanSocket: boolean): void {
    const incarnation = this.node;
    if (incarnation === null) return;
    this.node = null;
    this.sim.kill(incarnation.owner);
    this.procs.delete(incarnation.proc.pid);
    incarnation.proc.holdsInode = null;
    if (cleanSocket) this.socketFile = null;
    this.#setForging(false, `process exited: ${why}`);
    this.sim.log(this.who, `node pid ${incarnation.proc.pid} exited (${why})`);
    if (this.reusePidOnExit) {
      this.reusePidOnExit = false;
      this.#addProc(incarnation.proc.pid, 'sleep', ['sleep', 'infinity']);
      this.sim.log(this.who, `pid ${incarnation.proc.pid} reused by an unrelated process`);
    }
    this.onExit(why);
  }

  freeze(): void {
    if (this.node) this.sim.freeze(this.node.owner);
  }

  thaw(): void {
    if (this.node) this.sim.thaw(this.node.owner);
  }

  #onSignal(incarnation: NodeIncarnation, sig: NodeJS.Signals): void {
    if (this.node !== incarnation) return;
    const pid = incarnation.proc.pid;
    if (sig === 'SIGKILL') {
      this.exit('SIGKILL', false);
      return;
    }
    if (sig === 'SIGTERM') {
      this.sim.log(this.who, `node pid ${pid} got SIGTERM`);
      this.sim.at(incarnation.owner, 200, () => this.exit('SIGTERM', true));
      return;
    }
    if (sig !== 'SIGHUP') return;
    if (!incarnation.handlerInstalled) {
      this.sim.log(this.who, `node pid ${pid} got SIGHUP before installing its handler`);
      this.killedBySighup += 1;
      this.exit('killed by SIGHUP (no handler yet)', false);
      return;
    }
    const delay = this.sighupDelayMs();
    this.sim.log(this.who, `node pid ${pid} got SIGHUP (handles it in ${Math.round(delay)} ms)`);
    this.sim.at(incarnation.owner, delay, () => {
      if (!incarnation.running) {
        this.sim.log(this.who, `node pid ${pid} ignored SIGHUP while starting`);
        return;
      }
      this.#setForging(this.fs.targetsValid(), 'SIGHUP re-read the credential files');
    });
  }

  #proc<T>(answer: () => T): Promise<T> {
    if (this.procHangMs <= 0) return Promise.resolve().then(answer);
    return new Promise((resolve) =>
      this.sim.at(this.sidecarOwner(), this.procHangMs, () => resolve(answer())),
    );
  }

  #listening(): Set<string> {
    const inode = this.socketFile;
    if (inode === null) return new Set();
    for (const proc of this.procs.values()) if (proc.holdsInode === inode) return new Set([inode]);
    return new Set();
  }

  os(): NodeOs {
    return {
      probeSocket: (path: string): Promise<SocketProbe> =>
        Promise.resolve().then(() => {
          if (path !== SOCKET_PATH || this.socketFile === null)
            return { state: 'missing', detail: `no socket at ${path}` };
          return this.#listening().size > 0
            ? { state: 'up', detail: `accepting connections on ${path}` }
            : { state: 'stale', detail: `socket file ${path} present but connect failed (ECONNREFUSED)` };
        }),
      listeningSocketInodes: (path) =>
        this.#proc(() => (path === SOCKET_PATH ? this.#listening() : new Set<string>())),
      pidHoldsSocket: (pid, inodes) =>
        this.#proc(() => {
          const held = this.procs.get(pid)?.holdsInode;
          return held !== undefined && held !== null && inodes.has(held);
        }),
      pidsHoldingSocket: (inodes, ownPid) =>
        this.#proc(() =>
          [...this.procs.values()]
            .filter((p) => p.pid !== ownPid && p.holdsInode !== null && inodes.has(p.holdsInode))
            .map((p) => p.pid),
        ),
      pidHasName: (pid, name) => this.#proc(() => this.procs.get(pid)?.comm === name),
      pidsWithName: (name, ownPid) =>
        this.#proc(() =>
          [...this.procs.values()].filter((p) => p.pid !== ownPid && p.comm === name).map((p) => p.pid),
        ),
      pidHasArgument: (pid, arg) =>
        this.#proc(() => {
          const proc = this.procs.get(pid);
          return proc === undefined ? null : proc.args.includes(arg);
        }),
      scrapeMetrics: (_url, timeoutMs, signal): Promise<NodeMetricsScrape> => {
        const unreachable = (detail: string): NodeMetricsScrape => ({ forging: null, slot: null, detail });
        const node = this.node;
        if (node === null || !node.running)
          return Promise.resolve(unreachable('metrics unreachable (ECONNREFUSED)'));
        if (this.metricsHung || node.owner.frozen)
          return new Promise((resolve) => {
            const done = (): void => resolve(unreachable(`metrics timed out after ${timeoutMs} ms`));
            this.sim.at(this.sidecarOwner(), timeoutMs, done);
            signal.addEventListener('abort', done, { once: true });
          });
        return Promise.resolve({ forging: this.forging, slot: null, detail: '' });
      },
      sendSignal: (pid, sig) => {
        const proc = this.procs.get(pid);
        if (proc === undefined) {
          const error = new Error(`kill ESRCH`) as NodeJS.ErrnoException;
          error.code = 'ESRCH';
          throw error;
        }
        if (sig === 0) return;
        if (this.signalDenied && proc.comm === 'cardano-node') {
          const error = new Error('kill EPERM') as NodeJS.ErrnoException;
          error.code = 'EPERM';
          throw error;
        }
        this.sim.log(this.who, `signal ${sig} -> pid ${pid} (${proc.comm})`);
        proc.signal(sig);
      },
    };
  }
}
