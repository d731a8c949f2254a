// Process-wide listeners of a manager run: installed while it runs, and back to what they were on
// every way out (normal stop, the fail-safe exit on a plugin that does not load, a start that fails).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig } from '../config/load.js';
import type { ResolvedConfig } from '../config/schema.js';
import type { PriorityStrategy } from '../contracts/index.js';
import { definePlugin, type ForgePlugin } from '../plugin/define.js';
import { FakeCredentials, FakeElector } from '../testing/fakes.js';
import { installProcessHandlers } from './process-handlers.js';
import { runManager } from './run.js';

const WATCHED = ['SIGTERM', 'SIGINT', 'uncaughtException', 'unhandledRejection'] as const;
const listenerCounts = (): Record<string, number> =>
  Object.fromEntries(WATCHED.map((event) => [event, process.listenerCount(event)]));

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

class StartFailingElector extends FakeElector {
  override async start(): Promise<void> {
    throw new Error('the lease API is unreachable');
  }
}

function builtins(elector: () => FakeElector): Record<string, ForgePlugin> {
  const calls: string[] = [];
  return {
    'kubernetes-lease': definePlugin({
      kind: 'leader-elector',
      name: 'kubernetes-lease',
      version: '0',
      optionsSchema: z.object({}).loose(),
      create: () => elector(),
    }),
    files: definePlugin({
      kind: 'credential-provisioner',
      name: 'files',
      version: '0',
      optionsSchema: z.object({}).loose(),
      create: () => new FakeCredentials(calls),
    }),
    '@cardano-forge/priority-static': definePlugin({
      kind: 'priority-strategy',
      name: 'static',
      version: '0',
      optionsSchema: z.object({}).loose(),
      create: (): PriorityStrategy => ({
        compute: (input) => ({ effectivePriority: input.basePriority, reason: 'Static', message: 'static' }),
      }),
    }),
  };
}

async function configIn(): Promise<ResolvedConfig> {
  const dir = await mkdtemp(join(tmpdir(), 'forge-handlers-'));
  dirs.push(dir);
  return parseConfig({
    podName: 'bp-0',
    log: { level: process.env.DEBUG_FORGE ? 'info' : 'silent' },
    http: { host: '127.0.0.1', port: 0 },
    kes: { enabled: false },
    node: { socketPath: join(dir, 'node.socket') },
    credentials: {
      source: { kesKey: join(dir, 's-kes'), vrfKey: join(dir, 's-vrf'), opCert: join(dir, 's-cert') },
      target: { kesKey: join(dir, 'kes'), vrfKey: join(dir, 'vrf'), opCert: join(dir, 'cert') },
    },
  });
}

describe('process-wide handlers of a manager run', () => {
  it('installProcessHandlers adds one listener per event and dispose() removes exactly those', () => {
    const before = listenerCounts();
    const handlers = installProcessHandlers({ onFatal: () => undefined, stopOnSignals: true });
    expect(listenerCounts()).toEqual(Object.fromEntries(WATCHED.map((e) => [e, (before[e] ?? 0) + 1])));
    handlers.dispose();
    handlers.dispose();
    expect(listenerCounts()).toEqual(before);
  });

  it('a SIGTERM resolves the stop request and takes the signal listeners off at once', async () => {
    const before = listenerCounts();
    const handlers = installProcessHandlers({ onFatal: () => undefined, stopOnSignals: true });
    process.emit('SIGTERM', 'SIGTERM');
    await expect(handlers.stopRequested).resolves.toBe('SIGTERM');
    expect(process.listenerCount('SIGTERM')).toBe(before.SIGTERM);
    expect(process.listenerCount('SIGINT')).toBe(before.SIGINT);
    handlers.dispose();
    expect(listenerCounts()).toEqual(before);
  });

  it('a normal stop leaves the listener counts where they were', async () => {
    const config = await configIn();
    const before = listenerCounts();
    let release: (signal: string) => void = () => undefined;
    const stopSignal = new Promise<string>((resolve) => (release = resolve));
    const calls: string[] = [];
    const running = runManager(config, {
      builtins: builtins(() => new FakeElector(calls)),
      env: {},
      stopSignal,
    });
    // While it runs, its fatal-error handlers are installed.
    await expect
      .poll(() => process.listenerCount('uncaughtException'))
      .toBe((before.uncaughtException ?? 0) + 1);
    release('SIGTERM');
    await expect(running).resolves.toBe(0);
    expect(listenerCounts()).toEqual(before);
  });

  it('the fail-safe exit (a plugin that does not load) leaves them where they were', async () => {
    const config = await configIn();
    const before = listenerCounts();
    const { files: _missing, ...withoutFiles } = builtins(() => new FakeElector([]));
    const code = await runManager(config, {
      builtins: withoutFiles,
      env: {},
      stopSignal: new Promise(() => undefined),
    });
    expect(code).toBe(1);
    expect(listenerCounts()).toEqual(before);
  });

  it('a start that fails (and the default SIGTERM/SIGINT listeners) leaves them where they were', async () => {
    const config = await configIn();
    const before = listenerCounts();
    const code = await runManager(config, { builtins: builtins(() => new StartFailingElector([])), env: {} });
    expect(code).toBe(1);
    expect(listenerCounts()).toEqual(before);
  });
});
