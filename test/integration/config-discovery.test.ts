// `forge-manager run` (the built CLI, a real process) started in a directory that holds only
// forge.config.ts, with no --config and no FORGE_CONFIG: cosmiconfig discovers the file, and every
// setting comes from it (the environment carries only PATH, HOME and KUBECONFIG). The sidecar
// provisions the startup credentials, the simulated cardano-node forges, and a SIGTERM stops it
// cleanly. Every process is stopped by its own PID.
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeFakeCredentials } from '../cardano-node-sim/credentials.ts';
import { spawnSimNode, type SimNode } from '../cardano-node-sim/spawn.ts';
import { freeLoopbackPort } from '../controlplane/process.ts';
import { createTestNamespace, testKubeConfig, type TestNamespace } from '../support/cluster.ts';
import { waitFor } from '../support/forge-pod.ts';

const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
const NODE = join(REPO, 'node_modules/.bin/node');
const CLI = join(REPO, 'packages/framework/dist/cli/main.js');

let kc: KubeConfig;
let ns: TestNamespace;
let work: string;
let sidecar: ChildProcess | null = null;
let node: SimNode | null = null;

beforeAll(async () => {
  kc = testKubeConfig();
  ns = await createTestNamespace(kc, 'config-discovery');
  work = await mkdtemp(join(os.tmpdir(), 'forge-discovery-'));
});

afterAll(async () => {
  if (sidecar?.pid !== undefined && sidecar.exitCode === null && sidecar.signalCode === null)
    process.kill(sidecar.pid, 'SIGKILL');
  await node?.stop(2000).catch(() => undefined);
  await ns?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('forge-manager run discovers forge.config.ts in its working directory', () => {
  it('runs from the discovered file alone: provisions, the node forges, SIGTERM stops it cleanly', async () => {
    const sources = await writeFakeCredentials(join(work, 'secrets'));
    const targetDir = join(work, 'target');
    await mkdir(targetDir);
    const targets = {
      kesKey: join(targetDir, 'kes.skey'),
      vrfKey: join(targetDir, 'vrf.skey'),
      opCert: join(targetDir, 'node.cert'),
    };
    const socketPath = join(work, 'node.socket');
    const httpPort = await freeLoopbackPort();
    const nodeMetricsPort = await freeLoopbackPort();
    const project = join(work, 'project');
    await mkdir(project);
    const config = {
      podName: 'bp-discovered',
      namespace: ns.name,
      log: { level: 'debug' },
      http: { host: '127.0.0.1', port: httpPort },
      pool: { network: 'preprod', networkMagic: 1 },
      election: {
        leaseName: 'discovered-lease',
        leaseDurationSeconds: 6,
        renewDeadlineSeconds: 3,
        retryPeriodSeconds: 1,
      },
      loop: { intervalSeconds: 1 },
      credentials: { source: sources, target: targets },
      // The simulator applies a SIGHUP within milliseconds (the budget check needs a bound that fits).
      node: {
        socketPath,
        metricsUrl: `http://127.0.0.1:${nodeMetricsPort}/metrics`,
        sighupLatencyBoundMs: 500,
      },
    };
    // Type-only import, as a user's config has it: nothing needs to resolve next to the file.
    await writeFile(
      join(project, 'forge.config.ts'),
      `import type { ForgeConfig } from '@cardano-forge/framework';\n\nexport default ${JSON.stringify(config, null, 2)} satisfies ForgeConfig;\n`,
    );
    expect(await readdir(project)).toEqual(['forge.config.ts']);

    let output = '';
    const child = spawn(NODE, [CLI, 'run'], {
      cwd: project,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        KUBECONFIG: inject('forgeKubeconfig'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    sidecar = child;
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    const base = `http://127.0.0.1:${httpPort}`;
    const fetchOk = async (path: string) => {
      if (child.exitCode !== null) throw new Error(`sidecar exited with ${child.exitCode}:\n${output}`);
      const r = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
      return r?.status === 200 ? r : null;
    };

    // Startup credentials from the file's source to the file's targets, then the node starts (Helm order).
    await waitFor('/startup-status ready', () => fetchOk('/startup-status'), 30_000);
    expect(Object.values(targets).every((f) => existsSync(f))).toBe(true);
    await mkdir(join(work, 'node'));
    node = await spawnSimNode({
      identity: 'bp-discovered',
      pool: 'discovery',
      workDir: join(work, 'node'),
      socketPath,
      credentials: targets,
      startAsNonProducing: true,
      metricsPort: nodeMetricsPort,
    });
    await node.waitForForging(true, 30_000);
    const status = (await waitFor(
      'the sidecar to report forging',
      async () => {
        const body = (await (await fetchOk('/status'))?.json()) as
          { pod: string; decision: { leader: boolean; forge: boolean } } | undefined;
        return body?.decision.forge ? body : null;
      },
      30_000,
    )) as { pod: string };
    expect(status.pod).toBe('bp-discovered');
    // The lease named in the file, held by the pod named in the file.
    const lease = await kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: 'discovered-lease', namespace: ns.name });
    expect(lease.spec?.holderIdentity).toMatch(/^bp-discovered/);

    process.kill(child.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
    await node.waitForForging(false, 10_000);
    expect(Object.values(targets).some((f) => existsSync(f))).toBe(false);
    expect(output).not.toContain('configuration errors');
  });
});
