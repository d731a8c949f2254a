// @cardano-forge/default-plugins: the one package that installs the plugin set the sidecar relies on
// by default. Its list matches its dependencies and covers every plugin the configuration defaults
// name, and each plugin of it keeps the plugin contract (checked with the framework's /testing harness).
import { KubeConfig } from '@kubernetes/client-node';
import { loadConfig } from '@cardano-forge/framework';
import { DEFAULT_PLUGIN_PACKAGES, loadDefaultPlugins } from '@cardano-forge/default-plugins';
import { checkHealthProbePlugin, checkPriorityStrategyPlugin } from '@cardano-forge/framework/testing';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  publishConfig?: { access?: string };
}
const manifest = async (dir: string): Promise<Manifest> =>
  JSON.parse(await readFile(join(REPO, dir, 'package.json'), 'utf8')) as Manifest;

/** A cluster nobody listens on: every call fails at once with ECONNREFUSED. */
function unreachableCluster(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'none', server: 'http://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'none' }],
    contexts: [{ name: 'none', cluster: 'none', user: 'none' }],
    currentContext: 'none',
  });
  return kc;
}

describe('@cardano-forge/default-plugins', () => {
  it('lists exactly the packages it depends on, each a workspace at the same version', async () => {
    const pkg = await manifest('packages/default-plugins');
    expect(Object.keys(pkg.dependencies ?? {}).sort()).toEqual([...DEFAULT_PLUGIN_PACKAGES].sort());
    expect(pkg.peerDependencies).toEqual({ '@cardano-forge/framework': '^0.1.0' });
    expect(pkg.publishConfig?.access).toBe('public');
    const root = await manifest('.');
    expect((root as unknown as { workspaces: string[] }).workspaces).toContain('packages/default-plugins');
  });

  it('loads each plugin under its own package name and version', async () => {
    const plugins = await loadDefaultPlugins();
    for (const name of DEFAULT_PLUGIN_PACKAGES) {
      const dir = `plugins/${name.replace('@cardano-forge/', '')}`;
      const pkg = await manifest(dir);
      expect(plugins[name].name, dir).toBe(pkg.name);
      expect(plugins[name].version, dir).toBe(pkg.version);
    }
  });

  it('covers every plugin the configuration defaults name (priority, and health for HEALTH_CHECK_ENDPOINT)', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'forge-defaults-'));
    try {
      const config = await loadConfig({
        env: { POD_NAME: 'bp-0', HEALTH_CHECK_ENDPOINT: 'http://127.0.0.1:12798/health' },
        cwd: empty,
      });
      // A ref is a package name, or an object naming one in `use` (a plugin object is never a default).
      const named = [config.plugins.priority, ...config.plugins.health].map((ref) =>
        typeof ref === 'string' ? ref : 'use' in ref ? ref.use : ref.name,
      );
      expect(named).toEqual(['@cardano-forge/priority-static', '@cardano-forge/health-http']);
      for (const name of named) expect(DEFAULT_PLUGIN_PACKAGES).toContain(name);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('each plugin keeps the plugin contract, answering unhealthy (not throwing) for an unreachable target', async () => {
    const plugins = await loadDefaultPlugins();
    const strategy = await checkPriorityStrategyPlugin(plugins['@cardano-forge/priority-static']);
    expect(strategy.problems).toEqual([]);

    const probes = [
      ['@cardano-forge/health-http', { url: 'http://127.0.0.1:1/health', timeoutMs: 2000 }],
      [
        '@cardano-forge/health-prometheus',
        { url: 'http://127.0.0.1:1', checks: [{ name: 'up', query: 'up', op: '>', threshold: 0 }] },
      ],
      ['@cardano-forge/health-k8s-probe', { pods: { labelSelector: 'app=bp' }, timeoutMs: 2000 }],
    ] as const;
    for (const [name, options] of probes) {
      const report = await checkHealthProbePlugin(plugins[name], options, {
        context: { kubeConfig: unreachableCluster() },
        settleWithinMs: 2000,
      });
      expect(report.problems, name).toEqual([]);
      expect(report.results[0], name).toEqual(expect.objectContaining({ healthy: false }));
    }
  });
});
