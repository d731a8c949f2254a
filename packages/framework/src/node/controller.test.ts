import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry, type Counter } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  SIGHUP_SIGNALS_METRIC,
  createNodeController,
  createNodeOs,
  probeUnixSocket,
  type NodeControllerDeps,
} from './index.js';

const never = new AbortController().signal;
const silent = pino({ level: 'silent' });

/** A stand-in for cardano-node: listens on a unix socket, answers SIGHUP by printing HUP. */
const FAKE_NODE_SCRIPT = `
const net = require('node:net');
const [socketPath, title] = process.argv.slice(1);
process.title = title;
process.on('SIGHUP', () => process.stdout.write('HUP\\n'));
net.createServer((c) => c.end()).listen(socketPath, () => process.stdout.write('READY\\n'));
`;

interface FakeNode {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves when the child has printed `line` `count` times in total. */
  waitForLine(line: string, count?: number, timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

describe('node controller', () => {
  let dir: string;
  let children: ChildProcess[];
  let servers: Array<NetServer | HttpServer>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-node-'));
    children = [];
    servers = [];
  });

  afterEach(async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    await rm(dir, { recursive: true, force: true });
  });

  async function startFakeNode(socketPath: string, title = 'cardano-node'): Promise<FakeNode> {
    const child = spawn(process.execPath, ['-e', FAKE_NODE_SCRIPT, socketPath, title], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let output = '';
    const waiters = new Set<() => void>();
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      for (const check of waiters) check();
    });
    const waitForLine = (line: string, count = 1, timeoutMs = 10_000): Promise<void> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (output.split('\n').filter((l) => l === line).length >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `child ${child.pid} did not print ${line} x${count}; output: ${JSON.stringify(output)}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    const kill = async (signal: NodeJS.Signals): Promise<void> => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill(signal);
      await exited;
    };
    await waitForLine('READY');
    if (child.pid === undefined) throw new Error('child has no pid');
    return { child, pid: child.pid, waitForLine, kill };
  }

  async function sighupCount(registry: Registry, reason: string): Promise<number> {
    const metric = registry.getSingleMetric(SIGHUP_SIGNALS_METRIC) as Counter | undefined;
    if (metric === undefined) return 0;
    const { values } = await metric.get();
    return values.find((v) => v.labels.reason === reason)?.value ?? 0;
  }

  async function serveMetrics(body: () => string): Promise<string> {
    const server = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(body());
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return `http://127.0.0.1:${address.port}/metrics`;
  }

  describe('socket state', () => {
    it('is up when a process accepts connections on the socket', async () => {
      const socketPath = join(dir, 'up.socket');
      const server = createNetServer((c) => c.end());
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(socketPath, resolve));
      expect((await probeUnixSocket(socketPath, 1000)).state).toBe('up');
      const observation = await createNodeController({ logger: silent }, { socketPath }).observe(never);
      expect(observation.socket).toBe('up');
      expect(observation.pid).toBeNull(); // the only holder is this process, which is never a candidate
    });

    it('is stale when the socket file outlives a SIGKILLed node', async () => {
      const socketPath = join(dir, 'stale.socket');
      const node = await startFakeNode(socketPath);
      await node.kill('SIGKILL');
      expect((await stat(socketPath)).isSocket()).toBe(true); // the file is still there
      const probe = await probeUnixSocket(socketPath, 1000);
      expect(probe.state).toBe('stale');
      expect(probe.detail).toContain('ECONNREFUSED');
      const observation = await createNodeController({ logger: silent }, { socketPath }).observe(never);
      expect(observation).toMatchObject({ socket: 'stale', pid: null });
    });

    it('is not-a-socket for a regular file and missing when nothing is there', async () => {
      const file = join(dir, 'regular');
      await writeFile(file, 'x');
      expect((await probeUnixSocket(file, 1000)).state).toBe('not-a-socket');
      expect((await probeUnixSocket(join(dir, 'absent.socket'), 1000)).state).toBe('missing');
      const observation = await createNodeController(
        { logger: silent },
        { socketPath: join(dir, 'absent.socket') },
      ).observe(never);
      expect(observation).toMatchObject({ socket: 'missing', pid: null, forgingMetric: null, atTip: null });
    });
  });

  describe('pid discovery', () => {
    it('resolves each socket to the process listening on it, with several cardano-nodes side by side', async () => {
      const [a, b] = await Promise.all([
        startFakeNode(join(dir, 'a.socket')),
        startFakeNode(join(dir, 'b.socket')),
      ]);
      const observeA = await createNodeController(
        { logger: silent },
        { socketPath: join(dir, 'a.socket') },
      ).observe(never);
      const observeB = await createNodeController(
        { logger: silent },
        { socketPath: join(dir, 'b.socket') },
      ).observe(never);
      expect(observeA).toMatchObject({ socket: 'up', pid: a.pid });
      expect(observeB).toMatchObject({ socket: 'up', pid: b.pid });
      expect(a.pid).not.toBe(b.pid);
    });

    it('finds a process by exact name and refuses to guess between two', async () => {
      const name = `cn-${randomBytes(4).toString('hex')}`; // unique: other tests on this machine run cardano-nodes too
      const first = await startFakeNode(join(dir, 'n1.socket'), name);
      const controller = createNodeController(
        { logger: silent },
        { socketPath: join(dir, 'n1.socket'), pidDiscovery: 'name', processName: name },
      );
      expect((await controller.observe(never)).pid).toBe(first.pid);
      // A process whose name only contains ours is not a match.
      await startFakeNode(join(dir, 'n2.socket'), `${name}x`);
      const fresh = createNodeController(
        { logger: silent },
        { socketPath: join(dir, 'n1.socket'), pidDiscovery: 'name', processName: name },
      );
      expect((await fresh.observe(never)).pid).toBe(first.pid);
      await startFakeNode(join(dir, 'n3.socket'), name);
      const ambiguous = await createNodeController(
        { logger: silent },
        { socketPath: join(dir, 'n1.socket'), pidDiscovery: 'name', processName: name },
      ).observe(never);
      expect(ambiguous.pid).toBeNull();
      expect(ambiguous.message).toContain('ambiguous');
    });
  });

  describe('reload', () => {
    it('delivers SIGHUP to the node and counts it under the reason', async () => {
      const socketPath = join(dir, 'hup.socket');
      const node = await startFakeNode(socketPath);
      const registry = new Registry();
      const controller = createNodeController({ logger: silent, registry }, { socketPath });
      const outcome = await controller.reload('enable_forging');
      expect(outcome).toMatchObject({ delivered: true, pid: node.pid, reason: 'Delivered' });
      await node.waitForLine('HUP');
      expect(await sighupCount(registry, 'enable_forging')).toBe(1);
    });

    it('re-validates the cached pid: a restarted node on the same socket gets the next signal', async () => {
      const socketPath = join(dir, 'restart.socket');
      const first = await startFakeNode(socketPath);
      const controller = createNodeController({ logger: silent }, { socketPath });
      expect((await controller.reload('enable_forging')).pid).toBe(first.pid);
      await first.waitForLine('HUP');
      await first.kill('SIGKILL');
      await unlink(socketPath);
      const second = await startFakeNode(socketPath);
      const outcome = await controller.reload('disable_forging');
      expect(outcome).toMatchObject({ delivered: true, pid: second.pid });
      await second.waitForLine('HUP');
    });

    it('never signals a process that has not been seen serving its socket (SIGHUP would kill it)', async () => {
      // A cardano-node still initialising: the process exists (found by name) but has installed no
      // SIGHUP handler and opened no socket yet.
      const name = `cn-${randomBytes(4).toString('hex')}`;
      const child = spawn(
        process.execPath,
        ['-e', `process.title = '${name}'; setInterval(() => undefined, 1000)`],
        { stdio: 'ignore' },
      );
      children.push(child);
      await new Promise((r) => setTimeout(r, 300)); // let it set its title
      const controller = createNodeController(
        { logger: silent },
        { socketPath: join(dir, 'not-yet.socket'), pidDiscovery: 'name', processName: name },
      );
      const outcome = await controller.reload('startup_cleanup');
      expect(outcome).toMatchObject({ delivered: false, pid: child.pid, reason: 'NotServing' });
      await new Promise((r) => setTimeout(r, 200));
      expect(child.exitCode).toBeNull();
      expect(child.signalCode).toBeNull();
    });

    it("checks the caller's deadline immediately before sending: a refused enable is not sent", async () => {
      const socketPath = join(dir, 'refuse.socket');
      const node = await startFakeNode(socketPath);
      const controller = createNodeController({ logger: silent }, { socketPath });
      const outcome = await controller.reload('enable_forging', { proceed: () => 'deadline passed' });
      expect(outcome).toMatchObject({ delivered: false, pid: node.pid, reason: 'Refused' });
      expect((await controller.reload('disable_forging')).delivered).toBe(true);
      await node.waitForLine('HUP', 1);
    });

    it('skips and counts <reason>_skipped when no node process is found', async () => {
      const registry = new Registry();
      const controller = createNodeController(
        { logger: silent, registry },
        { socketPath: join(dir, 'none.socket') },
      );
      const outcome = await controller.reload('disable_forging');
      expect(outcome).toMatchObject({ delivered: false, pid: null, reason: 'NoProcess' });
      expect(await sighupCount(registry, 'disable_forging_skipped')).toBe(1);
      expect(await sighupCount(registry, 'disable_forging')).toBe(0);
    });

    it('reports ProcessGone (<reason>_cross_container) and PermissionDenied (not counted)', async () => {
      const socketPath = join(dir, 'errors.socket');
      const node = await startFakeNode(socketPath);
      const registry = new Registry();
      let failWith = 'ESRCH';
      const sent: number[] = [];
      const deps: NodeControllerDeps = {
        logger: silent,
        registry,
        sendSignal: (pid) => {
          sent.push(pid);
          throw Object.assign(new Error(failWith), { code: failWith });
        },
      };
      const controller = createNodeController(deps, { socketPath });
      expect(await controller.reload('enable_forging')).toMatchObject({
        delivered: false,
        pid: node.pid,
        reason: 'ProcessGone',
      });
      expect(await sighupCount(registry, 'enable_forging_cross_container')).toBe(1);
      failWith = 'EPERM';
      expect(await controller.reload('enable_forging')).toMatchObject({
        delivered: false,
        pid: node.pid,
        reason: 'PermissionDenied',
      });
      expect(await sighupCount(registry, 'enable_forging')).toBe(0);
      expect(await sighupCount(registry, 'enable_forging_cross_container')).toBe(1);
      expect(sent).toEqual([node.pid, node.pid]);
    });
  });

  describe('an unknown node is never taken for gone', () => {
    const realOs = (dir: string) => createNodeOs(join(dir, 'no-such-proc'));
    it('reports socket unknown when process discovery fails and the socket does not answer', async () => {
      const os = {
        ...realOs(dir),
        probeSocket: async () => ({ state: 'stale' as const, detail: 'connect timed out' }),
        listeningSocketInodes: async () => {
          throw Object.assign(new Error('EIO reading /proc/net/unix'), { code: 'EIO' });
        },
      };
      const controller = createNodeController({ logger: silent, os }, { socketPath: join(dir, 'n.socket') });
      const seen = await controller.observe(never);
      expect(seen).toMatchObject({ socket: 'unknown', pid: null });
      expect(seen.message).toContain('process discovery failed (EIO)');
    });

    it('reports socket unknown when two processes hold the socket and it does not answer', async () => {
      const os = {
        ...realOs(dir),
        probeSocket: async () => ({ state: 'stale' as const, detail: 'connect refused' }),
        listeningSocketInodes: async () => new Set(['42']),
        pidHoldsSocket: async () => false,
        pidsHoldingSocket: async () => [101, 102],
        pidHasName: async () => true,
      };
      const controller = createNodeController({ logger: silent, os }, { socketPath: join(dir, 'n.socket') });
      expect(await controller.observe(never)).toMatchObject({ socket: 'unknown', pid: null });
    });

    it('still reports a node that is positively absent as such (no listener, no socket)', async () => {
      const controller = createNodeController({ logger: silent }, { socketPath: join(dir, 'none.socket') });
      expect(await controller.observe(never)).toMatchObject({ socket: 'missing', pid: null });
    });
  });

  describe('a revoke does not wait on a hung process lookup (simulation seed 14325)', () => {
    /** /proc answers until `hang` is set; then every lookup never resolves (a D-state read). */
    function hangingOs(pid: number) {
      const state = { hang: false };
      const maybeHang = <T>(value: T): Promise<T> =>
        state.hang ? new Promise<T>(() => undefined) : Promise.resolve(value);
      const os = {
        ...createNodeOs(join(dir, 'no-such-proc')),
        probeSocket: async () => ({ state: 'up' as const, detail: 'connected' }),
        listeningSocketInodes: () => maybeHang(new Set(['42'])),
        pidHoldsSocket: () => maybeHang(true),
        pidsHoldingSocket: () => maybeHang([pid]),
        pidHasArgument: () => maybeHang(false),
      };
      return { os, state };
    }

    it('signals the PID last seen serving the socket when the lookup outlasts its budget', async () => {
      const { os, state } = hangingOs(4242);
      const sent: Array<[number, string]> = [];
      const controller = createNodeController(
        { logger: silent, os, sendSignal: (pid, sig) => void sent.push([pid, sig]) },
        { socketPath: join(dir, 'n.socket') },
      );
      expect(await controller.observe(never)).toMatchObject({ socket: 'up', pid: 4242 });
      state.hang = true;
      const outcome = await controller.reload('disable_forging', { lookupBudgetMs: 50 });
      expect(outcome).toMatchObject({ delivered: true, pid: 4242, reason: 'Delivered' });
      expect(outcome.message).toContain('did not answer within 50 ms');
      expect(sent).toEqual([[4242, 'SIGHUP']]);
    });

    it('never falls back for an enable (no budget): a PID it cannot verify gets no enable SIGHUP', async () => {
      const { os, state } = hangingOs(4242);
      const sent: number[] = [];
      const controller = createNodeController(
        { logger: silent, os, sendSignal: (pid) => void sent.push(pid) },
        { socketPath: join(dir, 'n.socket') },
      );
      await controller.observe(never);
      state.hang = true;
      const pending = controller.reload('enable_forging', { proceed: () => null });
      const settled = await Promise.race([pending.then(() => 'settled'), sleep(200).then(() => 'pending')]);
      expect(settled).toBe('pending');
      expect(sent).toEqual([]);
    });

    it('without a PID ever seen serving, a hung lookup is reported, not guessed', async () => {
      const { os, state } = hangingOs(4242);
      state.hang = true;
      const sent: number[] = [];
      const controller = createNodeController(
        { logger: silent, os, sendSignal: (pid) => void sent.push(pid) },
        { socketPath: join(dir, 'n.socket') },
      );
      const outcome = await controller.reload('disable_forging', { lookupBudgetMs: 50 });
      expect(outcome).toMatchObject({ delivered: false, pid: null, reason: 'NoProcess' });
      expect(sent).toEqual([]);
    });

    it('terminate uses the same fallback: SIGTERM to the last serving PID', async () => {
      const { os, state } = hangingOs(4242);
      const sent: Array<[number, string]> = [];
      let alive = true;
      const controller = createNodeController(
        {
          logger: silent,
          os,
          sendSignal: (pid, sig) => {
            if (!alive) throw Object.assign(new Error('ESRCH'), { code: 'ESRCH' });
            if ((sig as unknown) !== 0) sent.push([pid, sig]);
            if (sig === 'SIGTERM') alive = false;
          },
        },
        { socketPath: join(dir, 'n.socket') },
      );
      await controller.observe(never);
      state.hang = true;
      const outcome = await controller.terminate('test', 500, never, { lookupBudgetMs: 50 });
      expect(outcome).toMatchObject({ delivered: true, pid: 4242, reason: 'ProcessGone' });
      expect(sent).toEqual([[4242, 'SIGTERM']]);
    });
  });

  describe('terminate (last resort when credentials cannot be withdrawn)', () => {
    it('stops a node that exits on SIGTERM and confirms it is gone', async () => {
      const socketPath = join(dir, 'node.socket');
      const node = await startFakeNode(socketPath);
      await node.waitForLine('READY');
      const controller = createNodeController({ logger: silent }, { socketPath });
      const outcome = await controller.terminate('test', 2000, never);
      expect(outcome).toMatchObject({ delivered: true, pid: node.pid, reason: 'ProcessGone' });
      expect(() => process.kill(node.pid, 0)).toThrow();
    });

    it('escalates to SIGKILL when the node ignores SIGTERM', async () => {
      const socketPath = join(dir, 'node.socket');
      const child = spawn(
        process.execPath,
        [
          '-e',
          `${FAKE_NODE_SCRIPT}\nprocess.on('SIGTERM', () => process.stdout.write('TERM\\n'));`,
          socketPath,
          'cardano-node',
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      children.push(child);
      await new Promise<void>((resolve) =>
        child.stdout?.on('data', (d: Buffer) => d.toString().includes('READY') && resolve()),
      );
      const controller = createNodeController({ logger: silent }, { socketPath });
      const outcome = await controller.terminate('test', 300, never);
      expect(outcome).toMatchObject({
        delivered: true,
        pid: child.pid,
        message: expect.stringContaining('SIGKILL'),
      });
    });

    it('reports NoProcess when no node is found, and never claims success', async () => {
      const controller = createNodeController({ logger: silent }, { socketPath: join(dir, 'none.socket') });
      expect(await controller.terminate('test', 100, never)).toMatchObject({
        delivered: false,
        reason: 'NoProcess',
      });
    });
  });

  describe('node metrics', () => {
    it('reads the forging metric and the tip slot from the node endpoint', async () => {
      let forging = 1;
      const metricsUrl = await serveMetrics(
        () =>
          '# HELP cardano_node_metrics_forging_enabled forging\n# TYPE cardano_node_metrics_forging_enabled gauge\n' +
          `cardano_node_metrics_forging_enabled ${forging}\ncardano_node_metrics_slotNum_int 123456\n`,
      );
      const controller = createNodeController(
        { logger: silent },
        { socketPath: join(dir, 'm.socket'), metricsUrl },
      );
      const on = await controller.observe(never);
      expect(on.forgingMetric).toBe(true);
      expect(on.message).toContain('slot 123456');
      forging = 0;
      expect((await controller.observe(never)).forgingMetric).toBe(false);
    });

    it('gives null with a message when the endpoint is unreachable', async () => {
      const metricsUrl = await serveMetrics(() => '');
      const server = servers.pop() as HttpServer;
      await new Promise((resolve) => server.close(resolve)); // the port is now closed
      const controller = createNodeController(
        { logger: silent },
        { socketPath: join(dir, 'm.socket'), metricsUrl, metricsTimeoutMs: 1000 },
      );
      const observation = await controller.observe(never);
      expect(observation.forgingMetric).toBeNull();
      expect(observation.message).toContain('unreachable');
    });

    it('judges the tip: a node whose slot stops advancing falls behind; an expectedSlot source overrides', async () => {
      let slot = 1000;
      let now = 0;
      const metricsUrl = await serveMetrics(
        () => `cardano_node_metrics_forging_enabled 1\ncardano_node_metrics_slotNum_int ${slot}\n`,
      );
      const options = { socketPath: join(dir, 't.socket'), metricsUrl, maxSlotLag: 30 };
      const controller = createNodeController({ logger: silent, clock: { monotonicMs: () => now } }, options);
      expect((await controller.observe(never)).atTip).toBe(true);
      now += 20_000; // 20 slots later, still at 1000: within the allowed lag
      expect((await controller.observe(never)).atTip).toBe(true);
      now += 40_000; // 60 slots without progress
      const stalled = await controller.observe(never);
      expect(stalled.atTip).toBe(false);
      expect(stalled.message).toContain('lag 60');
      slot = 1058; // caught up to within 2 slots
      expect((await controller.observe(never)).atTip).toBe(true);

      const withSource = createNodeController({ logger: silent, expectedSlot: () => 5000 }, options);
      expect((await withSource.observe(never)).atTip).toBe(false);
      const ungated = createNodeController(
        { logger: silent },
        { socketPath: join(dir, 't.socket'), metricsUrl },
      );
      expect((await ungated.observe(never)).atTip).toBeNull();
    });
  });
});
