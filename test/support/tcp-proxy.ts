// A loopback TCP proxy whose link tests can cut and heal, per caller and per direction.
//   pass      bytes flow;
//   blackhole bytes in that direction are held back (not read, so not lost): the sender's writes
//             fill the kernel buffers and then block, the receiver hears nothing — a dropped link as
//             both ends see it before TCP gives up. New connections are accepted and held too.
//             Healing lets the held bytes through, like a partition that heals while TCP retransmits.
//   refuse    existing connections are reset (RST) and new ones are reset right after accept (the
//             kernel completes the handshake before a proxy can say no) — a link that fails fast.
// Callers are told apart by `identifyCaller` (for example the connecting process, see
// socket-owner.ts); connections it cannot name count as UNKNOWN_CALLER. Erasable-only TypeScript.
import { connect, createServer, type Server, type Socket } from 'node:net';

export type LinkMode = 'pass' | 'blackhole' | 'refuse';
/** toTarget: caller → target bytes; fromTarget: target → caller bytes. */
export type LinkDirection = 'both' | 'toTarget' | 'fromTarget';

export interface LinkState {
  readonly toTarget: LinkMode;
  readonly fromTarget: LinkMode;
}

export const UNKNOWN_CALLER = 'unknown';

export interface TcpProxyOptions {
  readonly target: { readonly host: string; readonly port: number };
  /** Default 127.0.0.1; only loopback addresses are accepted. */
  readonly listenHost?: string;
  /** Default 0 (any free port). */
  readonly listenPort?: number;
  /** Names the caller of an accepted connection; a rejection counts as UNKNOWN_CALLER. */
  readonly identifyCaller?: (socket: Socket) => Promise<string>;
}

export interface SetLinkOptions {
  /** One caller; omitted: every caller, including those not seen yet. */
  readonly caller?: string;
  /** Default 'both'. 'refuse' needs 'both': a TCP connection cannot be refused one way only. */
  readonly direction?: LinkDirection;
  /**
   * Reset the affected callers' open connections first (new ones then get `mode`), for a cut that
   * also loses the connections' state (a restarted middlebox). 'refuse' always resets them.
   */
  readonly resetExisting?: boolean;
}

export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  /** "host:port" */
  readonly address: string;
  set(mode: LinkMode, options?: SetLinkOptions): void;
  heal(options?: Omit<SetLinkOptions, 'direction'>): void;
  stateOf(caller: string): LinkState;
  /** New connections go to `target` from now on (existing ones keep theirs). */
  retarget(target: { readonly host: string; readonly port: number }): void;
  /** Open proxied connections by caller. */
  connectionsByCaller(): Map<string, number>;
  close(): Promise<void>;
}

interface ProxiedConnection {
  readonly caller: string;
  readonly client: Socket;
  readonly upstream: Socket;
  /** Re-applies the caller's link state to this connection. */
  apply(): void;
}

const PASS: LinkState = { toTarget: 'pass', fromTarget: 'pass' };

function isLoopback(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function isRefused(state: LinkState): boolean {
  return state.toTarget === 'refuse' || state.fromTarget === 'refuse';
}

/**
 * Copies `from` → `to` while `open()` says so. Reading stops (backpressure) while closed or while
 * `to` is full, so nothing is ever dropped. Returns the function that re-evaluates `open()`.
 */
function forward(from: Socket, to: Socket, open: () => boolean): () => void {
  let waitingForDrain = false;
  const update = (): void => {
    if (open() && !waitingForDrain) from.resume();
    else from.pause();
  };
  from.on('data', (chunk: Buffer) => {
    if (!open()) {
      // Read before the pause took effect: keep it for later, in order (paused first, or the
      // flowing stream would hand the chunk straight back to this handler).
      from.pause();
      from.unshift(chunk);
      return;
    }
    if (!to.write(chunk)) {
      waitingForDrain = true;
      update();
    }
  });
  to.on('drain', () => {
    waitingForDrain = false;
    update();
  });
  from.on('end', () => to.end());
  return update;
}

export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const listenHost = options.listenHost ?? '127.0.0.1';
  if (!isLoopback(listenHost) || !isLoopback(options.target.host)) {
    throw new Error(
      `tcp proxy: only loopback (127.x.y.z) addresses are allowed, got listen ${listenHost}, target ${options.target.host}`,
    );
  }
  let target = options.target;
  const identify = options.identifyCaller ?? (() => Promise.resolve(UNKNOWN_CALLER));
  let everyCaller: LinkState = PASS;
  const perCaller = new Map<string, LinkState>();
  const connections = new Set<ProxiedConnection>();
  const stateOf = (caller: string): LinkState => perCaller.get(caller) ?? everyCaller;
  let closed = false;

  const handle = async (client: Socket): Promise<void> => {
    client.pause();
    client.on('error', () => undefined); // surfaced through 'close'
    let caller: string;
    try {
      caller = await identify(client);
    } catch {
      caller = UNKNOWN_CALLER;
    }
    if (closed || client.destroyed || isRefused(stateOf(caller))) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true });
    upstream.pause();
    upstream.on('error', () => undefined);
    const connection: ProxiedConnection = {
      caller,
      client,
      upstream,
      apply: () => {
        const state = stateOf(caller);
        if (isRefused(state)) {
          client.resetAndDestroy();
          upstream.resetAndDestroy();
          return;
        }
        updateToTarget();
        updateFromTarget();
      },
    };
    const updateToTarget = forward(client, upstream, () => stateOf(caller).toTarget === 'pass');
    const updateFromTarget = forward(upstream, client, () => stateOf(caller).fromTarget === 'pass');
    connections.add(connection);
    let upstreamConnected = false;
    upstream.once('connect', () => {
      upstreamConnected = true;
      connection.apply();
    });
    // A dead target looks like a refused link to the caller; an error on one side resets the other.
    upstream.once('close', (hadError) => {
      connections.delete(connection);
      if (hadError || !upstreamConnected) client.resetAndDestroy();
      else if (!client.writableEnded) client.end();
    });
    client.once('close', (hadError) => {
      connections.delete(connection);
      if (hadError) upstream.resetAndDestroy();
      else if (!upstream.writableEnded) upstream.end();
    });
  };

  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    void handle(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort ?? 0, listenHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('tcp proxy: no listen address');
  const port = address.port;

  const reapply = (caller: string | undefined): void => {
    for (const connection of [...connections]) {
      if (caller === undefined || connection.caller === caller) connection.apply();
    }
  };

  const set = (mode: LinkMode, setOptions: SetLinkOptions = {}): void => {
    const direction = setOptions.direction ?? 'both';
    if (mode === 'refuse' && direction !== 'both') {
      throw new Error(
        `tcp proxy: 'refuse' applies to whole connections; use direction 'both' or 'blackhole' for one direction`,
      );
    }
    const change = (state: LinkState): LinkState => {
      // Leaving 'refuse' for one direction would leave the other refused: heal it to pass.
      const base = isRefused(state) ? PASS : state;
      return {
        toTarget: direction === 'fromTarget' ? base.toTarget : mode,
        fromTarget: direction === 'toTarget' ? base.fromTarget : mode,
      };
    };
    if (setOptions.caller === undefined) {
      everyCaller = change(everyCaller);
      for (const [caller, state] of perCaller) perCaller.set(caller, change(state));
    } else {
      perCaller.set(setOptions.caller, change(stateOf(setOptions.caller)));
    }
    if (setOptions.resetExisting === true) {
      for (const connection of [...connections]) {
        if (setOptions.caller !== undefined && connection.caller !== setOptions.caller) continue;
        connection.client.resetAndDestroy();
        connection.upstream.resetAndDestroy();
      }
    }
    reapply(setOptions.caller);
  };

  return {
    host: listenHost,
    port,
    address: `${listenHost}:${port}`,
    set,
    heal: (healOptions = {}) => set('pass', healOptions),
    stateOf,
    retarget(next) {
      if (!isLoopback(next.host))
        throw new Error(`tcp proxy: only loopback targets are allowed, got ${next.host}`);
      target = next;
    },
    connectionsByCaller() {
      const counts = new Map<string, number>();
      for (const { caller } of connections) counts.set(caller, (counts.get(caller) ?? 0) + 1);
      return counts;
    },
    async close() {
      closed = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const { client, upstream } of connections) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      connections.clear();
      await stopped;
    },
  };
}
