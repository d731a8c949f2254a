import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { HealthProbe } from '../contracts/index.js';
import { definePlugin, type ForgePlugin } from '../plugin/define.js';
import { parseCli, runCli, type CliDeps } from './commands.js';

const unusable = () => {
  throw new Error('not created by validate');
};
const fakeBuiltins: Record<string, ForgePlugin> = {
  'kubernetes-lease': definePlugin({
    kind: 'leader-elector',
    name: 'kubernetes-lease',
    version: '0',
    optionsSchema: z.object({}).loose(),
    create: unusable,
  }) as ForgePlugin,
  files: definePlugin({
    kind: 'credential-provisioner',
    name: 'files',
    version: '0',
    optionsSchema: z.object({}).loose(),
    create: unusable,
  }) as ForgePlugin,
  '@cardano-forge/priority-static': definePlugin({
    kind: 'priority-strategy',
    name: 'static',
    version: '0',
    optionsSchema: z.object({}),
    create: unusable,
  }) as ForgePlugin,
  'mem-probe': definePlugin({
    kind: 'health-probe',
    name: 'mem-probe',
    version: '0',
    optionsSchema: z.object({ healthy: z.boolean(), token: z.string().optional() }),
    create: (ctx, o): HealthProbe => ({
      id: ctx.instanceId,
      check: async () => ({
        healthy: o.healthy,
        reason: o.healthy ? 'OK' : 'Down',
        message: 'mem',
        latencyMs: 1,
      }),
    }),
  }) as ForgePlugin,
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'forge-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(
  argv: string[],
  env: Record<string, string> = { POD_NAME: 'bp-0' },
  runManager?: CliDeps['runManager'],
) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await runCli(
    { argv, env, cwd: dir, stdout, stderr },
    { builtins: () => fakeBuiltins, runManager: runManager ?? (async () => 0) },
  );
  return { code, out, err };
}

describe('forge-manager CLI', () => {
  it('validate prints the resolved config (redacted) and the plugins', async () => {
    await writeFile(
      path.join(dir, 'ok.yaml'),
      'namespace: cardano\nplugins:\n  health:\n    - { use: mem-probe, id: mem, options: { healthy: true, token: s3cret } }\n',
    );
    const r = await cli(['validate', '--config', 'ok.yaml', '--set', 'cluster.priority=7']);
    expect(r.err).toContain('configuration valid: 4 plugin(s) loaded');
    expect(r.err).toContain('coordination mode: cluster — the Kubernetes Lease alone, no etcd');
    // A health plugin with neither cluster nor cross-region mode runs for nothing: said, not silent.
    expect(r.err).toContain(
      'warning: 1 health plugin(s) configured with neither cluster management (cluster.enabled) nor cross-region mode (etcdArbiter.enabled)',
    );
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('s3cret');
    const doc = parseYaml(r.out) as {
      config: { namespace: string; cluster: { priority: number } };
      plugins: Array<{ path: string }>;
    };
    expect(doc.config.namespace).toBe('cardano');
    expect(doc.config.cluster.priority).toBe(7);
    expect(doc.plugins.map((p) => p.path)).toEqual([
      'plugins.leaderElector',
      'plugins.credentialProvisioner',
      'plugins.priority',
      'plugins.health[0]',
    ]);
  });

  it('validate lists every config error and exits 2', async () => {
    await writeFile(
      path.join(dir, 'bad.json'),
      JSON.stringify({ http: { port: 'x' }, loop: { intervalSeconds: 0 } }),
    );
    const r = await cli(['validate', '-c', 'bad.json'], { POD_NAME: 'bp-0', LEASE_DURATION: 'abc' });
    expect(r.code).toBe(2);
    expect(r.err).toContain('configuration errors (3)');
    expect(r.err).toContain('http.port');
    expect(r.err).toContain('loop.intervalSeconds');
    expect(r.err).toContain('election.leaseDurationSeconds (from env LEASE_DURATION)');
  });

  it('validate lists plugin errors with path and name', async () => {
    await writeFile(
      path.join(dir, 'badplug.yaml'),
      'plugins:\n  health: [ { use: mem-probe, options: { healthy: maybe } }, "@nobody/x" ]\n',
    );
    const r = await cli(['validate', '--config', 'badplug.yaml']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('plugin errors (2)');
    expect(r.err).toContain('plugins.health[0] ("mem-probe"): option "healthy":');
    expect(r.err).toContain('plugins.health[1] ("@nobody/x"): package not found');
  });

  it('probe runs each health plugin once; exit 1 when one is unhealthy', async () => {
    await writeFile(
      path.join(dir, 'probe.yaml'),
      'plugins:\n  health:\n    - { use: mem-probe, id: up, options: { healthy: true } }\n    - { use: mem-probe, id: down, options: { healthy: false } }\n',
    );
    const r = await cli(['probe', '--config', 'probe.yaml', '--format', 'json']);
    const doc = JSON.parse(r.out) as { probes: Array<{ id: string; healthy: boolean; reason: string }> };
    expect(doc.probes.map((p) => [p.id, p.healthy, p.reason])).toEqual([
      ['up', true, 'OK'],
      ['down', false, 'Down'],
    ]);
    expect(r.code).toBe(1);
  });

  it('run hands the resolved config to runManager and returns its exit code', async () => {
    let seen: string | undefined;
    const r = await cli(['run', '--pod-name', 'cli-pod'], { POD_NAME: 'env-pod' }, async (config) => {
      seen = config.podName;
      return 3;
    });
    expect([r.code, seen]).toEqual([3, 'cli-pod']);
  });

  it('help, usage errors and unknown commands', async () => {
    expect((await cli(['--help'])).code).toBe(0);
    expect((await cli(['--help'])).out).toContain('forge-manager validate');
    expect((await cli([])).code).toBe(2);
    expect((await cli(['frobnicate'])).err).toContain('unknown command "frobnicate"');
    expect((await cli(['validate', '--bogus'])).code).toBe(2);
    expect(() => parseCli(['validate', '--set', 'noequals'])).toThrow('--set expects path=value');
  });
});

describe('forge-manager run with a config that does not load', () => {
  it('hands the fail-safe the config path, env and overrides (not just env), then exits 2', async () => {
    await writeFile(path.join(dir, 'tabs.yaml'), 'credentials:\n\ttarget:\n\t\tkesKey: /keys/kes.skey\n');
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    const handed: unknown[] = [];
    const code = await runCli(
      {
        argv: ['run', '--config', 'tabs.yaml', '--set', 'node.socketPath=/run/node.socket'],
        env: { POD_NAME: 'bp-0' },
        cwd: dir,
        stdout,
        stderr,
      },
      {
        builtins: () => fakeBuiltins,
        runManager: async () => 0,
        failSafe: async (input) => void handed.push(input),
      },
    );
    expect(code).toBe(2);
    expect(err).toContain('YAML indentation must use spaces, not tabs');
    expect(handed).toEqual([
      {
        configPath: 'tabs.yaml',
        env: { POD_NAME: 'bp-0' },
        overrides: { node: { socketPath: '/run/node.socket' } },
        cwd: dir,
      },
    ]);
  });

  it('validate names a wrong-typed value and what was expected', async () => {
    await writeFile(path.join(dir, 'typed.yaml'), 'election:\n  leaseDurationSeconds: "15s"\n');
    const r = await cli(['validate', '--config', 'typed.yaml']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('election.leaseDurationSeconds: expected a number, got "15s"');
  });
});
