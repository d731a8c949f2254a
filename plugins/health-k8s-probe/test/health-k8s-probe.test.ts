// Integration tests for @cardano-forge/health-k8s-probe on the real kube-apiserver started by the
// integration project's global setup. There is no kubelet or controller manager, so the tests play
// their part: they write Pod, StatefulSet, Deployment and Node status through the status subresource.
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1NodeCondition,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HealthResult } from '@cardano-forge/framework';
import healthK8sProbe, {
  type HealthK8sProbeOptionsInput,
  type KubernetesHealthProbe,
} from '@cardano-forge/health-k8s-probe';
import { createTestNamespace, testKubeConfig, type TestNamespace } from '../../../test/support/cluster.ts';
import {
  makeTestPluginContext,
  type TestPluginContextOverrides,
} from '../../../test/support/plugin-context.ts';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const suffix = randomBytes(3).toString('hex');

let kc: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;
let ns: TestNamespace;
const nodesToDelete: string[] = [];
const disposers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  kc = testKubeConfig();
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  ns = await createTestNamespace(kc, 'k8s-probe');
});

afterEach(async () => {
  for (const dispose of disposers.splice(0)) await dispose();
});

afterAll(async () => {
  for (const name of nodesToDelete) await core.deleteNode({ name }).catch(() => undefined);
  await ns?.cleanup();
});

async function probeFor(
  options: HealthK8sProbeOptionsInput,
  overrides: TestPluginContextOverrides = {},
): Promise<KubernetesHealthProbe> {
  const parsed = await healthK8sProbe.optionsSchema['~standard'].validate(options);
  if (parsed.issues !== undefined) throw new Error(`bad options: ${JSON.stringify(parsed.issues)}`);
  const ctx = makeTestPluginContext({
    instanceId: 'k8s-test',
    identity: { namespace: ns.name },
    ...overrides,
  });
  const probe = (await healthK8sProbe.create(ctx, parsed.value)) as KubernetesHealthProbe;
  disposers.push(() => ctx.dispose());
  return probe;
}

const check = (probe: { check(signal: AbortSignal): Promise<HealthResult> }): Promise<HealthResult> =>
  probe.check(AbortSignal.timeout(60_000));

function expectResult(result: HealthResult, healthy: boolean, reason: string): void {
  expect({ healthy: result.healthy, reason: result.reason }, result.message).toEqual({ healthy, reason });
}

async function createPod(name: string, labels: Record<string, string>): Promise<void> {
  await core.createNamespacedPod({
    namespace: ns.name,
    body: {
      metadata: { name, labels },
      spec: { containers: [{ name: 'cardano-node', image: 'ghcr.io/intersectmbo/cardano-node:10.1.4' }] },
    },
  });
}

/** What a kubelet would report for a running pod. */
async function setPodReady(name: string, ready: boolean): Promise<void> {
  const now = new Date().toISOString();
  await core.patchNamespacedPodStatus(
    {
      name,
      namespace: ns.name,
      body: {
        status: {
          phase: 'Running',
          conditions: [
            { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
            { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: now },
            { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now },
          ],
        },
      },
    },
    mergePatch,
  );
}

describe('pods check', () => {
  const labels = { app: `bp-${suffix}`, pool: 'pool1test' };
  const labelSelector = `app=bp-${suffix},pool=pool1test`;

  it('goes NotFound → PodsNotReady → Healthy → PodsNotReady as pods appear and change readiness', async () => {
    // namespace omitted: the probe uses the manager's own namespace (identity.namespace).
    const probe = await probeFor({ pods: { labelSelector, minReady: 2 } });
    expect(probe.namespace).toBe(ns.name);

    const none = await check(probe);
    expectResult(none, false, 'NotFound');
    expect(none.message).toContain(`no pods match "${labelSelector}"`);

    await createPod('bp-0', labels);
    await createPod('bp-1', labels);
    await createPod('other-0', { app: 'relay' });
    const pending = await check(probe);
    expectResult(pending, false, 'PodsNotReady');
    expect(pending.details?.['pods']).toMatchObject({ ready: 0, total: 2, minReady: 2 });

    await setPodReady('bp-0', true);
    const one = await check(probe);
    expectResult(one, false, 'PodsNotReady');
    expect(one.message).toContain('1/2 pods ready, need 2; not ready: bp-1');

    await setPodReady('bp-1', true);
    const both = await check(probe);
    expectResult(both, true, 'Healthy');
    expect(both.message).toMatch(/^pods: 2\/2 pods ready \(min 2\) \(\d+ ms\)$/);
    expect(both.details).toMatchObject({ namespace: ns.name, pods: { healthy: true, ready: 2, total: 2 } });

    await setPodReady('bp-0', false);
    const lost = await check(probe);
    expectResult(lost, false, 'PodsNotReady');
    expect(lost.details?.['pods']).toMatchObject({ ready: 1, notReadyPods: ['bp-0'] });

    // minReady 1 tolerates one pod down.
    const lenient = await probeFor({ pods: { labelSelector } });
    expectResult(await check(lenient), true, 'Healthy');
  });
});

describe('workload check', () => {
  async function setStatefulSetStatus(
    name: string,
    readyReplicas: number,
    availableReplicas: number,
  ): Promise<void> {
    await apps.patchNamespacedStatefulSetStatus(
      {
        name,
        namespace: ns.name,
        body: {
          status: { replicas: 2, readyReplicas, availableReplicas, currentReplicas: 2, updatedReplicas: 2 },
        },
      },
      mergePatch,
    );
  }

  it('tracks a StatefulSet: NotFound → WorkloadUnavailable → Healthy → WorkloadUnavailable', async () => {
    const name = `cardano-bp-${suffix}`;
    const probe = await probeFor({ namespace: ns.name, workload: { kind: 'StatefulSet', name } });

    const missing = await check(probe);
    expectResult(missing, false, 'NotFound');
    expect(missing.message).toContain(`get StatefulSet ${ns.name}/${name}: not found`);

    const selector = { matchLabels: { app: name } };
    await apps.createNamespacedStatefulSet({
      namespace: ns.name,
      body: {
        metadata: { name },
        spec: {
          replicas: 2,
          serviceName: name,
          selector,
          template: {
            metadata: { labels: selector.matchLabels },
            spec: { containers: [{ name: 'node', image: 'cardano-node' }] },
          },
        },
      },
    });
    const created = await check(probe);
    expectResult(created, false, 'WorkloadUnavailable');
    expect(created.message).toContain(`StatefulSet ${name}: 0/2 available, need 2`);

    await setStatefulSetStatus(name, 1, 1);
    expectResult(await check(probe), false, 'WorkloadUnavailable');
    const lenient = await probeFor({
      namespace: ns.name,
      workload: { kind: 'StatefulSet', name, minAvailable: 1 },
    });
    expectResult(await check(lenient), true, 'Healthy');

    await setStatefulSetStatus(name, 2, 2);
    const healthy = await check(probe);
    expectResult(healthy, true, 'Healthy');
    expect(healthy.details?.['workload']).toMatchObject({
      kind: 'StatefulSet',
      name,
      desired: 2,
      available: 2,
      minAvailable: 2,
    });

    await setStatefulSetStatus(name, 1, 0);
    expectResult(await check(probe), false, 'WorkloadUnavailable');
  });

  it('tracks a Deployment by availableReplicas', async () => {
    const name = `forge-health-${suffix}`;
    const selector = { matchLabels: { app: name } };
    await apps.createNamespacedDeployment({
      namespace: ns.name,
      body: {
        metadata: { name },
        spec: {
          replicas: 1,
          selector,
          template: {
            metadata: { labels: selector.matchLabels },
            spec: { containers: [{ name: 'c', image: 'x' }] },
          },
        },
      },
    });
    const probe = await probeFor({ workload: { kind: 'Deployment', name } });
    expectResult(await check(probe), false, 'WorkloadUnavailable');
    await apps.patchNamespacedDeploymentStatus(
      {
        name,
        namespace: ns.name,
        body: { status: { replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 } },
      },
      mergePatch,
    );
    expectResult(await check(probe), true, 'Healthy');
  });
});

describe('nodes check', () => {
  const label = `forge-test-${suffix}`;

  async function createNode(name: string): Promise<void> {
    await core.createNode({ body: { metadata: { name, labels: { 'forge-test': label } } } });
    nodesToDelete.push(name);
  }

  async function setNodeConditions(name: string, conditions: V1NodeCondition[]): Promise<void> {
    await core.patchNodeStatus({ name, body: { status: { conditions } } }, mergePatch);
  }

  const condition = (type: string, status: 'True' | 'False' | 'Unknown'): V1NodeCondition => {
    const now = new Date();
    return {
      type,
      status,
      lastHeartbeatTime: now,
      lastTransitionTime: now,
      reason: `Test${type}`,
      message: 'set by test',
    };
  };

  it('requires every selected node to be Ready', async () => {
    const probe = await probeFor({ nodes: { labelSelector: `forge-test=${label}` } });
    expectResult(await check(probe), false, 'NotFound');

    await createNode(`node-a-${suffix}`);
    await createNode(`node-b-${suffix}`);
    const noStatus = await check(probe);
    expectResult(noStatus, false, 'NodeNotReady');
    expect(noStatus.details?.['nodes']).toMatchObject({ total: 2, ready: 0 });

    await setNodeConditions(`node-a-${suffix}`, [condition('Ready', 'True')]);
    await setNodeConditions(`node-b-${suffix}`, [
      condition('Ready', 'True'),
      condition('DiskPressure', 'True'),
    ]);
    const ready = await check(probe);
    expectResult(ready, true, 'Healthy');
    expect(ready.details?.['nodes']).toMatchObject({
      total: 2,
      ready: 2,
      pressure: [`node-b-${suffix}:DiskPressure`],
    });

    await setNodeConditions(`node-b-${suffix}`, [condition('Ready', 'Unknown')]);
    const lost = await check(probe);
    expectResult(lost, false, 'NodeNotReady');
    expect(lost.message).toContain(`not Ready: node-b-${suffix}`);

    const presenceOnly = await probeFor({
      nodes: { labelSelector: `forge-test=${label}`, requireReady: false },
    });
    expectResult(await check(presenceOnly), true, 'Healthy');
  });
});

describe('combined checks', () => {
  it('is healthy only when every configured check passes and reports each one', async () => {
    const app = `combo-${suffix}`;
    await createPod(`${app}-0`, { app });
    const name = `combo-sts-${suffix}`;
    const selector = { matchLabels: { app } };
    await apps.createNamespacedStatefulSet({
      namespace: ns.name,
      body: {
        metadata: { name },
        spec: {
          replicas: 1,
          serviceName: name,
          selector,
          template: { metadata: { labels: { app } }, spec: { containers: [{ name: 'n', image: 'x' }] } },
        },
      },
    });
    const probe = await probeFor({
      pods: { labelSelector: `app=${app}` },
      workload: { kind: 'StatefulSet', name },
    });

    const neither = await check(probe);
    expectResult(neither, false, 'PodsNotReady'); // first failing check in order pods, workload, nodes
    expect(neither.details).toMatchObject({ pods: { healthy: false }, workload: { healthy: false } });

    await setPodReady(`${app}-0`, true);
    const podsOnly = await check(probe);
    expectResult(podsOnly, false, 'WorkloadUnavailable');
    expect(podsOnly.message).toMatch(
      /^pods: 1\/1 pods ready \(min 1\); workload: StatefulSet combo-sts-\w+: 0\/1 available, need 1 \(\d+ ms\)$/,
    );

    await apps.patchNamespacedStatefulSetStatus(
      { name, namespace: ns.name, body: { status: { replicas: 1, readyReplicas: 1, availableReplicas: 1 } } },
      mergePatch,
    );
    const all = await check(probe);
    expectResult(all, true, 'Healthy');
    expect(all.details).toMatchObject({ pods: { healthy: true }, workload: { healthy: true } });
    expect(all.latencyMs).toBeGreaterThanOrEqual(0);
  });
});

describe('API failures', () => {
  it('reports Forbidden for a service account without RBAC, and passes once granted', async () => {
    const saName = `forge-probe-${suffix}`;
    await core.createNamespacedServiceAccount({ namespace: ns.name, body: { metadata: { name: saName } } });
    const tokenRequest = await core.createNamespacedServiceAccountToken({
      name: saName,
      namespace: ns.name,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error('test kubeconfig has no current cluster');
    const saConfig = new KubeConfig();
    saConfig.loadFromOptions({
      clusters: [{ ...cluster, name: 'test' }],
      users: [{ name: `sa-${saName}`, token: tokenRequest.status?.token ?? '' }],
      contexts: [{ name: 'sa', cluster: 'test', user: `sa-${saName}` }],
      currentContext: 'sa',
    });
    const options = {
      namespace: ns.name,
      pods: { labelSelector: 'app=anything' },
      workload: { kind: 'StatefulSet' as const, name: 'x' },
    };
    const probe = await probeFor(options, { kubeConfig: saConfig });
    const denied = await check(probe);
    expectResult(denied, false, 'Forbidden');
    expect(denied.message).toContain(`list pods in ${ns.name}: forbidden`);
    expect(denied.details).toMatchObject({
      pods: { reason: 'Forbidden' },
      workload: { reason: 'Forbidden' },
    });

    // Grant list pods only: the workload read stays forbidden.
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns.name,
      body: {
        metadata: { name: 'forge-probe' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns.name,
      body: {
        metadata: { name: 'forge-probe' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'forge-probe' },
        subjects: [{ kind: 'ServiceAccount', name: saName, namespace: ns.name }],
      },
    });
    // RBAC changes reach the authorizer through its informer: poll briefly.
    let partly: HealthResult | undefined;
    for (let attempt = 0; attempt < 50; attempt++) {
      partly = await check(probe);
      if ((partly.details?.['pods'] as { reason?: string } | undefined)?.reason !== 'Forbidden') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(partly?.details).toMatchObject({
      pods: { reason: 'NotFound' },
      workload: { reason: 'Forbidden' },
    });
    expectResult(partly as HealthResult, false, 'NotFound');
  });

  it('reports ApiError when the API server refuses connections', async () => {
    const port = await closedPort();
    const probe = await probeFor({ nodes: {} }, { kubeConfig: unreachableConfig(port) });
    const result = await check(probe);
    expectResult(result, false, 'ApiError');
    expect(result.message).toContain('ECONNREFUSED');
  });

  it('reports Timeout within about timeoutMs when the API server never answers', async () => {
    const silent = await startSilentServer();
    try {
      const probe = await probeFor(
        { nodes: {}, timeoutMs: 700 },
        { kubeConfig: unreachableConfig(silent.port) },
      );
      const begin = performance.now();
      const result = await check(probe);
      const took = performance.now() - begin;
      expectResult(result, false, 'Timeout');
      expect(result.message).toContain('no answer within 700 ms');
      expect(took).toBeGreaterThanOrEqual(650);
      expect(took).toBeLessThan(4_000);
    } finally {
      await silent.close();
    }
  });
});

function unreachableConfig(port: number): KubeConfig {
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'nowhere', server: `https://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: `nobody-${port}`, token: 'unused' }],
    contexts: [{ name: 'nowhere', cluster: 'nowhere', user: `nobody-${port}` }],
    currentContext: 'nowhere',
  });
  return config;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Accepts TCP connections and never says a word (not even a TLS handshake). */
async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
