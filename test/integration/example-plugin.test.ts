/**
 * The third-party plugin path end to end, as an SPO would use it: the framework and an example
 * plugin are packed with `npm pack`, installed from their tarballs into a fresh project, named by
 * package name in a forge.config.ts that only `import type`s from the framework, and loaded and run
 * by the installed `forge-manager` binary. Also shows the errors for an incompatible apiVersion
 * and for bad options.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const node24 = path.join(repo, 'node_modules/.bin/node');
const exampleDir = path.join(repo, 'examples/forge-health-example');
// npm and the forge-manager shebang pick up the repo's Node 24 first.
const env = { ...process.env, PATH: `${path.join(repo, 'node_modules/.bin')}:${process.env.PATH ?? ''}` };

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

async function pack(packageDir: string, into: string): Promise<string> {
  const r = await mustRun(
    'npm',
    ['pack', '--pack-destination', into, '--json', '--ignore-scripts'],
    packageDir,
  );
  const [info] = JSON.parse(r.stdout) as Array<{ filename: string }>;
  return path.join(into, info!.filename);
}

let work: string;
let project: string;

function forgeManager(args: string[]): Promise<Run> {
  return run(node24, [path.join(project, 'node_modules/.bin/forge-manager'), ...args], project, {
    POD_NAME: 'example-bp-0',
  });
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'forge-example-plugin-'));
  const tarballs = path.join(work, 'tarballs');
  await mkdir(tarballs);

  // 1. Build the example plugin with the repo's TypeScript (types come from the workspace framework).
  await mustRun(path.join(repo, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], exampleDir);

  // 2. A second variant: the same plugin as if built against a future contract version.
  const v2 = path.join(work, 'example-v2');
  await mkdir(v2);
  await cp(path.join(exampleDir, 'dist'), path.join(v2, 'dist'), { recursive: true });
  const pkg = JSON.parse(await readFile(path.join(exampleDir, 'package.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  await writeFile(
    path.join(v2, 'package.json'),
    JSON.stringify({ ...pkg, name: '@acme/forge-health-example-v2' }, null, 2),
  );
  await rename(path.join(v2, 'dist/index.js'), path.join(v2, 'dist/plugin.js'));
  await writeFile(
    path.join(v2, 'dist/index.js'),
    "import plugin from './plugin.js';\nexport default { ...plugin, name: '@acme/forge-health-example-v2', apiVersion: 'cardano-forge.dev/v2' };\n",
  );

  // 3. Pack the framework (already built by `npm test`'s pretest / `npm run build`), the default
  //    priority plugin the config relies on, and both example plugins.
  const files = [
    await pack(path.join(repo, 'packages/framework'), tarballs),
    await pack(path.join(repo, 'plugins/priority-static'), tarballs),
    await pack(exampleDir, tarballs),
    await pack(v2, tarballs),
  ];

  // 4. A fresh project that installs only the tarballs (dependencies come from the npm cache).
  project = path.join(work, 'project');
  await mkdir(project);
  await writeFile(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'spo-deployment', private: true, type: 'module' }),
  );
  await mustRun(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...files],
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
}, 300_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
  await rm(path.join(exampleDir, 'dist'), { recursive: true, force: true });
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
