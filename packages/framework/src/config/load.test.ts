import { chmod, mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { ENV_BINDINGS } from './env.js';
import { loadConfig } from './load.js';
import type { ResolvedConfig } from './schema.js';

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'forge-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Unique file names: Node caches imported modules by URL. */
async function writeConfig(ext: string, content: string, inDir = dir): Promise<string> {
  const file = path.join(inDir, `forge-${++counter}.config${ext}`);
  await writeFile(file, content);
  return file;
}

async function configErrorOf(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const POD = { POD_NAME: 'bp-0' };

describe('loadConfig: file formats', () => {
  const body = { namespace: 'cardano', pool: { ticker: 'ACME' }, http: { port: 9100 } };
  const cases: Array<[string, string]> = [
    ['.json', JSON.stringify(body)],
    ['.yaml', 'namespace: cardano\npool:\n  ticker: ACME\nhttp:\n  port: 9100\n'],
    ['.yml', 'namespace: cardano\npool: { ticker: ACME }\nhttp: { port: 9100 }\n'],
    ['.mjs', `export default ${JSON.stringify(body)};\n`],
    ['.js', `export default ${JSON.stringify(body)};\n`],
    [
      '.ts',
      `import type { ForgeConfig } from '@cardano-forge/framework';\n` +
        `const port: number = 9100;\n` +
        `export default { namespace: 'cardano', pool: { ticker: 'ACME' }, http: { port } } satisfies ForgeConfig;\n`,
    ],
    [
      '.mts',
      `import type { ForgeConfig } from '@cardano-forge/framework';\nconst c: ForgeConfig = ${JSON.stringify(body)};\nexport default c;\n`,
    ],
  ];
  for (const [ext, content] of cases) {
    it(`loads a ${ext} file and applies defaults`, async () => {
      // .js needs ESM syntax support: put it in a directory whose package.json says "module".
      const target = ext === '.js' ? path.join(dir, 'esm') : dir;
      await mkdir(target, { recursive: true });
      if (ext === '.js') await writeFile(path.join(target, 'package.json'), '{"type":"module"}');
      const file = await writeConfig(ext, content, target);
      const config = await loadConfig({ configPath: file, env: POD });
      expect(config.namespace).toBe('cardano');
      expect(config.pool.ticker).toBe('ACME');
      expect(config.http.port).toBe(9100);
      expect(config.http.host).toBe('0.0.0.0');
      expect(config.election.leaseDurationSeconds).toBe(15);
      expect(config.plugins.leaderElector).toBe('kubernetes-lease');
    });
  }

  it('an empty YAML file means "all defaults"', async () => {
    const file = await writeConfig('.yaml', '');
    const config = await loadConfig({ configPath: file, env: POD });
    expect(config.podName).toBe('bp-0');
    expect(config.node.socketPath).toBe('/ipc/node.socket');
  });

  it('uses FORGE_CONFIG when no --config is given, relative to cwd', async () => {
    const file = await writeConfig('.json', '{"namespace":"from-forge-config"}');
    const config = await loadConfig({ env: { ...POD, FORGE_CONFIG: path.basename(file) }, cwd: dir });
    expect(config.namespace).toBe('from-forge-config');
  });

  it('runs on env and defaults alone when no file is named', async () => {
    const config = await loadConfig({ env: { ...POD, NAMESPACE: 'envonly' } });
    expect(config.namespace).toBe('envonly');
  });

  it('loads from a read-only directory without writing next to the file', async () => {
    const ro = path.join(dir, 'readonly');
    await mkdir(ro);
    const file = await writeConfig(
      '.ts',
      `import type { ForgeConfig } from '@cardano-forge/framework';\nexport default { namespace: 'ro' } satisfies ForgeConfig;\n`,
      ro,
    );
    await chmod(file, 0o444);
    await chmod(ro, 0o555);
    try {
      const before = await readdir(ro);
      const config = await loadConfig({ configPath: file, env: POD });
      expect(config.namespace).toBe('ro');
      expect(await readdir(ro)).toEqual(before);
    } finally {
      await chmod(ro, 0o755);
    }
  });
});

describe('loadConfig: invalid input', () => {
  it('reports a missing file', async () => {
    const error = await configErrorOf(loadConfig({ configPath: path.join(dir, 'nope.yaml'), env: POD }));
    expect(error.reason).toBe('ConfigFileError');
    expect(error.message).toContain('config file not found');
  });

  it('rejects an unsupported extension', async () => {
    const file = await writeConfig('.toml', 'a = 1');
    const error = await configErrorOf(loadConfig({ configPath: file, env: POD }));
    expect(error.message).toContain('unsupported config file type ".toml"');
  });

  it('reports YAML syntax errors', async () => {
    const file = await writeConfig('.yaml', 'namespace: [unclosed\n');
    const error = await configErrorOf(loadConfig({ configPath: file, env: POD }));
    expect(error.reason).toBe('ConfigFileError');
    expect(error.message).toContain('YAML');
  });

  it('reports JSON syntax errors', async () => {
    const file = await writeConfig('.json', '{"namespace": ');
    const error = await configErrorOf(loadConfig({ configPath: file, env: POD }));
    expect(error.message).toContain('JSON');
  });

  it('rejects a file that is not an object', async () => {
    const file = await writeConfig('.yaml', '- a\n- b\n');
    const error = await configErrorOf(loadConfig({ configPath: file, env: POD }));
    expect(error.message).toContain('must export (default) or contain an object');
  });

  it('requires podName', async () => {
    const error = await configErrorOf(loadConfig({ env: {} }));
    expect(error.issues.map((i) => i.path)).toEqual(['podName']);
    expect(error.message).toContain('POD_NAME');
  });

  it('lists every problem with its path: types, ranges, unknown keys, enums, URLs, log level', async () => {
    const file = await writeConfig(
      '.yaml',
      [
        'namespace: 42',
        'pool: { tickr: X }',
        'cluster: { priority: 1000, healthCheck: { endpoint: "not a url" } }',
        'node: { pidDiscovery: guess, maxSlotLag: -1 }',
        'http: { port: 70000 }',
        'log: { level: LOUD }',
        'plugins: { health: [ "" , { use: x, id: "bad id" } ] }',
      ].join('\n'),
    );
    const error = await configErrorOf(loadConfig({ configPath: file, env: POD }));
    const paths = error.issues.map((i) => i.path).sort();
    expect(paths).toEqual(
      [
        'cluster.healthCheck.endpoint',
        'cluster.priority',
        'http.port',
        'log.level',
        'namespace',
        'node.maxSlotLag',
        'node.pidDiscovery',
        'plugins.health[0]',
        'plugins.health[1].id',
        'pool',
      ].sort(),
    );
    expect(error.issues.find((i) => i.path === 'pool')?.message).toContain('unknown key(s): tickr');
    expect(error.issues.find((i) => i.path === 'log.level')?.message).toContain('unknown log level');
    expect(error.issues.find((i) => i.path === 'cluster.healthCheck.endpoint')?.message).toContain(
      'expected a URL',
    );
  });

  it('checks leaseDuration > renewDeadline > 1.2 × retryPeriod', async () => {
    const a = await configErrorOf(
      loadConfig({
        env: POD,
        overrides: { election: { leaseDurationSeconds: 10, renewDeadlineSeconds: 10 } },
      }),
    );
    expect(a.issues[0]?.path).toBe('election.leaseDurationSeconds');
    const b = await configErrorOf(
      loadConfig({ env: POD, overrides: { election: { renewDeadlineSeconds: 6, retryPeriodSeconds: 5 } } }),
    );
    expect(b.issues[0]?.path).toBe('election.renewDeadlineSeconds');
    expect(b.issues[0]?.message).toContain('1.2');
  });

  it('names the environment variable of a malformed value', async () => {
    const error = await configErrorOf(
      loadConfig({ env: { ...POD, LEASE_DURATION: 'abc', METRICS_PORT: '99999' } }),
    );
    const lease = error.issues.find((i) => i.env === 'LEASE_DURATION');
    expect(lease?.path).toBe('election.leaseDurationSeconds');
    expect(error.message).toContain(
      'election.leaseDurationSeconds (from env LEASE_DURATION): expected an integer, got "abc"',
    );
    expect(error.message).toContain('http.port (from env METRICS_PORT)');
  });
});

describe('environment mapping (Python sidecar variables)', () => {
  // One distinct, valid value per variable, and where it must land.
  const samples: Record<string, [string, (c: ResolvedConfig) => unknown, unknown]> = {
    POD_NAME: ['pod-x', (c) => c.podName, 'pod-x'],
    NAMESPACE: ['ns-x', (c) => c.namespace, 'ns-x'],
    CARDANO_NETWORK: ['preprod', (c) => c.pool.network, 'preprod'],
    NETWORK_MAGIC: ['1', (c) => c.pool.networkMagic, 1],
    POOL_ID: ['pool1abc', (c) => c.pool.id, 'pool1abc'],
    POOL_ID_HEX: ['abcdef', (c) => c.pool.idHex, 'abcdef'],
    POOL_NAME: ['Acme Pool', (c) => c.pool.name, 'Acme Pool'],
    POOL_TICKER: ['ACME', (c) => c.pool.ticker, 'ACME'],
    APPLICATION_TYPE: ['relay', (c) => c.pool.applicationType, 'relay'],
    SLEEP_INTERVAL: ['7', (c) => c.loop.intervalSeconds, 7],
    LEASE_NAME: ['my-lease', (c) => c.election.leaseName, 'my-lease'],
    LEGACY_LEASE_NAME: ['false', (c) => c.election.legacyLeaseName, false],
    LEASE_DURATION: ['30', (c) => c.election.leaseDurationSeconds, 30],
    RENEW_DEADLINE: ['20', (c) => c.election.renewDeadlineSeconds, 20],
    RETRY_PERIOD: ['4', (c) => c.election.retryPeriodSeconds, 4],
    SOURCE_KES_KEY: ['/s/kes', (c) => c.credentials.source.kesKey, '/s/kes'],
    SOURCE_VRF_KEY: ['/s/vrf', (c) => c.credentials.source.vrfKey, '/s/vrf'],
    SOURCE_OP_CERT: ['/s/cert', (c) => c.credentials.source.opCert, '/s/cert'],
    TARGET_KES_KEY: ['/t/kes', (c) => c.credentials.target.kesKey, '/t/kes'],
    TARGET_VRF_KEY: ['/t/vrf', (c) => c.credentials.target.vrfKey, '/t/vrf'],
    TARGET_OP_CERT: ['/t/cert', (c) => c.credentials.target.opCert, '/t/cert'],
    NODE_SOCKET: ['/x/node.socket', (c) => c.node.socketPath, '/x/node.socket'],
    SOCKET_WAIT_TIMEOUT: ['60', (c) => c.node.socketWaitTimeoutSeconds, 60],
    DISABLE_SOCKET_CHECK: ['YES', (c) => c.node.disableSocketCheck, true],
    CARDANO_NODE_PROCESS_NAME: ['cnode', (c) => c.node.processName, 'cnode'],
    NODE_PID_DISCOVERY: ['name', (c) => c.node.pidDiscovery, 'name'],
    NODE_METRICS_URL: [
      'http://127.0.0.1:12798/metrics',
      (c) => c.node.metricsUrl,
      'http://127.0.0.1:12798/metrics',
    ],
    NODE_MAX_SLOT_LAG: ['120', (c) => c.node.maxSlotLag, 120],
    NODE_SLOT_REFERENCE_SLOT: ['86400', (c) => c.node.slotReference?.slot, 86400],
    NODE_SLOT_REFERENCE_UNIX: ['1655769600', (c) => c.node.slotReference?.unixSeconds, 1655769600],
    START_AS_NON_PRODUCING: ['false', (c) => c.node.startAsNonProducing, false],
    NODE_SIGHUP_LATENCY_BOUND_MS: ['1500', (c) => c.node.sighupLatencyBoundMs, 1500],
    NODE_HANDOVER_HOLD_DOWN: ['45', (c) => c.node.handoverHoldDownSeconds, 45],
    CRD_GROUP: ['example.io', (c) => c.crd.group, 'example.io'],
    CRD_VERSION: ['v2', (c) => c.crd.version, 'v2'],
    CRD_PLURAL: ['leaders', (c) => c.crd.leaderPlural, 'leaders'],
    CRD_NAME: ['leader-x', (c) => c.crd.leaderName, 'leader-x'],
    ENABLE_CLUSTER_MANAGEMENT: ['True', (c) => c.cluster.enabled, true],
    CLUSTER_IDENTIFIER: ['cl-x', (c) => c.cluster.identifier, 'cl-x'],
    CLUSTER_REGION: ['eu-west', (c) => c.cluster.region, 'eu-west'],
    CLUSTER_ENVIRONMENT: ['staging', (c) => c.cluster.environment, 'staging'],
    CLUSTER_PRIORITY: ['7', (c) => c.cluster.priority, 7],
    POLICY_STALE_AFTER: ['90', (c) => c.cluster.policyStaleAfterSeconds, 90],
    HEALTH_CHECK_ENDPOINT: [
      'http://127.0.0.1:9/health',
      (c) => c.cluster.healthCheck.endpoint,
      'http://127.0.0.1:9/health',
    ],
    HEALTH_CHECK_INTERVAL: ['15', (c) => c.cluster.healthCheck.intervalSeconds, 15],
    HEALTH_CHECK_TIMEOUT: ['3', (c) => c.cluster.healthCheck.timeoutSeconds, 3],
    HEALTH_CHECK_FAILURE_THRESHOLD: ['5', (c) => c.cluster.healthCheck.failureThreshold, 5],
    HEALTH_CHECK_RECOVERY_THRESHOLD: ['2', (c) => c.cluster.healthCheck.recoveryThreshold, 2],
    METRICS_HOST: ['127.0.0.1', (c) => c.http.host, '127.0.0.1'],
    METRICS_PORT: ['9101', (c) => c.http.port, 9101],
    LOG_LEVEL: ['WARNING', (c) => c.log.level, 'warn'],
    KES_MONITOR_ENABLED: ['false', (c) => c.kes.enabled, false],
    KES_SLOTS_PER_PERIOD: ['3600', (c) => c.kes.slotsPerKESPeriod, 3600],
    KES_MAX_EVOLUTIONS: ['120', (c) => c.kes.maxKESEvolutions, 120],
    KES_WARN_BEFORE_SECONDS: ['86400', (c) => c.kes.warnBeforeSeconds, 86400],
    ETCD_ARBITER_ENABLED: ['true', (c) => c.etcdArbiter.enabled, true],
    ETCD_ENDPOINTS: [
      'https://etcd-a:2379, https://etcd-b:2379,',
      (c) => c.etcdArbiter.endpoints,
      ['https://etcd-a:2379', 'https://etcd-b:2379'],
    ],
    ETCD_CA_FILE: ['/tls/ca.crt', (c) => c.etcdArbiter.tls.caFile, '/tls/ca.crt'],
    ETCD_CERT_FILE: ['/tls/client.crt', (c) => c.etcdArbiter.tls.certFile, '/tls/client.crt'],
    ETCD_KEY_FILE: ['/tls/client.key', (c) => c.etcdArbiter.tls.keyFile, '/tls/client.key'],
    ETCD_ARBITER_REGION: ['eu-west-1', (c) => c.etcdArbiter.region, 'eu-west-1'],
    ETCD_KEY_PREFIX: ['/forge/acme/', (c) => c.etcdArbiter.keyPrefix, '/forge/acme/'],
    ETCD_LEASE_TTL: ['30', (c) => c.etcdArbiter.leaseTtlSeconds, 30],
    ETCD_RENEW_DEADLINE: ['10', (c) => c.etcdArbiter.renewDeadlineSeconds, 10],
    ETCD_RETRY_PERIOD: ['2', (c) => c.etcdArbiter.retryPeriodSeconds, 2],
    ETCD_HOLD_DOWN: ['60', (c) => c.etcdArbiter.holdDownSeconds, 60],
    ETCD_ELECTION_TIMEOUT_MS: ['1500', (c) => c.etcdArbiter.etcdElectionTimeoutMs, 1500],
  };

  it('covers every bound variable (the table and the test agree)', () => {
    expect(Object.keys(samples).sort()).toEqual(ENV_BINDINGS.map((b) => b.env).sort());
  });

  it('maps each variable onto its config key', async () => {
    const env = Object.fromEntries(Object.entries(samples).map(([k, [v]]) => [k, v]));
    const config = await loadConfig({ env });
    for (const [name, [, read, expected]] of Object.entries(samples)) {
      expect({ name, value: read(config) }).toEqual({ name, value: expected });
    }
  });

  it('parses booleans like Python (true/1/yes, any case; anything else is false)', async () => {
    for (const [raw, expected] of [
      ['1', true],
      ['yes', true],
      ['TRUE', true],
      ['no', false],
      ['0', false],
      ['off', false],
    ] as const) {
      const config = await loadConfig({ env: { ...POD, ENABLE_CLUSTER_MANAGEMENT: raw } });
      expect({ raw, enabled: config.cluster.enabled }).toEqual({ raw, enabled: expected });
    }
  });

  it('maps Python log level names', async () => {
    for (const [raw, expected] of [
      ['DEBUG', 'debug'],
      ['INFO', 'info'],
      ['WARNING', 'warn'],
      ['ERROR', 'error'],
      ['CRITICAL', 'fatal'],
    ]) {
      const config = await loadConfig({ env: { ...POD, LOG_LEVEL: raw } });
      expect(config.log.level).toBe(expected);
    }
  });

  it('treats empty variables as unset', async () => {
    const config = await loadConfig({
      env: { ...POD, NAMESPACE: '', HEALTH_CHECK_ENDPOINT: '', SLEEP_INTERVAL: '' },
    });
    expect(config.namespace).toBe('default');
    expect(config.cluster.healthCheck.endpoint).toBeUndefined();
    expect(config.loop.intervalSeconds).toBe(5);
  });

  it('HEALTH_CHECK_ENDPOINT alone adds the HTTP health plugin; configured health plugins win', async () => {
    const only = await loadConfig({ env: { ...POD, HEALTH_CHECK_ENDPOINT: 'http://127.0.0.1:8080/h' } });
    expect(only.plugins.health).toEqual([
      { use: '@cardano-forge/health-http', id: 'endpoint', options: { url: 'http://127.0.0.1:8080/h' } },
    ]);
    const explicit = await loadConfig({
      env: { ...POD, HEALTH_CHECK_ENDPOINT: 'http://127.0.0.1:8080/h' },
      overrides: { plugins: { health: ['@acme/other'] } },
    });
    expect(explicit.plugins.health).toEqual(['@acme/other']);
  });
});

describe('tip gate slot reference', () => {
  it('needs both halves: one alone is an error naming the missing field', async () => {
    await expect(loadConfig({ env: { POD_NAME: 'p', NODE_SLOT_REFERENCE_SLOT: '5' } })).rejects.toThrow(
      /node\.slotReference\.unixSeconds/,
    );
  });
});

describe('election timing defaults follow LEASE_DURATION', () => {
  it.each([
    ['15', 10, 2],
    ['30', 20, 4],
    ['12', 8, 1],
  ])(
    'LEASE_DURATION=%s alone gives renewDeadline %i s and retryPeriod %i s (a valid timing)',
    async (ld, rd, rp) => {
      const c = await loadConfig({ env: { POD_NAME: 'p', LEASE_DURATION: ld } });
      expect(c.election.renewDeadlineSeconds).toBe(rd);
      expect(c.election.retryPeriodSeconds).toBe(rp);
    },
  );

  it('a lease too short for the revocation chain is an error naming the fields to change', async () => {
    // LD 4 s derives RD 3 s: a 1 s margin cannot hold observe + revoke + signal + the SIGHUP latency bound.
    await expect(loadConfig({ env: { POD_NAME: 'p', LEASE_DURATION: '4' } })).rejects.toThrow(
      /election\.leaseDurationSeconds − election\.renewDeadlineSeconds = 1000 ms is too short.*node\.sighupLatencyBoundMs/s,
    );
    const c = await loadConfig({
      env: { POD_NAME: 'p', LEASE_DURATION: '4', RENEW_DEADLINE: '2', NODE_SIGHUP_LATENCY_BOUND_MS: '500' },
    });
    expect(c.election.renewDeadlineSeconds).toBe(2);
  });

  it('explicit values win, and an impossible combination is still an error naming the field', async () => {
    const c = await loadConfig({ env: { POD_NAME: 'p', LEASE_DURATION: '30', RENEW_DEADLINE: '12' } });
    expect(c.election.renewDeadlineSeconds).toBe(12);
    expect(c.election.retryPeriodSeconds).toBe(2);
    await expect(
      loadConfig({ env: { POD_NAME: 'p', LEASE_DURATION: '10', RENEW_DEADLINE: '12' } }),
    ).rejects.toThrow(/election\.leaseDurationSeconds.*must be greater than election\.renewDeadlineSeconds/s);
  });
});

describe('precedence: CLI overrides > env > file > defaults', () => {
  it('applies each layer over the one below, key by key', async () => {
    const file = await writeConfig(
      '.yaml',
      'namespace: from-file\nloop: { intervalSeconds: 9 }\npool: { ticker: FILE, name: File Pool }\nhttp: { port: 9000 }\n',
    );
    const config = await loadConfig({
      configPath: file,
      env: { ...POD, POOL_TICKER: 'ENV', METRICS_PORT: '9001', NAMESPACE: 'from-env' },
      overrides: { http: { port: 9002 } },
    });
    expect(config.http.port).toBe(9002); // CLI over env over file
    expect(config.namespace).toBe('from-env'); // env over file
    expect(config.pool.ticker).toBe('ENV'); // env over file, sibling key kept
    expect(config.pool.name).toBe('File Pool'); // file over default
    expect(config.loop.intervalSeconds).toBe(9); // file over default
    expect(config.http.host).toBe('0.0.0.0'); // default
  });

  it('an override fixes an invalid env value reported by path without naming the env var', async () => {
    const error = await configErrorOf(
      loadConfig({ env: { ...POD, METRICS_PORT: '70000' }, overrides: { http: { port: 70001 } } }),
    );
    expect(error.issues).toEqual([expect.objectContaining({ path: 'http.port' })]);
    expect(error.issues[0]?.env).toBeUndefined();
  });
});

describe('config errors say what is wrong and how to fix it', () => {
  it('a value of the wrong type names the value received, never undefined or NaN', async () => {
    const file = await writeConfig('.yaml', 'election:\n  leaseDurationSeconds: "abc"\nloop: [1]\npool: 5\n');
    const error = await configErrorOf(loadConfig({ configPath: file, env: POD }));
    const messages = error.issues.map((i) => `${i.path}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        'election.leaseDurationSeconds: expected a number, got "abc"',
        'loop: expected an object, got a list',
        'pool: expected an object, got 5',
      ]),
    );
    expect(messages.join('\n')).not.toMatch(/undefined|NaN/);
  });

  it('YAML indented with tabs says to use spaces', async () => {
    const file = await writeConfig('.yaml', 'node:\n\tsocketPath: /x\n');
    const error = await configErrorOf(loadConfig({ configPath: file, env: POD }));
    expect(error.issues[0]?.message).toMatch(/YAML indentation must use spaces, not tabs\)$/);
  });

  it('a directory where the file should be is said as such', async () => {
    const where = path.join(dir, `a-directory-${++counter}.yaml`);
    await mkdir(where);
    const error = await configErrorOf(loadConfig({ configPath: where, env: POD }));
    expect(error.issues[0]?.message).toBe(
      `config file ${where} is a directory, not a file: point --config at the file inside it`,
    );
  });
});

describe('cross-region arbiter settings (etcdArbiter)', () => {
  const GLOBAL = {
    ...POD,
    ETCD_ARBITER_ENABLED: 'true',
    ETCD_ENDPOINTS: 'https://etcd-a:2379',
    CLUSTER_REGION: 'eu',
  };

  it('is off by default: single-cluster mode needs no etcd setting', async () => {
    const config = await loadConfig({ env: POD });
    expect(config.etcdArbiter).toMatchObject({ enabled: false, endpoints: [], leaseTtlSeconds: 10 });
  });

  it('global mode needs endpoints and a real region name, each error naming the setting', async () => {
    await expect(loadConfig({ env: { ...POD, ETCD_ARBITER_ENABLED: 'true' } })).rejects.toThrow(
      /etcdArbiter\.endpoints[^]*etcdArbiter\.region/,
    );
  });

  it('rejects TTL/renew settings that leave no time to revoke before etcd can free the key', async () => {
    await expect(
      loadConfig({ env: { ...GLOBAL, ETCD_LEASE_TTL: '6', ETCD_RENEW_DEADLINE: '4' } }),
    ).rejects.toThrow(
      /etcdArbiter\.leaseTtlSeconds − etcdArbiter\.renewDeadlineSeconds = 2000 ms leaves no time to revoke/,
    );
    const ok = await loadConfig({ env: GLOBAL });
    expect(ok.etcdArbiter).toMatchObject({ enabled: true, leaseTtlSeconds: 10, renewDeadlineSeconds: 4 });
  });

  it('a client certificate needs its key and the server CA', async () => {
    await expect(loadConfig({ env: { ...GLOBAL, ETCD_CERT_FILE: '/tls/c.crt' } })).rejects.toThrow(
      /certFile and keyFile go together[^]*needs the etcd server CA/,
    );
  });
});
