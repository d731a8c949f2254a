// The operator commands (status, maintenance, failover) as an SPO runs them: the built
// forge-manager binary against the real kube-apiserver, two kubeconfig contexts standing for two
// regions (one namespace each), plus an unreachable and an unauthorised context.
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestNamespace, testKubeConfig, type TestNamespace } from '../support/cluster.js';

const CLI = fileURLToPath(new URL('../../packages/framework/dist/cli/main.js', import.meta.url));
const CRD = { group: 'cardano.io', version: 'v1' } as const;
const POOL = 'pool1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let kc: KubeConfig;
let eu: TestNamespace;
let us: TestNamespace;
let dir: string;
let kubeconfigPath: string;

function cli(...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    // execFile kills its own child on timeout; nothing here outlives the call.
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, KUBECONFIG: kubeconfigPath }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function createCluster(ns: string, name: string, region: string, status: object, spec: object = {}) {
  const api = kc.makeApiClient(CustomObjectsApi);
  await api.createNamespacedCustomObject({
    ...CRD,
    namespace: ns,
    plural: 'cardanoforgeclusters',
    body: {
      apiVersion: 'cardano.io/v1',
      kind: 'CardanoForgeCluster',
      metadata: { name },
      spec: { network: { name: 'mainnet', magic: 764824073 }, pool: { id: POOL }, region, ...spec },
    },
  });
  await api.patchNamespacedCustomObjectStatus(
    { ...CRD, namespace: ns, plural: 'cardanoforgeclusters', name, body: { status } },
    (await import('@cardano-forge/framework')).mergePatchOptions(10_000),
  );
}

async function getCluster(ns: string, name: string) {
  return (await kc
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({ ...CRD, namespace: ns, plural: 'cardanoforgeclusters', name })) as {
    metadata: { annotations?: Record<string, string> };
    spec: { forgeState?: string; override?: Record<string, unknown> };
  };
}

beforeAll(async () => {
  kc = testKubeConfig();
  eu = await createTestNamespace(kc, 'ops-eu');
  us = await createTestNamespace(kc, 'ops-us');
  const leaseName = 'cardano-leader-mainnet-pool1qqqqq';
  await createCluster(eu.name, 'mainnet-pool1qqqqq-eu', 'eu', {
    effectiveState: 'Priority-based',
    effectivePriority: 100,
    activeLeader: 'bp-0',
    forgingEnabled: true,
    lastTransition: '2026-01-01T00:00:00Z',
    healthStatus: { healthy: true, consecutiveFailures: 0 },
  });
  await createCluster(
    us.name,
    'mainnet-pool1qqqqq-us',
    'us',
    {
      effectiveState: 'Priority-based',
      effectivePriority: 200,
      activeLeader: 'bp-1',
      forgingEnabled: false,
      healthStatus: { healthy: false, consecutiveFailures: 3 },
    },
    { priority: 100 },
  );
  const coordination = kc.makeApiClient(CoordinationV1Api);
  await coordination.createNamespacedLease({
    namespace: eu.name,
    body: {
      metadata: { name: leaseName },
      spec: {
        holderIdentity: 'bp-0',
        leaseDurationSeconds: 15,
        renewTime: new Date().toISOString().replace('Z', '000Z') as never,
        leaseTransitions: 4,
      },
    },
  });
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    ...CRD,
    namespace: eu.name,
    plural: 'cardanoleaders',
    body: { apiVersion: 'cardano.io/v1', kind: 'CardanoLeader', metadata: { name: leaseName }, spec: {} },
  });
  await kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObjectStatus(
    {
      ...CRD,
      namespace: eu.name,
      plural: 'cardanoleaders',
      name: leaseName,
      body: { status: { leaderPod: 'bp-0', forgingEnabled: true } },
    },
    (await import('@cardano-forge/framework')).mergePatchOptions(10_000),
  );

  // A service account without any RBAC: its token authenticates but is authorised for nothing.
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedServiceAccount({ namespace: eu.name, body: { metadata: { name: 'nobody' } } });
  const token = await core.createNamespacedServiceAccountToken({
    name: 'nobody',
    namespace: eu.name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });

  // Two "regions" on one API server (a namespace each), an unreachable one and an unauthorised one.
  const exported = JSON.parse(kc.exportConfig()) as {
    clusters: Array<{ name: string; cluster: Record<string, unknown> }>;
    users: Array<{ name: string; user: Record<string, unknown> }>;
    contexts: Array<{ name: string; context: Record<string, unknown> }>;
  };
  const cluster = exported.clusters[0]!;
  const user = exported.users[0]!;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: cluster.name, cluster: cluster.cluster },
      { name: 'down', cluster: { ...cluster.cluster, server: 'https://127.0.0.1:1' } },
    ],
    users: [
      { name: user.name, user: user.user },
      { name: 'nobody', user: { token: token.status?.token } },
    ],
    contexts: [
      { name: 'eu', context: { cluster: cluster.name, user: user.name, namespace: eu.name } },
      { name: 'us', context: { cluster: cluster.name, user: user.name, namespace: us.name } },
      { name: 'down', context: { cluster: 'down', user: user.name, namespace: eu.name } },
      { name: 'restricted', context: { cluster: cluster.name, user: 'nobody', namespace: eu.name } },
    ],
    'current-context': 'eu',
  };
  dir = await mkdtemp(path.join(os.tmpdir(), 'forge-ops-'));
  kubeconfigPath = path.join(dir, 'kubeconfig.json');
  await writeFile(kubeconfigPath, JSON.stringify(config));
});

afterAll(async () => {
  await eu?.cleanup();
  await us?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('forge-manager status', () => {
  it('shows every cluster of the pool across contexts, with the leases', async () => {
    const result = await cli('status', '--context', 'eu,us');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^CONTEXT\s+CLUSTER\s+REGION\s+STATE\s+PRIORITY\s+HEALTH\s+LEADER\s+FORGING\s+SINCE$/,
    );
    expect(lines.find((l) => l.startsWith('eu '))).toMatch(
      /eu\s+mainnet-pool1qqqqq-eu\s+eu\s+Priority-based → Priority-based\s+100 → 100\s+healthy\s+bp-0\s+yes\s+2026-01-01T00:00:00Z/,
    );
    expect(lines.find((l) => l.startsWith('us '))).toMatch(/failing \(3\)\s+bp-1\s+no/);
    expect(result.stdout).toMatch(/eu\s+cardano-leader-mainnet-pool1qqqqq\s+bp-0\s+\S+\s+4\s+bp-0\s+yes/);
  });

  it('prints JSON with -o json (repeated --context works too)', async () => {
    const result = await cli('status', '--context', 'eu', '--context', 'us', '-o', 'json');
    expect(result.code).toBe(0);
    const view = JSON.parse(result.stdout) as { clusters: Array<Record<string, unknown>>; leases: unknown[] };
    expect(view.clusters.map((c) => [c.context, c.cluster, c.effectivePriority, c.forging])).toEqual([
      ['eu', 'mainnet-pool1qqqqq-eu', 100, true],
      ['us', 'mainnet-pool1qqqqq-us', 200, false],
    ]);
    expect(view.leases).toHaveLength(1);
  });

  it('still shows the reachable regions when one context is unreachable, and fails', async () => {
    const result = await cli('status', '--context', 'eu,down', '-o', 'json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).clusters).toHaveLength(1);
    expect(result.stderr).toMatch(/context "down" \(https:\/\/127\.0\.0\.1:1\).*API server unreachable/);
  });

  it('names an unknown context and lists the known ones', async () => {
    const result = await cli('status', '--context', 'mars');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'unknown kubeconfig context "mars" (available: eu, us, down, restricted)',
    );
  });

  it('says when the user may not read the objects', async () => {
    const result = await cli('status', '--context', 'restricted');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /context "restricted".*forbidden to list cardanoforgeclusters: 403 Forbidden: .*cannot list/,
    );
  });

  it('says when the CRD is not installed (an API group the server does not serve)', async () => {
    const result = await cli('status', '--context', 'eu', '--crd-group', 'absent.example.com');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /the CardanoForgeCluster CRD \(cardanoforgeclusters\.absent\.example\.com\) is not installed/,
    );
  });
});

describe('forge-manager maintenance', () => {
  it('disables the cluster, keeps its previous state, and restores it', async () => {
    const name = 'mainnet-pool1qqqqq-us';
    await kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
      {
        ...CRD,
        namespace: us.name,
        plural: 'cardanoforgeclusters',
        name,
        body: { spec: { forgeState: 'Enabled' } },
      },
      (await import('@cardano-forge/framework')).mergePatchOptions(10_000),
    );
    const on = await cli('maintenance', name, 'on', '--context', 'eu,us');
    expect(on.stderr).toBe('');
    expect(on.stdout).toContain('maintenance on (forgeState Disabled, was Enabled)');
    let object = await getCluster(us.name, name);
    expect(object.spec.forgeState).toBe('Disabled');
    expect(object.metadata.annotations?.['cardano.io/maintenance-previous-forge-state']).toBe('Enabled');
    expect((await cli('maintenance', name, 'on', '--context', 'us')).stdout).toContain(
      'maintenance already on',
    );
    expect((await cli('status', '--context', 'us')).stdout).toContain('(maintenance)');
    const off = await cli('maintenance', name, 'off', '--context', 'us');
    expect(off.code).toBe(0);
    object = await getCluster(us.name, name);
    expect(object.spec.forgeState).toBe('Enabled');
    expect(object.metadata.annotations?.['cardano.io/maintenance-previous-forge-state']).toBeUndefined();
  });

  it('names an unknown cluster and lists the ones it found', async () => {
    const result = await cli('maintenance', 'nope', 'on', '--context', 'eu,us');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `no CardanoForgeCluster "nope" in eu/${eu.name}, us/${us.name} (found: mainnet-pool1qqqqq-eu, mainnet-pool1qqqqq-us)`,
    );
  });
});

describe('forge-manager failover', () => {
  it('disables the other clusters of the pool and prefers the target, with an expiry; --clear undoes it', async () => {
    const before = Date.now();
    const result = await cli(
      'failover',
      '--to',
      'mainnet-pool1qqqqq-us',
      '--for',
      '2h',
      '--context',
      'eu,us',
    );
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^eu\/mainnet-pool1qqqqq-eu: forceState Disabled until /),
      expect.stringMatching(/^us\/mainnet-pool1qqqqq-us: forcePriority 1 until /),
    ]);
    const eu1 = await getCluster(eu.name, 'mainnet-pool1qqqqq-eu');
    const us1 = await getCluster(us.name, 'mainnet-pool1qqqqq-us');
    expect(eu1.spec.override).toMatchObject({ enabled: true, forceState: 'Disabled' });
    expect(us1.spec.override).toMatchObject({ enabled: true, forcePriority: 1 });
    expect(us1.spec.override?.forceState).toBeUndefined();
    const expiresMs = Date.parse(us1.spec.override?.expiresAt as string);
    expect(expiresMs - before).toBeGreaterThanOrEqual(2 * 3600_000 - 1000);
    expect(expiresMs - Date.now()).toBeLessThanOrEqual(2 * 3600_000 + 1000);

    const clear = await cli('failover', '--clear', '--context', 'eu,us');
    expect(clear.code).toBe(0);
    expect((await getCluster(eu.name, 'mainnet-pool1qqqqq-eu')).spec.override).toMatchObject({
      enabled: false,
    });
    expect((await getCluster(us.name, 'mainnet-pool1qqqqq-us')).spec.override).toMatchObject({
      enabled: false,
    });
  });

  it('does not overwrite an override someone else set', async () => {
    await kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
      {
        ...CRD,
        namespace: eu.name,
        plural: 'cardanoforgeclusters',
        name: 'mainnet-pool1qqqqq-eu',
        body: { spec: { override: { enabled: true, forceState: 'Enabled', reason: 'hand-set' } } },
      },
      (await import('@cardano-forge/framework')).mergePatchOptions(10_000),
    );
    const result = await cli('failover', '--to', 'mainnet-pool1qqqqq-us', '--context', 'eu,us');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('has an override set by someone else (hand-set)');
    expect((await getCluster(us.name, 'mainnet-pool1qqqqq-us')).spec.override).toMatchObject({
      enabled: false,
    });
  });

  it('rejects a malformed --for', async () => {
    const result = await cli('failover', '--to', 'x', '--for', '2 hours', '--context', 'eu');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--for expects a duration like 2h');
  });
});
