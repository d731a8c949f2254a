// Edge cases of /proc parsing on a fake proc tree; the real /proc is exercised in controller.test.ts.
import { mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNodeController } from './controller.js';
import { createNodeOs } from './os.js';
import { listeningSocketInodes, pidHasArgument, pidHasName, pidsHoldingSocket, socketFdOf } from './proc.js';

const never = new AbortController().signal;
const silent = pino({ level: 'silent' });
const OWN_PID = 4242;
const SOCKET = '/ipc/node.socket';

const UNIX_TABLE = [
  'Num       RefCount Protocol Flags    Type St Inode Path',
  `0000000000000000: 00000002 00000000 00010000 0001 01 111 ${SOCKET}`, // the listener
  `0000000000000000: 00000003 00000000 00000000 0001 03 222 ${SOCKET}`, // an accepted connection
  '0000000000000000: 00000002 00000000 00010000 0001 01 333 /ipc/other.socket',
  '0000000000000000: 00000002 00000000 00010000 0001 01 444 @abstract',
  '0000000000000000: 00000003 00000000 00000000 0001 03 555',
].join('\n');

describe('/proc discovery on a fake proc tree', () => {
  let procRoot: string;

  async function fakeProcess(
    pid: number,
    fields: { comm?: string; cmdline?: string[]; sockets?: string[] },
  ): Promise<void> {
    const dir = join(procRoot, String(pid));
    await mkdir(join(dir, 'fd'), { recursive: true });
    if (fields.comm !== undefined) await writeFile(join(dir, 'comm'), `${fields.comm}\n`);
    if (fields.cmdline !== undefined) await writeFile(join(dir, 'cmdline'), `${fields.cmdline.join('\0')}\0`);
    let fd = 3;
    for (const inode of fields.sockets ?? [])
      await symlink(`socket:[${inode}]`, join(dir, 'fd', String(fd++)));
    await symlink('/dev/null', join(dir, 'fd', '0'));
  }

  beforeEach(async () => {
    procRoot = await mkdtemp(join(tmpdir(), 'forge-proc-'));
    await mkdir(join(procRoot, 'net'));
    await writeFile(join(procRoot, 'net', 'unix'), UNIX_TABLE);
    await mkdir(join(procRoot, 'self'));
  });

  afterEach(async () => {
    await rm(procRoot, { recursive: true, force: true });
  });

  it('matches only the listening socket bound at the exact path', async () => {
    expect([...(await listeningSocketInodes(procRoot, SOCKET))]).toEqual(['111']);
    expect([...(await listeningSocketInodes(procRoot, '/ipc/node.sock'))]).toEqual([]);
  });

  it('finds the holder of the listener, skipping our own pid and holders of other sockets', async () => {
    await fakeProcess(10, { comm: 'cardano-node', sockets: ['111', '222'] });
    await fakeProcess(11, { comm: 'cardano-node', sockets: ['333'] });
    await fakeProcess(12, { comm: 'client', sockets: ['555'] });
    await fakeProcess(OWN_PID, { comm: 'node', sockets: ['111'] });
    expect(await pidsHoldingSocket(procRoot, new Set(['111']), OWN_PID)).toEqual([10]);
  });

  it('finds the fd holding the listener, trying the last one first and scanning when it moved', async () => {
    await fakeProcess(10, { comm: 'cardano-node', sockets: ['333', '222', '111'] }); // fds 3, 4, 5
    const listener = new Set(['111']);
    expect(await socketFdOf(procRoot, 10, listener)).toBe('5');
    expect(await socketFdOf(procRoot, 10, listener, '5')).toBe('5');
    // A stale hint (the fd now holds another socket, or is closed) falls back to the whole table.
    expect(await socketFdOf(procRoot, 10, listener, '3')).toBe('5');
    expect(await socketFdOf(procRoot, 10, listener, '9')).toBe('5');
    expect(await socketFdOf(procRoot, 10, new Set(['999']), '5')).toBeNull();
    expect(await socketFdOf(procRoot, 77, listener, '5')).toBeNull(); // no such process
  });

  it('the os seam follows the listener to another fd and notices when it is gone', async () => {
    await fakeProcess(10, { comm: 'cardano-node', sockets: ['222', '111'] }); // fds 3, 4
    const os = createNodeOs(procRoot);
    const listener = new Set(['111']);
    expect(await os.pidHoldsSocket(10, listener)).toBe(true);
    await unlink(join(procRoot, '10', 'fd', '4'));
    expect(await os.pidHoldsSocket(10, listener)).toBe(false);
    await symlink('socket:[111]', join(procRoot, '10', 'fd', '7'));
    expect(await os.pidHoldsSocket(10, listener)).toBe(true);
    expect(await os.pidHoldsSocket(10, new Set(['888']))).toBe(false);
  });

  it('prefers the named process when a forked helper shares the listener, and refuses to guess otherwise', async () => {
    await fakeProcess(10, { comm: 'cardano-node', sockets: ['111'] });
    await fakeProcess(13, { comm: 'sh', cmdline: ['sh'], sockets: ['111'] });
    const controller = createNodeController(
      { logger: silent, ownPid: OWN_PID },
      { socketPath: SOCKET, procRoot },
    );
    expect((await controller.observe(never)).pid).toBe(10);

    await fakeProcess(14, { comm: 'cardano-node', sockets: ['111'] });
    const fresh = createNodeController({ logger: silent, ownPid: OWN_PID }, { socketPath: SOCKET, procRoot });
    const observation = await fresh.observe(never);
    expect(observation.pid).toBeNull();
    expect(observation.message).toContain('ambiguous');
  });

  it('matches names exactly on comm or argv[0] basename, never by substring', async () => {
    await fakeProcess(20, { comm: 'cardano-node-ex', cmdline: ['cardano-node-exporter', '--port', '9100'] });
    await fakeProcess(21, { comm: 'bash', cmdline: ['bash', '-c', 'cardano-node run'] });
    await fakeProcess(22, { comm: 'cardano-node', cmdline: ['cardano-node', 'run'] });
    await fakeProcess(23, { comm: 'node', cmdline: ['/usr/local/bin/cardano-node', 'run'] });
    await fakeProcess(24, { comm: 'tail', cmdline: ['tail', '-f', '/var/log/cardano-node.log'] });
    const matches = await Promise.all(
      [20, 21, 22, 23, 24].map((pid) => pidHasName(procRoot, pid, 'cardano-node')),
    );
    expect(matches).toEqual([false, false, true, true, false]);
    expect(await pidHasName(procRoot, 99, 'cardano-node')).toBe(false); // no such process
  });

  it('matches names longer than comm holds on argv[0] only', async () => {
    await fakeProcess(30, { comm: 'cardano-node-lo', cmdline: ['cardano-node-long'] });
    await fakeProcess(31, { comm: 'cardano-node-lo', cmdline: ['cardano-node-longer'] });
    expect(await pidHasName(procRoot, 30, 'cardano-node-long')).toBe(true);
    expect(await pidHasName(procRoot, 31, 'cardano-node-long')).toBe(false);
  });

  it('reads whether the node was started with --start-as-non-producing-node (exact argument)', async () => {
    await fakeProcess(10, {
      cmdline: ['cardano-node', 'run', '--start-as-non-producing-node', '--port', '3001'],
    });
    await fakeProcess(11, { cmdline: ['cardano-node', 'run', '--start-as-non-producing-node-x'] });
    await fakeProcess(12, {});
    const flag = '--start-as-non-producing-node';
    expect(await pidHasArgument(procRoot, 10, flag)).toBe(true);
    expect(await pidHasArgument(procRoot, 11, flag)).toBe(false);
    expect(await pidHasArgument(procRoot, 12, flag)).toBeNull(); // no cmdline readable
    expect(await pidHasArgument(procRoot, 99, flag)).toBeNull(); // gone
  });
});
