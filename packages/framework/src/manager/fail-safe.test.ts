import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeController, NodeObservation, SignalOutcome } from '../contracts/index.js';
import { parseConfig } from '../config/load.js';
import { createSystemClock } from '../core/clock.js';
import {
  failSafeRevoke,
  failSafeTargetsFromConfig,
  stopLoopThenFailClosed,
  type FailSafeTargets,
} from './fail-safe.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
const silent = pino({ level: 'silent' });
const fast = { confirmTimeoutMs: 300, unconfirmedWaitMs: 10, terminateGraceMs: 50 };

/** A modelled node: forging until `stopsAfterSighups` SIGHUPs (never when null); terminate ends it. */
function modelNode(options: { stopsOnSighup: boolean; visible?: boolean; terminable?: boolean }) {
  const state = { forging: true, alive: true, sighups: 0, terminated: 0 };
  const controller: NodeController = {
    async observe(): Promise<NodeObservation> {
      return {
        socket: state.alive ? 'up' : 'missing',
        pid: state.alive ? 42 : null,
        forgingMetric: state.alive ? state.forging : null,
        atTip: null,
        message: '',
      };
    },
    async reload(): Promise<SignalOutcome> {
      if (options.visible === false)
        return { delivered: false, pid: null, reason: 'NoProcess', message: 'none' };
      state.sighups += 1;
      if (options.stopsOnSighup) state.forging = false;
      return { delivered: true, pid: 42, reason: 'Delivered', message: 'SIGHUP delivered to pid 42' };
    },
    async terminate(): Promise<SignalOutcome> {
      state.terminated += 1;
      if (options.terminable === false)
        return {
          delivered: false,
          pid: 42,
          reason: 'SignalFailed',
          message: 'SIGTERM to pid 42 failed (EPERM)',
        };
      state.alive = false;
      return { delivered: true, pid: 42, reason: 'ProcessGone', message: 'pid 42 stopped (SIGTERM)' };
    },
  };
  return { state, controller };
}

async function credentialDir(): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'forge-failsafe-'));
  dirs.push(dir);
  const paths = ['kes.skey', 'vrf.skey', 'node.cert'].map((f) => join(dir, f));
  for (const p of paths) await writeFile(p, 'x');
  return paths;
}

const targets = (paths: string[], metricsUrl?: string): FailSafeTargets => ({
  credentialPaths: paths,
  socketPaths: ['/nowhere/node.socket'],
  processName: 'cardano-node',
  pidDiscovery: 'socket',
  ...(metricsUrl ? { metricsUrl } : {}),
});

describe('fail-safe', () => {
  it('removes every credential file, signals the node and confirms through its metric', async () => {
    const paths = await credentialDir();
    const node = modelNode({ stopsOnSighup: true });
    const out = await failSafeRevoke(
      targets(paths, 'http://127.0.0.1:1/metrics'),
      { logger: silent, nodeFor: () => node.controller },
      fast,
    );
    expect(out).toMatchObject({ node: 'confirmed-not-forging', safe: true, signalled: true, stuck: [] });
    expect(out.removed).toEqual(paths);
    for (const p of paths) expect(existsSync(p)).toBe(false);
    expect(node.state).toMatchObject({ sighups: 1, terminated: 0 });
  });

  it('stops the node when it does not confirm within the bound (slow or ignoring SIGHUP)', async () => {
    const paths = await credentialDir();
    const node = modelNode({ stopsOnSighup: false });
    const out = await failSafeRevoke(
      targets(paths, 'http://127.0.0.1:1/metrics'),
      { logger: silent, nodeFor: () => node.controller },
      fast,
    );
    expect(out.node).toBe('terminated');
    expect(out.safe).toBe(true);
    expect(out.message).toMatch(
      /not confirmed within 300 ms \(forging metric true\); last resort: pid 42 stopped/,
    );
    expect(node.state.terminated).toBe(1);
  });

  it('stops the node at once when the files cannot be removed (read-only target)', async () => {
    const paths = await credentialDir();
    const node = modelNode({ stopsOnSighup: true });
    const erofs = Object.assign(new Error('read-only'), { code: 'EROFS' });
    const out = await failSafeRevoke(
      targets(paths, 'http://127.0.0.1:1/metrics'),
      { logger: silent, nodeFor: () => node.controller, removeFile: () => Promise.reject(erofs) },
      fast,
    );
    expect(out.stuck).toEqual(paths.map((p) => `${p}: EROFS`));
    expect(out.node).toBe('terminated');
    expect(out.message).toContain('could NOT remove');
    expect(node.state.terminated).toBe(1);
    // Rule N: never a SIGHUP over files that stay (a node restarted non-producing would load them).
    expect(node.state.sighups).toBe(0);
  });

  it('says the node may still be forging when it can be neither confirmed nor stopped', async () => {
    const paths = await credentialDir();
    const node = modelNode({ stopsOnSighup: false, terminable: false });
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const out = await failSafeRevoke(
      targets(paths, 'http://127.0.0.1:1/metrics'),
      { logger, nodeFor: () => node.controller },
      fast,
    );
    expect(out).toMatchObject({ node: 'may-still-be-forging', safe: false });
    expect(lines.join('')).toMatch(/"level":60.*OPERATOR ACTION REQUIRED: the node may still be forging/);
  });

  it('without a metrics URL waits the bounded time and says it could not confirm', async () => {
    const paths = await credentialDir();
    const node = modelNode({ stopsOnSighup: true });
    const out = await failSafeRevoke(
      targets(paths),
      { logger: silent, nodeFor: () => node.controller },
      fast,
    );
    expect(out.node).toBe('assumed-not-forging');
    expect(out.message).toMatch(/no node metrics URL: waited 10 ms without confirmation/);
  });

  it('tries each candidate socket until it finds the node', async () => {
    const paths = await credentialDir();
    const hidden = modelNode({ stopsOnSighup: true, visible: false });
    const real = modelNode({ stopsOnSighup: true });
    const asked: string[] = [];
    const out = await failSafeRevoke(
      {
        ...targets(paths, 'http://127.0.0.1:1/metrics'),
        socketPaths: ['/env/node.socket', '/file/node.socket'],
      },
      {
        logger: silent,
        nodeFor: (socket) => {
          asked.push(socket);
          return socket === '/file/node.socket' ? real.controller : hidden.controller;
        },
      },
      fast,
    );
    expect(asked).toEqual(['/env/node.socket', '/file/node.socket']);
    expect(out.node).toBe('confirmed-not-forging');
    expect(real.state.sighups).toBe(1);
  });

  it('with no visible node process but a metric that still says forging, it is not safe', async () => {
    const paths = await credentialDir();
    const node = modelNode({ stopsOnSighup: true, visible: false });
    const out = await failSafeRevoke(
      targets(paths, 'http://127.0.0.1:1/metrics'),
      { logger: silent, nodeFor: () => node.controller },
      fast,
    );
    expect(out).toMatchObject({ node: 'may-still-be-forging', safe: false, signalled: false });
    expect(out.message).toMatch(
      /no node process found \(none\); but http:\/\/127.0.0.1:1\/metrics still reports forging/,
    );
  });

  it('against the real node controller with nothing there: files removed, no node visible', async () => {
    const paths = await credentialDir();
    const out = await failSafeRevoke(
      { ...targets(paths), socketPaths: [join(tmpdir(), 'forge-failsafe-no.socket')] },
      { logger: silent },
      fast,
    );
    expect(out.removed).toEqual(paths);
    expect(out.node).toBe('not-visible');
    expect(out.message).toMatch(/removed 3 credential file\(s\); no node process found/);
  });
});

describe('fail-safe targets from a loaded config', () => {
  it("include the credential plugin's own target paths, not only credentials.target", () => {
    const config = parseConfig({
      podName: 'bp-0',
      node: { socketPath: '/run/node.socket', metricsUrl: 'http://127.0.0.1:12798/metrics' },
      plugins: {
        credentialProvisioner: {
          use: 'files',
          options: {
            source: { kesKey: '/s/kes', vrfKey: '/s/vrf', opCert: '/s/cert' },
            target: { kesKey: '/p/kes', vrfKey: '/p/vrf', opCert: '/p/cert' },
          },
        },
      },
    });
    expect(failSafeTargetsFromConfig(config)).toEqual({
      credentialPaths: [
        '/opt/cardano/secrets/kes.skey',
        '/opt/cardano/secrets/vrf.skey',
        '/opt/cardano/secrets/node.cert',
        '/p/kes',
        '/p/vrf',
        '/p/cert',
      ],
      socketPaths: ['/run/node.socket'],
      processName: 'cardano-node',
      pidDiscovery: 'socket',
      metricsUrl: 'http://127.0.0.1:12798/metrics',
    });
  });
});

describe('on a fatal error', () => {
  it('the control loop is stopped before the fail-safe revokes (it could re-provision otherwise)', async () => {
    const order: string[] = [];
    const code = await stopLoopThenFailClosed(
      async () => {
        await new Promise((r) => setTimeout(r, 50));
        order.push('loop stopped');
      },
      5000,
      async () => {
        order.push('revoked');
        return 70;
      },
    );
    expect(code).toBe(70);
    expect(order).toEqual(['loop stopped', 'revoked']);
  });

  it('a stop that hangs or fails delays the fail-safe by the bound at most', async () => {
    const order: string[] = [];
    const revoke = (label: string) => async () => {
      order.push(label);
      return 70;
    };
    // The bound elapses (modelled sleep) while the stop never settles.
    const system = createSystemClock();
    await stopLoopThenFailClosed(() => new Promise(() => undefined), 100, revoke('revoked'), {
      ...system,
      sleep: async (ms) => {
        order.push(`bound ${ms} ms elapsed`);
      },
    });
    await stopLoopThenFailClosed(
      () => Promise.reject(new Error('stop failed')),
      10_000,
      revoke('revoked again'),
      {
        ...system,
        sleep: () => new Promise(() => undefined),
      },
    );
    expect(order).toEqual(['bound 100 ms elapsed', 'revoked', 'revoked again']);
  });
});
