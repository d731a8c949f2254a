/**
 * The third-party plugin path end to end, as an SPO and a plugin author would take it. The framework
 * and the default plugin set are packed with `npm pack`; the example plugin is copied out of the
 * repository and built, tested and packed from its own directory (its own devDependencies, its
 * `prepack` build); everything is installed from the tarballs into a fresh project, named by package
 * in a forge.config.ts that only `import type`s from the framework, and loaded and run by the
 * installed `forge-manager`: `validate`, `probe`, and `run` as a real sidecar against the real
 * control plane. Also checks what the framework tarball holds, that a consumer imports both of its
 * entries, and the errors for an incompatible apiVersion and for bad options.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeFakeCredentials } from '../cardano-node-sim/credentials.ts';
import { createTestNamespace, testKubeConfig } from '../support/cluster.ts';
import { ForgePod, waitFor } from '../support/forge-pod.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const node24 = path.join(repo, 'node_modules/.bin/node');
const exampleDir = path.join(repo, 'examples/forge-health-example');
// npm and the forge-manager shebang pick up the repo's Node 24 first.
const env = { ...process.env, PATH: `${path.join(repo, 'node_modules/.bin')}:${process.env.PATH ?? ''}` };
const DEFAULT_SET = ['priority-static', 'health-http', 'health-prometheus', 'health-k8s-probe'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    // execFile kills its own child on timeout; nothing here outlives the call.
    execFile(
      cmd,
      args,
      { cwd, env: { ...env, ...extraEnv }, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

async function mustRun(cmd: string, args: string[], cwd: string): Promise<Run> {
  const r = await run(cmd, args, cwd);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

interface Packed {
  tarball: string;
  files: string[];
}

/** `npm pack`; with `scripts` its prepack runs (the plugin's build), else nothing is built. */
async function pack(packageDir: string, into: string, scripts = false): Promise<Packed> {
  const r = await mustRun(
    'npm',
    ['pack', '--pack-destination', into, '--json', ...(scripts ? [] : ['--ignore-scripts'])],
    packageDir,
  );
  // npm prints the lifecycle scripts' output before the JSON when they run.
  const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf('\n[') + 1)) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  return { tarball: path.join(into, info!.filename), files: info!.files.map((f) => f.path).sort() };
}

let work: string;
let project: string;
let framework: Packed;
let standaloneTest: Run;
let examplePacked: Packed;

function forgeManager(args: string[]): Promise<Run> {
  return run(node24, [path.join(project, 'node_modules/.bin/forge-manager'), ...args], project, {
    POD_NAME: 'example-bp-0',
  });
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'forge-example-plugin-'));
  const tarballs = path.join(work, 'tarballs');
  await mkdir(tarballs);

  // 1. The framework and the default plugin set (built by `npm test`'s pretest / `npm run build`),
  //    packed as a registry would serve them.
  framework = await pack(path.join(repo, 'packages/framework'), tarballs);
  const defaults = [
    await pack(path.join(repo, 'packages/default-plugins'), tarballs),
    ...(await Promise.all(DEFAULT_SET.map((name) => pack(path.join(repo, 'plugins', name), tarballs)))),
  ];

  // 2. The example plugin on its own, outside the repository (no workspace, no hoisted modules):
  //    its sources, tests and manifest; its devDependencies installed, the framework from its tarball.
  const standalone = path.join(work, 'forge-health-example');
  await cp(exampleDir, standalone, {
    recursive: true,
    filter: (source) => !/[/\\](dist|node_modules)$/.test(source),
  });
  await mustRun(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-save', framework.tarball],
    standalone,
  );
  standaloneTest = await run('npm', ['test'], standalone);
  await rm(path.join(standalone, 'dist'), { recursive: true, force: true });
  examplePacked = await pack(standalone, tarballs, true);

  // 3. A second variant: the same plugin as if built against a future contract version.
  const v2 = path.join(work, 'example-v2');
  await mkdir(v2);
  await cp(path.join(standalone, 'dist'), path.join(v2, 'dist'), { recursive: true });
  const pkg = JSON.parse(await readFile(path.join(standalone, 'package.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  await writeFile(
    path.join(v2, 'package.json'),
    JSON.stringify({ ...pkg, name: '@acme/forge-health-example-v2', scripts: {} }, null, 2),
  );
  await rename(path.join(v2, 'dist/index.js'), path.join(v2, 'dist/plugin.js'));
  await writeFile(
    path.join(v2, 'dist/index.js'),
    "import plugin from './plugin.js';\nexport default { ...plugin, name: '@acme/forge-health-example-v2', apiVersion: 'cardano-forge.dev/v2' };\n",
  );
  const v2Packed = await pack(v2, tarballs);

  // 4. A fresh project that installs only the tarballs (dependencies come from the npm cache).
  project = path.join(work, 'project');
  await mkdir(project);
  await writeFile(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'spo-deployment', private: true, type: 'module' }),
  );
  await mustRun(
    'npm',
    [
      'install',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      framework.tarball,
      ...defaults.map((d) => d.tarball),
      examplePacked.tarball,
      v2Packed.tarball,
    ],
    project,
  );

  // A file for the probe to find, and the configs.
  await writeFile(path.join(project, 'kes.skey'), 'present');
  const header = "import type { ForgeConfig } from '@cardano-forge/framework';\n";
  const base = (health: string) =>
    `${header}export default {\n  namespace: 'cardano',\n  plugins: { health: ${health} },\n} satisfies ForgeConfig;\n`;
  await writeFile(
    path.join(project, 'forge.config.ts'),
    base(
      `[{ use: '@acme/forge-health-example', id: 'kes-file', options: { file: ${JSON.stringify(path.join(project, 'kes.skey'))} } }]`,
    ),
  );
  await writeFile(
    path.join(project, 'forge.v2.config.ts'),
    base(`[{ use: '@acme/forge-health-example-v2', id: 'kes-file', options: { file: '/tmp' } }]`),
  );
  await writeFile(
    path.join(project, 'forge.bad-options.config.ts'),
    base(`[{ use: '@acme/forge-health-example', options: { tcp: { port: 'ssh' }, timeoutMs: -1 } }]`),
  );
}, 600_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packages as published', () => {
  it('the framework tarball holds both entries, its CLI and README, and no sources, tests, maps or build info', () => {
    for (const file of [
      'package.json',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/testing/index.js',
      'dist/testing/index.d.ts',
      'dist/cli/main.js',
    ])
      expect(framework.files, file).toContain(file);
    const unwanted = framework.files.filter((f) => /(^src\/|\.test\.|\.map$|tsbuildinfo|fixtures)/.test(f));
    expect(unwanted).toEqual([]);
  });

  it('a consumer imports @cardano-forge/framework and @cardano-forge/framework/testing (Node 24, and tsc with the shipped types)', async () => {
    const script = [
      "const main = await import('@cardano-forge/framework');",
      "const testing = await import('@cardano-forge/framework/testing');",
      'console.log(JSON.stringify({',
      '  definePlugin: typeof main.definePlugin,',
      "  mainHasFakeLeaseStore: 'FakeLeaseStore' in main,",
      '  testing: Object.keys(testing).sort(),',
      '}));',
    ].join('\n');
    const r = await run(node24, ['--input-type=module', '-e', script], project);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      definePlugin: string;
      mainHasFakeLeaseStore: boolean;
      testing: string[];
    };
    expect(out.definePlugin).toBe('function');
    expect(out.mainHasFakeLeaseStore).toBe(false);
    expect(out.testing).toEqual(
      expect.arrayContaining([
        'FakeClock',
        'FakeLeaseStore',
        'FakeElector',
        'FakeNode',
        'FakeCredentials',
        'createTestPluginContext',
        'checkHealthProbePlugin',
        'checkPriorityStrategyPlugin',
        'scriptedHealthProbe',
      ]),
    );

    // The types resolve through the "exports" map as a NodeNext consumer sees them.
    await writeFile(
      path.join(project, 'consumer.ts'),
      [
        "import { definePlugin, type HealthProbe } from '@cardano-forge/framework';",
        "import { FakeClock, checkHealthProbePlugin, type ContractReport } from '@cardano-forge/framework/testing';",
        'const clock: FakeClock = new FakeClock();',
        'export const plugin = definePlugin({',
        "  kind: 'health-probe',",
        "  name: 'consumer-probe',",
        "  version: '1.0.0',",
        "  optionsSchema: { '~standard': { version: 1, vendor: 'consumer', validate: () => ({ value: {} }) } },",
        '  create: (context): HealthProbe => ({',
        '    id: context.instanceId,',
        "    check: async () => ({ healthy: true, reason: 'Ok', message: '', latencyMs: clock.monotonicMs() }),",
        '  }),',
        '});',
        'export const report: Promise<ContractReport<unknown>> = checkHealthProbePlugin(plugin, {});',
        '',
      ].join('\n'),
    );
    await writeFile(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2023',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = await run(
      node24,
      [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
      project,
    );
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
  });

  it('the example plugin builds and passes its own tests standalone, and its prepack builds what it packs', () => {
    expect(standaloneTest.code, standaloneTest.stdout + standaloneTest.stderr).toBe(0);
    const passed = Number(/(?:ℹ|#) pass (\d+)/.exec(standaloneTest.stdout)?.[1]);
    expect(passed).toBeGreaterThan(0);
    expect(standaloneTest.stdout).toMatch(/(?:ℹ|#) fail 0/);
    // dist/ was deleted before `npm pack`: these files exist only because prepack built them.
    expect(examplePacked.files).toEqual(['README.md', 'dist/index.d.ts', 'dist/index.js', 'package.json']);
  });
});

describe('example third-party plugin, installed from tarballs', () => {
  it('installs from the tarballs: the plugin sits next to the framework, outside the repo', async () => {
    const scoped = await readdir(path.join(project, 'node_modules/@acme'));
    expect(scoped.sort()).toEqual(['forge-health-example', 'forge-health-example-v2']);
    const fw = JSON.parse(
      await readFile(path.join(project, 'node_modules/@cardano-forge/framework/package.json'), 'utf8'),
    ) as {
      version: string;
    };
    expect(fw.version).toBe('0.1.0');
  });

  it('validate loads the plugin named by package in a type-only forge.config.ts', async () => {
    const r = await forgeManager(['validate', '--config', 'forge.config.ts', '--format', 'json']);
    expect(r.stderr).toContain('configuration valid');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      plugins: Array<{ path: string; name: string; version: string; source: string; id: string }>;
    };
    expect(out.plugins.find((p) => p.path === 'plugins.health[0]')).toEqual(
      expect.objectContaining({
        name: '@acme/forge-health-example',
        version: '1.0.0',
        source: 'package',
        id: 'kes-file',
      }),
    );
  });

  it('probe creates the plugin and runs it once', async () => {
    const r = await forgeManager(['probe', '--config', 'forge.config.ts', '--format', 'json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      probes: Array<{ id: string; healthy: boolean; reason: string; message: string }>;
    };
    expect(out.probes).toEqual([
      expect.objectContaining({
        id: 'kes-file',
        healthy: true,
        reason: 'FileExists',
        message: `${path.join(project, 'kes.skey')} is readable`,
      }),
    ]);
  });

  it('probe reports an unhealthy result (exit 1) when the file is gone', async () => {
    await rm(path.join(project, 'kes.skey'));
    try {
      const r = await forgeManager(['probe', '--config', 'forge.config.ts', '--format', 'json']);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toEqual({
        probes: [expect.objectContaining({ healthy: false, reason: 'FileMissing' })],
      });
    } finally {
      await writeFile(path.join(project, 'kes.skey'), 'present');
    }
  });

  it('an incompatible apiVersion fails with a clear error', async () => {
    const r = await forgeManager(['validate', '--config', 'forge.v2.config.ts']);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      'plugins.health[0] ("@acme/forge-health-example-v2"): apiVersion "cardano-forge.dev/v2" is not supported by @cardano-forge/framework 0.1.0 (supported: cardano-forge.dev/v1)',
    );
  });

  it('bad options fail with every problem, each naming path, package and option', async () => {
    const r = await forgeManager(['validate', '--config', 'forge.bad-options.config.ts']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('plugin errors (2)');
    expect(r.stderr).toMatch(
      /plugins\.health\[0\] \("@acme\/forge-health-example"\): option "tcp\.port": .*number/,
    );
    expect(r.stderr).toMatch(
      /plugins\.health\[0\] \("@acme\/forge-health-example"\): option "timeoutMs": .*>0/,
    );
  });
});

describe('forge-manager run with the installed example plugin', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  interface PolicyStatus {
    forgingAllowed: boolean;
    effectivePriority: number | null;
    reason: string;
    health: { healthy: boolean | null; consecutiveFailures: number; message: string };
  }

  it("a real sidecar runs the plugin: the cluster's effective priority follows what it answers", async () => {
    const ns = await createTestNamespace(testKubeConfig(), 'example-run');
    cleanups.push(() => ns.cleanup());
    const dir = await mkdtemp(path.join(work, 'run-'));
    const sourceDir = path.join(dir, 'secrets');
    await writeFakeCredentials(sourceDir);
    const marker = path.join(dir, 'relay-ready');
    await writeFile(marker, 'ok');
    const config = path.join(project, 'forge.run.config.ts');
    await writeFile(
      config,
      [
        "import type { ForgeConfig } from '@cardano-forge/framework';",
        'export default {',
        `  plugins: { health: [{ use: '@acme/forge-health-example', id: 'relay-ready', options: { file: ${JSON.stringify(marker)} } }] },`,
        '} satisfies ForgeConfig;',
        '',
      ].join('\n'),
    );
    const pod = new ForgePod({
      name: 'bp-0',
      namespace: ns.name,
      kubeconfigPath: inject('forgeKubeconfig'),
      pool: 'pool1example',
      sourceDir,
      eventLog: path.join(dir, 'events.jsonl'),
      workDir: path.join(dir, 'bp-0'),
      leaseName: 'cardano-node-leader',
      // The installed forge-manager, run from the SPO's project with its config file.
      entrypoint: {
        cli: path.join(project, 'node_modules/@cardano-forge/framework/dist/cli/main.js'),
        args: ['--config', config],
        cwd: project,
      },
      extraEnv: {
        POOL_ID: 'pool1example0000000000000000000000000000000000000000',
        ENABLE_CLUSTER_MANAGEMENT: 'true',
        CLUSTER_REGION: 'eu-west-1',
        CLUSTER_PRIORITY: '20',
        HEALTH_CHECK_INTERVAL: '1',
        HEALTH_CHECK_FAILURE_THRESHOLD: '2',
      },
    });
    cleanups.push(() => pod.dispose());
    await pod.start();
    await pod.node!.waitForForging(true, 30_000);

    const policyWhere = (what: string, accept: (p: PolicyStatus) => boolean): Promise<PolicyStatus> =>
      waitFor(
        what,
        async () => {
          const policy = (await pod.status())?.policy as PolicyStatus | undefined;
          return policy !== undefined && accept(policy) ? policy : null;
        },
        30_000,
      );

    // Healthy: the plugin's answer reaches the policy; priority-static leaves the base priority.
    const healthy = await policyWhere('a healthy round', (p) => p.health.healthy === true);
    expect(healthy).toMatchObject({
      effectivePriority: 20,
      reason: 'healthy_operation',
      forgingAllowed: true,
    });
    expect(healthy.health.message).toContain('relay-ready');

    // The file goes: the plugin answers FileMissing, the failures reach the threshold, and the
    // strategy adds its major penalty (+100). Within one cluster that is all health does: the
    // policy still allows forging and the node keeps forging (docs/plugins.md, "Where plugins act").
    await rm(marker);
    const degraded = await policyWhere('the degraded policy', (p) => p.reason === 'health_degraded');
    expect(degraded).toMatchObject({ effectivePriority: 120, forgingAllowed: true });
    expect(degraded.health).toMatchObject({ healthy: false });
    expect(degraded.health.message).toContain('FileMissing');
    expect(degraded.health.consecutiveFailures).toBeGreaterThanOrEqual(2);
    expect(await pod.metricsText()).toMatch(/^cardano_cluster_health_check_success\{[^}]*\} 0$/m);
    expect((await pod.node!.metrics()).forgingEnabled).toBe(true);

    // Back: one healthy round (recovery threshold 1) restores the base priority.
    await writeFile(marker, 'ok');
    const recovered = await policyWhere('the recovered policy', (p) => p.reason === 'healthy_operation');
    expect(recovered).toMatchObject({
      effectivePriority: 20,
      health: { healthy: true, consecutiveFailures: 0 },
    });

    // A non-zero exit is a shutdown that did not converge: its log says which step was missing.
    const exitCode = await pod.stopSidecar();
    expect(exitCode, exitCode === 0 ? undefined : await pod.sidecarLogTail()).toBe(0);
  });
});
