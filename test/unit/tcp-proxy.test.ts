// The cuttable TCP proxy (test/support/tcp-proxy.ts) and caller identification
// (test/support/socket-owner.ts) on real loopback sockets in this process.
import { afterEach, describe, expect, it } from 'vitest';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { connectingPid } from '../support/socket-owner.ts';

/** Quiet window in which bytes that should be held back must not arrive. */
const HOLD_WINDOW_MS = 300;

interface Target {
  readonly server: Server;
  readonly port: number;
  /** Bytes received per accepted connection, in accept order. */
  readonly received: string[];
  readonly sockets: Socket[];
}

async function startTarget(reply: (data: string) => string | undefined): Promise<Target> {
  const received: string[] = [];
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    const index = received.push('') - 1;
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      received[index] += chunk.toString();
      const answer = reply(chunk.toString());
      if (answer !== undefined) socket.write(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('no address');
  return { server, port: address.port, received, sockets };
}

interface Client {
  readonly socket: Socket;
  readonly received: () => string;
  /** Resolves with the error code once the socket closes (undefined for a clean close). */
  readonly closed: Promise<string | undefined>;
}

async function openClient(proxy: TcpProxy, localPort?: number): Promise<Client> {
  const socket = connect({ host: '127.0.0.1', port: proxy.port, localAddress: '127.0.0.1', localPort });
  let text = '';
  let code: string | undefined;
  socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
  socket.on('error', (error: NodeJS.ErrnoException) => (code = error.code));
  const closed = new Promise<string | undefined>((resolve) => socket.once('close', () => resolve(code)));
  // A reset can arrive before 'connect' is reported: then the socket is simply closed.
  await Promise.race([new Promise<void>((resolve) => socket.once('connect', resolve)), closed]);
  return { socket, received: () => text, closed };
}

async function until(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const begin = Date.now();
  while (!check()) {
    if (Date.now() - begin > ms) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(10);
  }
}

describe('tcp proxy', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(
    identifyCaller?: (socket: Socket) => Promise<string>,
  ): Promise<{ target: Target; proxy: TcpProxy }> {
    const target = await startTarget((data) => `echo:${data}`);
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of target.sockets) socket.destroy();
          target.server.close(() => resolve());
        }),
    );
    const proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: target.port }, identifyCaller });
    cleanups.push(() => proxy.close());
    return { target, proxy };
  }

  async function client(proxy: TcpProxy, localPort?: number): Promise<Client> {
    const opened = await openClient(proxy, localPort);
    cleanups.push(() => {
      opened.socket.destroy();
    });
    return opened;
  }

  it('passes bytes both ways', async () => {
    const { proxy } = await setup();
    const c = await client(proxy);
    c.socket.write('ping');
    await until('echo', () => c.received() === 'echo:ping');
  });

  it('refuse resets existing connections and new ones', async () => {
    const { proxy } = await setup();
    const existing = await client(proxy);
    proxy.set('refuse');
    expect(await existing.closed).toBe('ECONNRESET');
    const fresh = await client(proxy);
    expect(await fresh.closed).toBe('ECONNRESET');
    proxy.heal();
    const healed = await client(proxy);
    healed.socket.write('again');
    await until('echo after heal', () => healed.received() === 'echo:again');
  });

  it('blackhole holds bytes back on existing and new connections without losing them; heal delivers them in order', async () => {
    const { proxy, target } = await setup();
    const existing = await client(proxy);
    proxy.set('blackhole');
    existing.socket.write('one');
    const fresh = await client(proxy);
    fresh.socket.write('two');
    await sleep(HOLD_WINDOW_MS);
    expect(target.received.join('')).toBe('');
    expect(existing.received() + fresh.received()).toBe('');
    existing.socket.write('-more');
    proxy.heal();
    await until('held bytes delivered', () => existing.received() !== '' && fresh.received() === 'echo:two');
    await until('all of them', () => target.received.includes('one-more'));
    expect(target.received).toContain('two');
  });

  it('blackhole with resetExisting resets open connections and holds new ones', async () => {
    const { proxy, target } = await setup();
    const existing = await client(proxy);
    proxy.set('blackhole', { resetExisting: true });
    expect(await existing.closed).toBe('ECONNRESET');
    const fresh = await client(proxy);
    fresh.socket.write('held');
    await sleep(HOLD_WINDOW_MS);
    expect(target.received.join('')).toBe('');
    proxy.heal();
    await until('held bytes delivered', () => fresh.received() === 'echo:held');
  });

  it('blackholes one direction only', async () => {
    const { proxy, target } = await setup();
    const c = await client(proxy);
    proxy.set('blackhole', { direction: 'fromTarget' });
    c.socket.write('request');
    await until('target got the request', () => target.received[0] === 'request');
    await sleep(HOLD_WINDOW_MS);
    expect(c.received()).toBe('');
    proxy.set('pass', { direction: 'fromTarget' });
    proxy.set('blackhole', { direction: 'toTarget' });
    await until('held reply delivered', () => c.received() === 'echo:request');
    c.socket.write('second');
    await sleep(HOLD_WINDOW_MS);
    expect(target.received[0]).toBe('request');
    expect(() => proxy.set('refuse', { direction: 'toTarget' })).toThrow(/direction 'both'/);
  });

  it('cuts one caller and leaves the others alone', async () => {
    const callerPorts = new Map<number, string>();
    const { proxy, target } = await setup((socket) =>
      Promise.resolve(callerPorts.get(socket.remotePort ?? 0) ?? 'unknown'),
    );
    const portOf = async (): Promise<number> => {
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const address = probe.address();
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      if (address === null || typeof address !== 'object') throw new Error('no address');
      return address.port;
    };
    const [portA, portB] = [await portOf(), await portOf()];
    callerPorts.set(portA, 'a').set(portB, 'b');
    const a = await client(proxy, portA);
    const b = await client(proxy, portB);
    await until('both connected', () => target.sockets.length === 2);
    expect(proxy.connectionsByCaller()).toEqual(
      new Map([
        ['a', 1],
        ['b', 1],
      ]),
    );
    proxy.set('refuse', { caller: 'a' });
    expect(await a.closed).toBe('ECONNRESET');
    b.socket.write('still-here');
    await until('b unaffected', () => b.received() === 'echo:still-here');
    expect(proxy.stateOf('a')).toEqual({ toTarget: 'refuse', fromTarget: 'refuse' });
    expect(proxy.stateOf('b')).toEqual({ toTarget: 'pass', fromTarget: 'pass' });
  });

  it('resets callers when the target is down', async () => {
    const { proxy, target } = await setup();
    await new Promise<void>((resolve) => target.server.close(() => resolve()));
    const c = await client(proxy);
    expect(await c.closed).toBe('ECONNRESET');
  });

  it('listens and forwards on loopback only', async () => {
    await expect(startTcpProxy({ target: { host: '10.0.0.1', port: 80 } })).rejects.toThrow(/only loopback/);
    await expect(
      startTcpProxy({ target: { host: '127.0.0.1', port: 80 }, listenHost: '0.0.0.0' }),
    ).rejects.toThrow(/only loopback/);
  });
});

describe('connectingPid', () => {
  it('names the process holding the other end of an accepted loopback connection', async () => {
    const accepted = new Promise<Socket>((resolve) => {
      const server = createServer((socket) => {
        resolve(socket);
        server.close();
      });
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        if (address !== null && typeof address === 'object') {
          const socket = connect({ host: '127.0.0.1', port: address.port });
          socket.on('error', () => undefined);
          socket.once('close', () => socket.destroy());
          void accepted.then((serverSide) => serverSide.once('close', () => socket.destroy()));
        }
      });
    });
    const socket = await accepted;
    try {
      // The connecting end is in this very process; PID 1 (init) holds no such socket.
      expect(await connectingPid(socket, [1, process.pid])).toBe(process.pid);
      expect(await connectingPid(socket, [1])).toBeUndefined();
    } finally {
      socket.destroy();
    }
  });
});
