/**
 * The container image without a container engine: deploy/image/recipe.sh (the very script the
 * Dockerfile runs) packs the workspaces and installs the production tree with `npm ci --omit=dev`
 * into a clean directory; its entrypoint then runs against the real control plane beside a
 * simulated cardano-node with the default configuration (the Python sidecar's env only), becomes
 * leader, forges, and on SIGTERM revokes and exits 0 without writing anywhere but its mounts. It
 * also runs as PID 1 of its own PID namespace, as in a container, with the node in the same
 * namespace (the pod's shareProcessNamespace). test/unit/dockerfile.test.ts ties the Dockerfile to
 * the same recipe steps.
 */
import { CoordinationV1Api } from '@kubernetes/client-node';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeFakeCredentials } from '../cardano-node-sim/credentials.ts';
import { hostClockMs } from '../cardano-node-sim/events.ts';
import { computeOverlap, readEvents } from '../cardano-node-sim/overlap.ts';
import { createTestNamespace, testKubeConfig } from '../support/cluster.ts';
import { freeLoopbackPort } from '../controlplane/process.ts';
import { ForgePod, waitFor } from '../support/forge-pod.ts';
import { RECIPE, imageEntrypoint } from '../support/image-recipe.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const NODE24 = join(REPO, 'node_modules/.bin/node');
// npm's shebang picks up the repo's Node 24 first: the image's Node major.
const PATH_WITH_NODE24 = `${join(REPO, 'node_modules/.bin')}:${process.env.PATH ?? ''}`;
/** The default plugin set, as the installed @cardano-forge/default-plugins lists it (read in beforeAll). */
let DEFAULT_PLUGINS: readonly string[] = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(
  cmd: string,
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Run> {
  return new Promise((resolve) => {
    // execFile kills its own child on timeout; nothing here outlives the call.
    execFile(
      cmd,
      [...args],
      { cwd, env: { ...process.env, PATH: PATH_WITH_NODE24, ...env }, timeout: 300_000, maxBuffer: 32 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Every path under dir with its size and mtime (symlinks not followed): a cheap tree fingerprint. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      const s = await lstat(p);
      out.set(relative(dir, p), `${s.size}:${s.mtimeMs}:${s.mode}`);
      if (entry.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return out;
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const [, meta] of await snapshot(dir)) total += Number(meta.split(':')[0]);
  return total;
}

let work: string;
let app: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'forge-image-'));
  const out = join(work, 'out');
  app = join(out, 'app');
  // `recipe.sh build` is what `npm test` already did (pretest: npm run build); the image runs it too.
  for (const step of RECIPE.localSteps({ out, app })) {
    const began = performance.now();
    const r = await run('bash', [RECIPE.script(REPO), ...step], REPO);
    if (r.code !== 0)
      throw new Error(`recipe.sh ${step.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    console.log(`[image] recipe.sh ${step[0]}: ${((performance.now() - began) / 1000).toFixed(1)} s`);
  }
  console.log(`[image] installed tree: ${(await treeBytes(app)) >> 20} MiB (apparent size) at ${app}`);
  // The image ships the default set as one package; what it lists is what the tests below expect.
  const defaults = (await import(
    pathToFileURL(join(app, 'node_modules/@cardano-forge/default-plugins/dist/index.js')).href
  )) as { DEFAULT_PLUGIN_PACKAGES: readonly string[] };
  DEFAULT_PLUGINS = defaults.DEFAULT_PLUGIN_PACKAGES;
}, 600_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('production tree from recipe.sh in a clean directory', () => {
  it('holds the framework and the default plugin set (@cardano-forge/default-plugins and what it lists), and no development dependency', async () => {
    const modules = join(app, 'node_modules');
    expect(DEFAULT_PLUGINS).toEqual([
      '@cardano-forge/priority-static',
      '@cardano-forge/health-http',
      '@cardano-forge/health-prometheus',
      '@cardano-forge/health-k8s-probe',
    ]);
    for (const name of ['@cardano-forge/framework', '@cardano-forge/default-plugins', ...DEFAULT_PLUGINS]) {
      const pkg = JSON.parse(await readFile(join(modules, name, 'package.json'), 'utf8')) as { name: string };
      expect(pkg.name).toBe(name);
      expect(existsSync(join(modules, name, 'dist/index.js'))).toBe(true);
      // Only the published files: no sources or tests in the image.
      expect(existsSync(join(modules, name, 'src'))).toBe(false);
    }
    for (const dev of ['vitest', 'typescript', 'eslint', 'prettier', 'node', 'fast-check', 'dockerfile-ast'])
      expect(existsSync(join(modules, dev)), `${dev} must not be installed`).toBe(false);
    expect(existsSync(imageEntrypoint(app))).toBe(true);
  });

  it('validate: a config naming every default plugin by package loads them from the installed tree', async () => {
    const config = join(work, 'forge.config.yaml');
    await writeFile(
      config,
      [
        'namespace: cardano',
        'cluster: { enabled: true, region: eu-west-1 }',
        'plugins:',
        "  priority: { use: '@cardano-forge/priority-static', options: { minorPenalty: 10, majorPenalty: 100 } }",
        '  health:',
        "    - { use: '@cardano-forge/health-http', id: relay, options: { url: 'http://127.0.0.1:1/health' } }",
        "    - use: '@cardano-forge/health-prometheus'",
        '      id: prom',
        "      options: { url: 'http://127.0.0.1:1', checks: [{ name: up, query: 'up', op: '>', threshold: 0 }] }",
        "    - { use: '@cardano-forge/health-k8s-probe', id: k8s, options: { pods: { labelSelector: 'app=bp' } } }",
        '',
      ].join('\n'),
    );
    // From an unrelated cwd: plugins resolve from the framework's install location, not the cwd.
    const r = await run(
      NODE24,
      [imageEntrypoint(app), 'validate', '--config', config, '--format', 'json'],
      work,
      {
        POD_NAME: 'bp-0',
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('configuration valid: 6 plugin(s)');
    for (const name of DEFAULT_PLUGINS) expect(r.stdout).toContain(name);
  });
});

describe('the installed entrypoint against the real control plane', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });

  async function setUpPod(prefix: string): Promise<{ pod: ForgePod; dir: string; namespace: string }> {
    const kc = testKubeConfig();
    const ns = await createTestNamespace(kc, prefix);
    const dir = await mkdtemp(join(work, `${prefix}-`));
    const sourceDir = join(dir, 'secrets');
    await writeFakeCredentials(sourceDir);
    const home = join(dir, 'home');
    const tmp = join(dir, 'tmp');
    await mkdir(home);
    await mkdir(tmp);
    const pod = new ForgePod({
      name: 'bp-0',
      namespace: ns.name,
      kubeconfigPath: inject('forgeKubeconfig'),
      pool: 'pool1image',
      sourceDir,
      eventLog: join(dir, 'events.jsonl'),
      workDir: join(dir, 'bp-0'),
      leaseName: 'cardano-node-leader',
      // No config file: the default configuration (Python env names), as the Dockerfile's CMD runs it.
      entrypoint: { cli: imageEntrypoint(app), cwd: app },
      extraEnv: { HOME: home, TMPDIR: tmp, NODE_ENV: 'production' },
    });
    cleanups.push(() => pod.dispose());
    return { pod, dir, namespace: ns.name };
  }

  it('becomes leader, forges, and on SIGTERM revokes, releases the lease and exits 0, writing nothing outside its mounts', async () => {
    const { pod, dir, namespace } = await setUpPod('image');
    const before = await snapshot(app);
    await pod.start();
    await pod.node!.waitForForging(true, 30_000);
    expect(existsSync(join(pod.targetDir, 'kes.skey'))).toBe(true);
    await waitFor('leader status', async () => (await pod.status())?.decision.leader === true);

    const code = await pod.stopSidecar();
    expect(code).toBe(0);
    // Revoked: files gone and the node itself reports it stopped forging (it is still running).
    expect(pod.node!.isRunning()).toBe(true);
    expect((await pod.node!.metrics()).forgingEnabled).toBe(false);
    for (const f of ['kes.skey', 'vrf.skey', 'node.cert'])
      expect(existsSync(join(pod.targetDir, f))).toBe(false);
    const lease = await testKubeConfig()
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: 'cardano-node-leader', namespace });
    expect(lease.spec?.holderIdentity ?? '').not.toBe('bp-0');
    expect(computeOverlap(await readEvents([join(dir, 'events.jsonl')])).overlaps).toEqual([]);

    // Read-only root filesystem: the installed tree, HOME and TMPDIR are exactly as before.
    expect(await snapshot(app)).toEqual(before);
    expect(await readdir(join(dir, 'home'))).toEqual([]);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('as PID 1 of its own PID namespace (a container): SIGTERM still revokes and exits 0', async () => {
    const { pod, dir } = await setUpPod('image-pid1');
    const pid1 = await startAsPid1(pod);
    cleanups.push(() => pid1.stop());
    expect(await pid1.pidInNamespace()).toBe(1);
    await pod.waitStartupReady();
    // The node joins the sidecar's PID namespace, as shareProcessNamespace does in the pod, so the
    // sidecar finds it by its socket and can SIGHUP it. The kernel kills it when PID 1 exits.
    const node = spawnSimInNamespace(pid1.hostPid, pod);
    cleanups.push(async () => {
      if (node.exitCode === null && node.signalCode === null && node.pid !== undefined)
        process.kill(node.pid, 'SIGKILL');
    });
    const eventLog = join(dir, 'events.jsonl');
    const forgingOn = await waitFor(
      'the node in the namespace forging',
      async () => (await readEvents([eventLog])).find((e) => e.event === 'forging-on'),
      30_000,
    );

    // A signal sent from outside the namespace reaches its PID 1 only through an installed handler.
    const termAt = hostClockMs();
    process.kill(pid1.hostPid, 'SIGTERM');
    expect(await pid1.exited).toBe(0);
    const events = await readEvents([eventLog]);
    const off = events.find((e) => e.event === 'forging-off' && e.ts >= forgingOn.ts);
    expect(off, `no forging-off after SIGTERM in ${JSON.stringify(events)}`).toBeDefined();
    expect(off!.ts).toBeGreaterThanOrEqual(termAt - 50);
    for (const f of ['kes.skey', 'vrf.skey', 'node.cert'])
      expect(existsSync(join(pod.targetDir, f))).toBe(false);
  });
});

interface Pid1 {
  readonly hostPid: number;
  readonly exited: Promise<number | null>;
  pidInNamespace(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Runs the pod's installed entrypoint as PID 1 of a new PID namespace with its own /proc
 * (util-linux unshare; the tests run as root). No shell and no init in between, as in the image.
 */
async function startAsPid1(pod: ForgePod): Promise<Pid1> {
  if (process.getuid?.() !== 0)
    throw new Error(
      'the PID-1 test needs root for `unshare --pid` and `nsenter` (CI runs as root); run it as root',
    );
  if (pod.port === 0) pod.port = await freeLoopbackPort();
  if (pod.nodeMetricsPort === 0) pod.nodeMetricsPort = await freeLoopbackPort();
  await mkdir(pod.targetDir, { recursive: true });
  const entry = pod.options.entrypoint!;
  const unshare = spawn(
    'unshare',
    ['--pid', '--fork', '--mount-proc', '--kill-child=SIGKILL', '--', NODE24, entry.cli, 'run'],
    { env: pod.env(), cwd: entry.cwd, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  unshare.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  unshare.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((res) => unshare.once('exit', (c) => res(c)));
  const hostPid = await waitFor('PID 1 of the new namespace', async () => {
    const children = await readFile(`/proc/${unshare.pid}/task/${unshare.pid}/children`, 'utf8').catch(
      () => '',
    );
    const pid = Number(children.trim().split(/\s+/)[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  });
  await waitFor(
    'the sidecar answering /health',
    async () => (await fetch(`${pod.baseUrl}/health`).catch(() => null))?.status === 200,
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}\n${output}`);
  });
  return {
    hostPid,
    exited,
    async pidInNamespace() {
      // NSpid: <pid in this namespace> <pid in the new namespace>
      const status = await readFile(`/proc/${hostPid}/status`, 'utf8');
      return Number(/^NSpid:\s+(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/).at(-1));
    },
    async stop() {
      if (unshare.exitCode === null && unshare.signalCode === null) {
        process.kill(hostPid, 'SIGKILL');
        await exited;
      }
    },
  };
}

/** The simulated node, entered into the PID namespace whose PID 1 is hostPid (nsenter forks it in). */
function spawnSimInNamespace(hostPid: number, pod: ForgePod): ChildProcess {
  const target = (f: string) => join(pod.targetDir, f);
  return spawn(
    'nsenter',
    [
      `--target=${hostPid}`,
      '--pid',
      '--',
      NODE24,
      join(REPO, 'test/cardano-node-sim/main.ts'),
      'run',
      '--socket-path',
      pod.socketPath,
      '--shelley-kes-key',
      target('kes.skey'),
      '--shelley-vrf-key',
      target('vrf.skey'),
      '--shelley-operational-certificate',
      target('node.cert'),
      '--start-as-non-producing-node',
      '--identity',
      pod.options.name,
      '--pool',
      pod.options.pool,
      '--event-log',
      pod.options.eventLog,
      '--metrics-port',
      String(pod.nodeMetricsPort),
    ],
    { stdio: 'ignore' },
  );
}

describe('a derived image with a third-party plugin (docs/operations.md)', () => {
  it('the documented `npm install` in the installed tree adds a plugin that a config names by package', async () => {
    // The example plugin, built and packed outside the repository (a registry would serve the same tarball).
    const example = join(work, 'acme-plugin');
    const exampleSrc = join(REPO, 'examples/forge-health-example');
    await mkdir(example);
    const tsc = await run(
      NODE24,
      [
        join(REPO, 'node_modules/typescript/bin/tsc'),
        '-p',
        join(exampleSrc, 'tsconfig.json'),
        '--outDir',
        join(example, 'dist'),
      ],
      REPO,
    );
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
    await writeFile(join(example, 'package.json'), await readFile(join(exampleSrc, 'package.json'), 'utf8'));
    const packed = await run(
      'npm',
      ['pack', '--ignore-scripts', '--silent', '--pack-destination', work],
      example,
    );
    expect(packed.code, packed.stderr).toBe(0);
    const tarball = join(work, packed.stdout.trim());

    // Dockerfile.plugins.example's RUN line, with the tarball in place of the registry name.
    const install = await run(
      'npm',
      ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', tarball],
      app,
    );
    expect(install.code, install.stderr).toBe(0);
    expect(existsSync(join(app, 'node_modules/@acme/forge-health-example/dist/index.js'))).toBe(true);
    // Its peer dependency is the image's framework: no second copy, no development dependency.
    expect(existsSync(join(app, 'node_modules/@acme/forge-health-example/node_modules/@cardano-forge'))).toBe(
      false,
    );
    for (const dev of ['vitest', 'typescript', 'node'])
      expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);

    const config = join(work, 'derived.config.yaml');
    await writeFile(
      config,
      `plugins:\n  health:\n    - { use: '@acme/forge-health-example', id: kes-file, options: { file: ${JSON.stringify(config)} } }\n`,
    );
    const r = await run(
      NODE24,
      [imageEntrypoint(app), 'validate', '--config', config, '--format', 'json'],
      work,
      { POD_NAME: 'bp-0' },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { plugins: Array<{ name: string; source: string }> };
    expect(out.plugins).toContainEqual(
      expect.objectContaining({ name: '@acme/forge-health-example', source: 'package' }),
    );
  });
});
