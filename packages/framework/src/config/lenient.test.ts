import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { layerFromText, readFailSafeSettings } from './lenient.js';
import { loadConfig } from './load.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function configFile(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'forge-lenient-'));
  dirs.push(dir);
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

const DEFAULT_TARGETS = [
  '/opt/cardano/secrets/kes.skey',
  '/opt/cardano/secrets/vrf.skey',
  '/opt/cardano/secrets/node.cert',
];

describe('fail-safe settings read leniently from a broken config', () => {
  it('a .ts config that throws at import: its target paths and node settings come from a text scan', async () => {
    const file = await configFile(
      'forge.config.ts',
      `import { defineConfig } from '@cardano-forge/framework';
throw new Error('broken rollout');
export default defineConfig({
  credentials: {
    source: { kesKey: '/mnt/secret/kes.skey', vrfKey: '/mnt/secret/vrf.skey', opCert: '/mnt/secret/node.cert' },
    target: { kesKey: '/keys/kes.skey', vrfKey: "/keys/vrf.skey", opCert: \`/keys/node.cert\` },
  },
  node: { socketPath: '/run/node.socket', pidDiscovery: 'name', processName: 'my-node', metricsUrl: 'http://127.0.0.1:12798/metrics' },
});
`,
    );
    const s = await readFailSafeSettings({ configPath: file, env: {} });
    expect(s.credentialTargets).toEqual([
      '/keys/kes.skey',
      '/keys/vrf.skey',
      '/keys/node.cert',
      ...DEFAULT_TARGETS,
    ]);
    expect(s.socketPaths).toEqual(['/run/node.socket', '/ipc/node.socket']);
    expect(s).toMatchObject({
      pidDiscovery: 'name',
      processName: 'my-node',
      metricsUrl: 'http://127.0.0.1:12798/metrics',
    });
    expect(s.notes.join()).toMatch(/does not load: text scan found 3 target path/);
  });

  it('YAML indented with tabs (does not parse): the text scan keeps source and target apart', async () => {
    const file = await configFile(
      'forge.config.yaml',
      'credentials:\n\tsource:\n\t\tkesKey: /mnt/secret/kes.skey\n\ttarget:\n\t\tkesKey: /keys/kes.skey\n\t\tvrfKey: "/keys/vrf.skey"\n\t\topCert: /keys/node.cert\nnode:\n\tsocketPath: /run/node.socket\n\tmetricsUrl: http://127.0.0.1:12798/metrics\n',
    );
    const s = await readFailSafeSettings({ configPath: file, env: {} });
    expect(s.credentialTargets.slice(0, 3)).toEqual(['/keys/kes.skey', '/keys/vrf.skey', '/keys/node.cert']);
    expect(s.credentialTargets).not.toContain('/mnt/secret/kes.skey');
    expect(s.socketPaths[0]).toBe('/run/node.socket');
    expect(s.metricsUrl).toBe('http://127.0.0.1:12798/metrics');
  });

  it('a config that loads but is invalid (renew > lease, bad value): read as an object', async () => {
    const file = await configFile(
      'forge.config.yaml',
      'election: { leaseDurationSeconds: 5, renewDeadlineSeconds: 9 }\nloop: { intervalSeconds: -3 }\ncredentials:\n  target: { kesKey: /keys/kes.skey, vrfKey: /keys/vrf.skey, opCert: /keys/node.cert }\nnode: { socketPath: /run/node.socket, pidDiscovery: bogus }\n',
    );
    const s = await readFailSafeSettings({ configPath: file, env: {} });
    expect(s.credentialTargets.slice(0, 3)).toEqual(['/keys/kes.skey', '/keys/vrf.skey', '/keys/node.cert']);
    expect(s.pidDiscovery).toBe('socket');
    expect(s.notes.join()).toMatch(/read as an object \(3 target path/);
  });

  it('env and overrides win for the node, and all target paths are kept; a source path never is', async () => {
    const file = await configFile(
      'forge.config.json',
      JSON.stringify({
        credentials: { target: { kesKey: '/file/kes.skey' } },
        node: { socketPath: '/file/node.socket' },
      }),
    );
    const s = await readFailSafeSettings({
      configPath: file,
      env: {
        NODE_SOCKET: '/env/node.socket',
        TARGET_VRF_KEY: '/env/vrf.skey',
        SOURCE_KES_KEY: '/file/kes.skey',
      },
      overrides: { node: { processName: 'from-cli' } },
    });
    expect(s.socketPaths).toEqual(['/env/node.socket', '/file/node.socket', '/ipc/node.socket']);
    expect(s.processName).toBe('from-cli');
    expect(s.credentialTargets).toEqual(['/env/vrf.skey', ...DEFAULT_TARGETS]);
  });

  it('an unreadable or missing file: env and defaults, and says why', async () => {
    const s = await readFailSafeSettings({ configPath: '/nonexistent/forge.config.yaml', env: {} });
    expect(s.credentialTargets).toEqual(DEFAULT_TARGETS);
    expect(s.notes.join()).toMatch(/cannot be read \(ENOENT\): using env and defaults/);
  });

  it('the text scan skips expressions it cannot evaluate', () => {
    const layer = layerFromText(
      `target: { kesKey: join(dir, 'kes.skey'), vrfKey: process.env.X, opCert: '/k/node.cert' }`,
    );
    expect(layer.targets).toEqual(['/k/node.cert']);
  });
});

describe('fail-safe settings from a DISCOVERED config (no --config, no FORGE_CONFIG)', () => {
  it('a discovered .ts that throws at import: the strict load fails on it and the fail-safe scans that same file', async () => {
    const file = await configFile(
      'forge.config.ts',
      `throw new Error('broken rollout');
export default { credentials: { target: { kesKey: '/keys/kes.skey', vrfKey: '/keys/vrf.skey', opCert: '/keys/node.cert' } } };
`,
    );
    const cwd = dirname(file);
    const strict = await loadConfig({ env: { POD_NAME: 'bp-0' }, cwd }).catch((e: unknown) => e);
    expect(strict).toBeInstanceOf(ConfigError);
    expect((strict as ConfigError).file).toBe(file);
    expect((strict as ConfigError).message).toContain('broken rollout');

    const s = await readFailSafeSettings({ env: {}, cwd });
    expect(s.credentialTargets).toEqual([
      '/keys/kes.skey',
      '/keys/vrf.skey',
      '/keys/node.cert',
      ...DEFAULT_TARGETS,
    ]);
    expect(s.notes.join()).toContain(`config file ${file} discovered`);
    expect(s.notes.join()).toMatch(/does not load: text scan found 3 target path/);
  });

  it('a discovered file with an invalid value is read as an object, the same file the strict load rejected', async () => {
    const file = await configFile(
      '.forgerc.yaml',
      'election:\n  leaseDurationSeconds: abc\ncredentials:\n  target:\n    kesKey: /rc/kes.skey\n',
    );
    const cwd = dirname(file);
    const strict = await loadConfig({ env: { POD_NAME: 'bp-0' }, cwd }).catch((e: unknown) => e);
    expect((strict as ConfigError).file).toBe(file);
    const s = await readFailSafeSettings({ env: {}, cwd });
    expect(s.credentialTargets[0]).toBe('/rc/kes.skey');
    expect(s.notes.join()).toContain(`config file ${file} read as an object`);
  });

  it('a forge key in package.json is where the fail-safe looks too', async () => {
    const file = await configFile(
      'package.json',
      JSON.stringify({ name: 'pool', forge: { credentials: { target: { kesKey: '/pkg/kes.skey' } } } }),
    );
    const s = await readFailSafeSettings({ env: {}, cwd: dirname(file) });
    expect(s.credentialTargets[0]).toBe('/pkg/kes.skey');
  });

  it('--config still wins over a file in the working directory', async () => {
    const discovered = await configFile(
      'forge.config.yaml',
      'credentials:\n  target:\n    kesKey: /discovered/kes.skey\n',
    );
    const named = join(dirname(discovered), 'named.yaml');
    await writeFile(named, 'credentials:\n  target:\n    kesKey: /named/kes.skey\n');
    const s = await readFailSafeSettings({ configPath: 'named.yaml', env: {}, cwd: dirname(discovered) });
    expect(s.credentialTargets).toContain('/named/kes.skey');
    expect(s.credentialTargets).not.toContain('/discovered/kes.skey');
  });
});
