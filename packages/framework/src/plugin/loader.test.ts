import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig } from '../config/load.js';
import type { ForgeConfigInput } from '../config/schema.js';
import { createRootContainer } from '../di/container.js';
import { TOKENS } from '../di/tokens.js';
import type { HealthProbe, PriorityStrategy } from '../contracts/index.js';
import { createSystemClock } from '../core/clock.js';
import { definePlugin, PLUGIN_API_VERSION, PLUGIN_BRAND, type ForgePlugin } from './define.js';
import { builtinDefaultOptions } from '../plugins/builtin-options.js';
import {
  formatPluginProblem,
  instantiatePlugins,
  resolvePlugins,
  type PluginHost,
  type ResolvePluginsOptions,
} from './loader.js';

// ---- in-memory plugins (typed, via definePlugin) ----------------------------------------------

const noopPriority = definePlugin({
  kind: 'priority-strategy',
  name: 'test-priority',
  version: '1.0.0',
  optionsSchema: z.object({ bias: z.number().default(0) }),
  create: (_ctx, options): PriorityStrategy => ({
    compute: (input) => ({
      effectivePriority: input.basePriority + options.bias,
      reason: 'Static',
      message: 'static',
    }),
  }),
});

const fakeLease = definePlugin({
  kind: 'leader-elector',
  name: 'kubernetes-lease',
  version: '0.0.0',
  optionsSchema: z
    .object({
      namespace: z.string(),
      identity: z.string(),
      leaseName: z.string().optional(),
      leaseDurationSeconds: z.number(),
    })
    .loose(),
  create: () => {
    throw new Error('not used in these tests');
  },
});
const fakeFiles = definePlugin({
  kind: 'credential-provisioner',
  name: 'files',
  version: '0.0.0',
  optionsSchema: z.object({
    source: z.object({ kesKey: z.string() }).loose(),
    target: z.object({ kesKey: z.string() }).loose(),
  }),
  create: () => {
    throw new Error('not used in these tests');
  },
});
const builtins = { 'kubernetes-lease': fakeLease as ForgePlugin, files: fakeFiles as ForgePlugin };

// ---- a fake install root with plugin packages in node_modules ---------------------------------

let root: string;
const FRAMEWORK_VERSION = '0.1.0';

interface FakePackage {
  name: string;
  /** The JS module body. */
  module: string;
  peer?: string | null;
  keywords?: string[];
}

const standardUrlSchema = `{
  '~standard': {
    version: 1, vendor: 'test',
    validate(value) {
      const v = value ?? {};
      const issues = [];
      try { new URL(v.url); } catch { issues.push({ message: 'expected a URL', path: ['url'] }); }
      if (v.timeoutMs !== undefined && typeof v.timeoutMs !== 'number') issues.push({ message: 'expected a number', path: [{ key: 'timeoutMs' }] });
      return issues.length ? { issues } : { value: { url: v.url, timeoutMs: v.timeoutMs ?? 1000 } };
    },
  },
}`;

function healthModule(overrides: string): string {
  return `export default {
    $$type: '${PLUGIN_BRAND}', apiVersion: '${PLUGIN_API_VERSION}', kind: 'health-probe',
    name: 'pkg', version: '1.2.3', optionsSchema: ${standardUrlSchema},
    create(ctx, options) { return { id: ctx.instanceId, async check() { return { healthy: true, reason: 'OK', message: options.url, latencyMs: 0 }; } }; },
    ${overrides}
  };\n`;
}

const packages: FakePackage[] = [
  {
    name: '@acme/forge-health-ok',
    module: healthModule(`name: '@acme/forge-health-ok'`),
    keywords: ['cardano-forge-plugin'],
  },
  // CJS-style double default (module.exports = { default: plugin } compiled to ESM).
  {
    name: 'forge-health-double',
    module: `const p = ${healthModule(`name: 'forge-health-double'`).replace('export default ', '').trim()}\nexport default { default: p };\n`,
  },
  { name: 'forge-not-object', module: `export default 42;\n` },
  { name: 'forge-no-brand', module: healthModule(`$$type: 'something-else'`) },
  { name: 'forge-api-v2', module: healthModule(`apiVersion: 'cardano-forge.dev/v2'`) },
  { name: 'forge-peer-old', module: healthModule(`name: 'forge-peer-old'`), peer: '^0.0.1' },
  { name: 'forge-no-peer', module: healthModule(`name: 'forge-no-peer'`), peer: null },
  { name: 'forge-throws-on-import', module: `throw new Error('boom at import');\n` },
  {
    name: '@acme/forge-priority',
    module: healthModule(`kind: 'priority-strategy'`),
    keywords: ['cardano-forge-plugin'],
  },
];

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'forge-loader-'));
  await writeFile(path.join(root, 'package.json'), '{"name":"fake-root","private":true}');
  for (const pkg of packages) {
    const dir = path.join(root, 'node_modules', pkg.name);
    await mkdir(dir, { recursive: true });
    const peer = pkg.peer === null ? undefined : (pkg.peer ?? '^0.1.0');
    await writeFile(
      path.join(dir, 'package.json'),
      JSON.stringify({
        name: pkg.name,
        version: '1.2.3',
        type: 'module',
        exports: { '.': './index.js' },
        keywords: pkg.keywords ?? [],
        ...(peer ? { peerDependencies: { '@cardano-forge/framework': peer } } : {}),
      }),
    );
    await writeFile(path.join(dir, 'index.js'), pkg.module);
  }
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function config(plugins: Record<string, unknown>, rest: Partial<ForgeConfigInput> = {}) {
  return parseConfig({ podName: 'bp-0', ...rest, plugins: { priority: noopPriority, ...plugins } });
}

function options(extra: Partial<ResolvePluginsOptions> = {}): ResolvePluginsOptions {
  return {
    builtins,
    root,
    frameworkVersion: FRAMEWORK_VERSION,
    builtinOptions: builtinDefaultOptions,
    ...extra,
  };
}

async function problemsFor(health: unknown[], extra: Record<string, unknown> = {}) {
  const result = await resolvePlugins(config({ health, ...extra }), options());
  if (result.ok) throw new Error('expected problems');
  return result.problems;
}

describe('resolvePlugins', () => {
  it('resolves built-ins, imported objects and packages (with defaults from config sections)', async () => {
    const cfg = parseConfig({
      podName: 'bp-0',
      namespace: 'cardano',
      election: { leaseName: 'pool-lease' },
      credentials: { source: { kesKey: '/src/kes' } },
      plugins: {
        priority: { use: noopPriority, options: { bias: 3 } },
        health: [
          { use: '@acme/forge-health-ok', options: { url: 'http://127.0.0.1:2/' } },
          { use: 'forge-health-double', id: 'second', options: { url: 'http://127.0.0.1:1/' } },
        ],
      },
    });
    const result = await resolvePlugins(cfg, options());
    if (!result.ok) throw new Error(result.problems.map(formatPluginProblem).join('\n'));
    const p = result.value;
    expect(p.leaderElector.source).toBe('builtin');
    expect(p.leaderElector.options).toMatchObject({
      namespace: 'cardano',
      identity: 'bp-0',
      leaseName: 'pool-lease',
      leaseDurationSeconds: 15,
    });
    expect(p.credentialProvisioner.options).toMatchObject({
      source: { kesKey: '/src/kes' },
      target: { kesKey: '/opt/cardano/secrets/kes.skey' },
    });
    expect(p.priority.source).toBe('object');
    expect(p.priority.options).toEqual({ bias: 3 });
    expect(p.health.map((h) => [h.instanceId, h.source, h.version])).toEqual([
      ['@acme/forge-health-ok', 'package', '1.2.3'],
      ['second', 'package', '1.2.3'],
    ]);
    expect(p.health[0]?.options).toEqual({ url: 'http://127.0.0.1:2/', timeoutMs: 1000 });
  });

  it('merges ref options over the section-derived defaults of a built-in', async () => {
    const result = await resolvePlugins(
      config(
        { leaderElector: { use: 'kubernetes-lease', options: { leaseName: 'explicit' } } },
        { election: { leaseName: 'from-section' } },
      ),
      options(),
    );
    if (!result.ok) throw new Error('unexpected problems');
    expect(result.value.leaderElector.options).toMatchObject({ leaseName: 'explicit', namespace: 'default' });
  });

  it('builtinDefaultOptions computes an unset leaseName with the naming rules', () => {
    expect(builtinDefaultOptions('kubernetes-lease', config({}))).toMatchObject({
      leaseName: 'cardano-node-leader',
    });
    const pool = parseConfig({ podName: 'bp-0', pool: { network: 'preprod', id: 'pool1abcdefghij' } });
    expect(builtinDefaultOptions('kubernetes-lease', pool)).toMatchObject({
      leaseName: 'cardano-leader-preprod-pool1abcde',
      // The Python sidecar's lease is held too during an upgrade (issue 8, item 9).
      legacyLeaseName: 'cardano-node-leader',
    });
    expect(builtinDefaultOptions('kubernetes-lease', config({}))?.['legacyLeaseName']).toBeUndefined();
    const migrated = parseConfig({
      podName: 'bp-0',
      pool: { network: 'preprod', id: 'pool1abcdefghij' },
      election: { legacyLeaseName: false },
    });
    expect(builtinDefaultOptions('kubernetes-lease', migrated)?.['legacyLeaseName']).toBeUndefined();
    expect(builtinDefaultOptions('unknown', config({}))).toBeUndefined();
  });

  it('rejects a module whose export is not an object', async () => {
    const [p] = await problemsFor([{ use: 'forge-not-object', options: { url: 'http://x/' } }]);
    expect(p?.reason).toBe('NotAPlugin');
    expect(formatPluginProblem(p!)).toBe('plugins.health[0] ("forge-not-object"): is not an object');
  });

  it('rejects a missing brand', async () => {
    const [p] = await problemsFor(['forge-no-brand']);
    expect(p?.reason).toBe('NotAPlugin');
    expect(p?.message).toContain('missing brand "cardano-forge.plugin"');
  });

  it('rejects an unsupported apiVersion, naming both versions', async () => {
    const problems = await problemsFor([{ use: 'forge-api-v2', options: { url: 'http://127.0.0.1/' } }]);
    expect(problems.map((p) => p.reason)).toEqual(['UnsupportedApiVersion']);
    expect(formatPluginProblem(problems[0]!)).toContain(
      'plugins.health[0] ("forge-api-v2"): apiVersion "cardano-forge.dev/v2" is not supported',
    );
    expect(problems[0]?.message).toContain(PLUGIN_API_VERSION);
  });

  it('rejects a plugin of the wrong kind for its slot', async () => {
    const problems = await problemsFor([
      { use: '@acme/forge-priority', options: { url: 'http://127.0.0.1/' } },
    ]);
    expect(problems.map((p) => p.reason)).toEqual(['WrongKind']);
    expect(problems[0]?.message).toBe(
      'is a priority-strategy plugin, but plugins.health[0] needs a health-probe',
    );
  });

  it('rejects a peer range the framework version does not satisfy, and a missing peer range', async () => {
    const problems = await problemsFor([
      { use: 'forge-peer-old', options: { url: 'http://127.0.0.1/' } },
      { use: 'forge-no-peer', options: { url: 'http://127.0.0.1/' } },
    ]);
    expect(problems.map((p) => [p.configPath, p.reason])).toEqual([
      ['plugins.health[0]', 'IncompatibleFramework'],
      ['plugins.health[1]', 'IncompatibleFramework'],
    ]);
    expect(problems[0]?.message).toBe('requires @cardano-forge/framework ^0.0.1, but 0.1.0 is installed');
    expect(problems[1]?.message).toContain('declares no peerDependencies');
  });

  it('reports bad options with the config path, package and option path', async () => {
    const problems = await problemsFor([
      '@acme/forge-health-ok',
      { use: '@acme/forge-health-ok', id: 'b', options: { url: 'x', timeoutMs: 'slow' } },
    ]);
    expect(problems.map(formatPluginProblem)).toEqual([
      'plugins.health[0] ("@acme/forge-health-ok"): option "url": expected a URL',
      'plugins.health[1] ("@acme/forge-health-ok"): option "url": expected a URL',
      'plugins.health[1] ("@acme/forge-health-ok"): option "timeoutMs": expected a number',
    ]);
  });

  it('reports zod option errors of an object plugin with their path', async () => {
    const result = await resolvePlugins(
      config({ priority: { use: noopPriority, options: { bias: 'high' } } }),
      options(),
    );
    if (result.ok) throw new Error('expected problems');
    expect(result.problems.map(formatPluginProblem)).toEqual([
      expect.stringMatching(/^plugins\.priority \("test-priority"\): option "bias": .*number/),
    ]);
  });

  it('lists installed plugins for an unknown package', async () => {
    const [p] = await problemsFor(['@acme/forge-health-missing']);
    expect(p?.reason).toBe('UnknownPlugin');
    expect(p?.message).toContain(
      'Installed plugins: kubernetes-lease, files, @acme/forge-health-ok, @acme/forge-priority',
    );
    expect(p?.message).not.toContain('forge-no-brand'); // no plugin keyword
  });

  it('reports a module that throws at import', async () => {
    const [p] = await problemsFor(['forge-throws-on-import']);
    expect(p?.reason).toBe('ImportFailed');
    expect(p?.message).toContain('boom at import');
  });

  it('rejects duplicate instance ids within a slot', async () => {
    const ok = { url: 'http://127.0.0.1/' };
    const problems = await problemsFor([
      { use: '@acme/forge-health-ok', id: 'a', options: ok },
      { use: 'forge-health-double', id: 'a', options: ok },
    ]);
    expect(problems.map(formatPluginProblem)).toEqual([
      'plugins.health[1] ("forge-health-double"): duplicate id "a" (also used by plugins.health[0]); give each instance a distinct "id"',
    ]);
  });

  it('collects all problems across slots in one answer', async () => {
    const problems = await problemsFor(['forge-no-brand', '@acme/forge-health-missing'], {
      leaderElector: 'no-such-elector',
    });
    expect(problems.map((p) => p.configPath)).toEqual([
      'plugins.leaderElector',
      'plugins.health[0]',
      'plugins.health[1]',
    ]);
  });
});

describe('instantiatePlugins', () => {
  function host(container = createRootContainer()): PluginHost {
    return {
      container,
      logger: pino({ level: 'silent' }),
      metrics: { registry: new Registry() },
      http: { dispatcher: new Agent() },
      kube: {
        config: () => {
          throw new Error('no kube in unit tests');
        },
      },
      clock: createSystemClock(),
      identity: { podName: 'bp-0', namespace: 'default', network: 'mainnet', poolId: '', region: 'unknown' },
      signal: new AbortController().signal,
    };
  }

  it('creates each instance in its own child container with a scoped context and registers it', async () => {
    const seen: Array<{ path: string; id: string }> = [];
    const probe = definePlugin({
      kind: 'health-probe',
      name: 'mem-probe',
      version: '1.0.0',
      optionsSchema: z.object({}),
      create: (ctx): HealthProbe => {
        seen.push({ path: ctx.configPath, id: ctx.instanceId });
        return {
          id: ctx.instanceId,
          check: async () => ({ healthy: true, reason: 'OK', message: 'ok', latencyMs: 0 }),
        };
      },
    });
    const resolved = await resolvePlugins(
      config({
        health: [
          { use: probe, id: 'one' },
          { use: probe, id: 'two' },
        ],
      }),
      options(),
    );
    if (!resolved.ok) throw new Error('unexpected problems');
    const root = createRootContainer();
    const created = await instantiatePlugins(resolved.value.health, host(root));
    if (!created.ok) throw new Error(created.problems.map(formatPluginProblem).join('\n'));
    expect(seen).toEqual([
      { path: 'plugins.health[0]', id: 'one' },
      { path: 'plugins.health[1]', id: 'two' },
    ]);
    expect(root.resolveAll(TOKENS.healthProbes).map((p) => p.id)).toEqual(['one', 'two']);
    const [first, second] = created.value;
    expect(first!.container.resolve(TOKENS.pluginContext).instanceId).toBe('one');
    expect(second!.container.resolve(TOKENS.pluginContext).instanceId).toBe('two');
    // Per-instance registrations stay in the child.
    expect(root.isRegistered(TOKENS.pluginContext)).toBe(false);
  });

  it('reports every create() failure and a result missing methods, registering nothing', async () => {
    const broken = definePlugin({
      kind: 'health-probe',
      name: 'broken',
      version: '1.0.0',
      optionsSchema: z.object({}),
      create: () => {
        throw new Error('cannot connect');
      },
    });
    const hollow = definePlugin({
      kind: 'health-probe',
      name: 'hollow',
      version: '1.0.0',
      optionsSchema: z.object({}),
      create: () => ({ id: 'hollow' }) as unknown as HealthProbe,
    });
    const resolved = await resolvePlugins(config({ health: [broken, hollow] }), options());
    if (!resolved.ok) throw new Error('unexpected problems');
    const root = createRootContainer();
    const created = await instantiatePlugins(resolved.value.health, host(root));
    if (created.ok) throw new Error('expected failure');
    expect(created.problems.map(formatPluginProblem)).toEqual([
      'plugins.health[0] ("broken"): create() failed: cannot connect',
      'plugins.health[1] ("hollow"): create() returned an object without check()',
    ]);
    expect(root.resolveAll(TOKENS.healthProbes)).toEqual([]);
  });
});
