// Proof that the test harness is a real Kubernetes control plane, exercised through
// @kubernetes/client-node exactly where a fake would get the semantics wrong: MicroTime
// parsing, optimistic concurrency, the /status subresource, watches, and an apiserver outage.
import {
  CoordinationV1Api,
  CustomObjectsApi,
  PatchStrategy,
  V1MicroTime,
  VersionApi,
  Watch,
  setHeaderOptions,
  type KubeConfig,
  type V1Lease,
} from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../controlplane/index.ts';
import {
  classifyClientError,
  createTestNamespace,
  httpStatusOf,
  testKubeConfig,
  type TestNamespace,
} from '../support/cluster.js';

const CFC = { group: 'cardano.io', version: 'v1', plural: 'cardanoforgeclusters' } as const;
const SIX_FRACTIONAL_DIGITS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

interface ForgeClusterStatus {
  effectiveState?: string;
  activeLeader?: string;
  forgingEnabled?: boolean;
}
interface ForgeClusterObject {
  metadata: { name: string; resourceVersion: string; generation: number };
  spec: { region: string; priority?: number };
  status?: ForgeClusterStatus;
}

function leaseBody(name: string, holder: string, at: Date): V1Lease {
  return {
    metadata: { name },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: 15,
      acquireTime: new V1MicroTime(at.getTime()),
      renewTime: new V1MicroTime(at.getTime()),
      leaseTransitions: 0,
    },
  };
}

/** Reads return MicroTime fields as strings at runtime, whatever the declared type says. */
function wireTime(value: unknown): string {
  return typeof value === 'string'
    ? value
    : value instanceof Date
      ? `Date(${value.toISOString()})`
      : String(value);
}

function cfcBody(name: string): object {
  return {
    apiVersion: `${CFC.group}/${CFC.version}`,
    kind: 'CardanoForgeCluster',
    metadata: { name },
    spec: { network: { name: 'preview', magic: 2 }, region: 'eu-west-1', pool: { ticker: 'TEST' } },
  };
}

function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number.parseInt(line?.replace(/\D+/g, '') ?? '0', 10);
}

describe('shared control plane (global setup)', () => {
  let kc: KubeConfig;
  let namespace: TestNamespace;

  beforeAll(async () => {
    kc = testKubeConfig();
    namespace = await createTestNamespace(kc, 'harness');
  });
  afterAll(async () => {
    await namespace?.cleanup();
  });

  it('reports the versions of the real binaries', async () => {
    const versions = inject('forgeControlPlaneVersions');
    console.log(`[harness] kube-apiserver ${versions.kubeApiserver}, etcd ${versions.etcd}`);
    // The server we talk to is the binary whose version the setup reported.
    const server = await kc.makeApiClient(VersionApi).getCode();
    expect(server.gitVersion).toBe(versions.kubeApiserver);
    expect(versions.kubeApiserver).toMatch(/^v1\.\d+\.\d+/);
  });

  it('creates and replaces a Lease with MicroTime acquire/renew times (six fractional digits kept)', async () => {
    const coordination = kc.makeApiClient(CoordinationV1Api);
    const acquired = new Date('2026-01-02T03:04:05.123Z');
    const created = await coordination.createNamespacedLease({
      namespace: namespace.name,
      body: leaseBody('forge-leader', 'pod-a', acquired),
    });
    expect(wireTime(created.spec?.acquireTime)).toBe('2026-01-02T03:04:05.123000Z');

    const current = await coordination.readNamespacedLease({
      name: 'forge-leader',
      namespace: namespace.name,
    });
    const renewed = new Date('2026-01-02T03:04:07.009Z');
    const replaced = await coordination.replaceNamespacedLease({
      name: 'forge-leader',
      namespace: namespace.name,
      body: {
        ...current,
        spec: { ...current.spec, holderIdentity: 'pod-b', renewTime: new V1MicroTime(renewed.getTime()) },
      },
    });
    const reread = await coordination.readNamespacedLease({
      name: 'forge-leader',
      namespace: namespace.name,
    });
    expect(wireTime(reread.spec?.renewTime)).toBe('2026-01-02T03:04:07.009000Z');
    expect(wireTime(reread.spec?.acquireTime)).toMatch(SIX_FRACTIONAL_DIGITS);
    expect(reread.spec?.holderIdentity).toBe('pod-b');
    expect(replaced.metadata?.resourceVersion).not.toBe(current.metadata?.resourceVersion);
  });

  it('rejects a Lease whose times are plain Dates (three fractional digits) with 400', async () => {
    const coordination = kc.makeApiClient(CoordinationV1Api);
    const body = leaseBody('plain-date', 'pod-a', new Date());
    body.spec = { ...body.spec, renewTime: new Date() as V1MicroTime };
    const error = await coordination
      .createNamespacedLease({ namespace: namespace.name, body })
      .catch((e: unknown) => e);
    expect(httpStatusOf(error)).toBe(400);
  });

  it('answers 409 Conflict to a replace with a stale resourceVersion', async () => {
    const coordination = kc.makeApiClient(CoordinationV1Api);
    const created = await coordination.createNamespacedLease({
      namespace: namespace.name,
      body: leaseBody('cas', 'pod-a', new Date()),
    });
    await coordination.replaceNamespacedLease({
      name: 'cas',
      namespace: namespace.name,
      body: { ...created, spec: { ...created.spec, holderIdentity: 'pod-b' } },
    });
    // `created` still carries the first resourceVersion: the second writer must lose.
    const error = await coordination
      .replaceNamespacedLease({
        name: 'cas',
        namespace: namespace.name,
        body: { ...created, spec: { ...created.spec, holderIdentity: 'pod-c' } },
      })
      .catch((e: unknown) => e);
    expect(httpStatusOf(error)).toBe(409);
    expect(JSON.parse((error as { body: string }).body).reason).toBe('Conflict');
    const winner = await coordination.readNamespacedLease({ name: 'cas', namespace: namespace.name });
    expect(winner.spec?.holderIdentity).toBe('pod-b');
  });

  it('merge-patches a CardanoForgeCluster /status without touching spec or generation', async () => {
    const objects = kc.makeApiClient(CustomObjectsApi);
    const ns = namespace.name;
    const created = (await objects.createNamespacedCustomObject({
      ...CFC,
      namespace: ns,
      body: { ...cfcBody('status-patch'), status: { activeLeader: 'ignored-on-create' } },
    })) as ForgeClusterObject;
    // The status subresource makes the main resource drop .status on writes.
    expect(created.status?.activeLeader).toBeUndefined();

    const patched = (await objects.patchNamespacedCustomObjectStatus(
      {
        ...CFC,
        namespace: ns,
        name: 'status-patch',
        body: { status: { effectiveState: 'Enabled', activeLeader: 'pod-a', forgingEnabled: true } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as ForgeClusterObject;
    expect(patched.status).toEqual({
      effectiveState: 'Enabled',
      activeLeader: 'pod-a',
      forgingEnabled: true,
    });

    const reread = (await objects.getNamespacedCustomObject({
      ...CFC,
      namespace: ns,
      name: 'status-patch',
    })) as ForgeClusterObject;
    expect(reread.status?.activeLeader).toBe('pod-a');
    expect(reread.metadata.generation).toBe(created.metadata.generation);
    expect(reread.spec.region).toBe('eu-west-1');
    // Defaults from the CRD schema were applied by the apiserver.
    expect(reread.spec.priority).toBe(100);
  });

  it('delivers an update to a watch', async () => {
    const objects = kc.makeApiClient(CustomObjectsApi);
    const ns = namespace.name;
    const created = (await objects.createNamespacedCustomObject({
      ...CFC,
      namespace: ns,
      body: cfcBody('watched'),
    })) as ForgeClusterObject;

    let resolveSeen: (status: ForgeClusterStatus) => void = () => undefined;
    const seen = new Promise<ForgeClusterStatus>((resolve) => {
      resolveSeen = resolve;
    });
    let watchError: unknown;
    // Watching from the create's resourceVersion: the update cannot slip in before the watch starts.
    const controller = await new Watch(kc).watch(
      `/apis/${CFC.group}/${CFC.version}/namespaces/${ns}/${CFC.plural}`,
      { resourceVersion: created.metadata.resourceVersion, fieldSelector: 'metadata.name=watched' },
      (type, object: ForgeClusterObject) => {
        if (type === 'MODIFIED' && object.status?.activeLeader === 'pod-b') resolveSeen(object.status);
      },
      (error) => {
        watchError = error;
      },
    );
    try {
      await objects.patchNamespacedCustomObjectStatus(
        {
          ...CFC,
          namespace: ns,
          name: 'watched',
          body: { status: { activeLeader: 'pod-b', forgingEnabled: false } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      const status = await Promise.race([
        seen,
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error(`no MODIFIED event within 15 s (watch error: ${String(watchError)})`)),
            15_000,
          ),
        ),
      ]);
      expect(status).toEqual({ activeLeader: 'pod-b', forgingEnabled: false });
    } finally {
      controller.abort();
    }
  });
});

describe('dedicated control plane: apiserver outage and restart', () => {
  let controlPlane: ControlPlane | undefined;

  beforeAll(async () => {
    controlPlane = await startControlPlane({ crdDir: null });
    const { startup, versions } = controlPlane;
    const pids = controlPlane.processIds();
    const etcdRss = rssKiB(pids.etcd);
    const apiserverRss = pids.kubeApiserver === undefined ? 0 : rssKiB(pids.kubeApiserver);
    console.log(
      `[harness] dedicated control plane kube-apiserver ${versions.kubeApiserver}, etcd ${versions.etcd}: ` +
        `pki ${startup.pkiMs} ms, etcd ready ${startup.etcdReadyMs} ms, apiserver ready ${startup.apiserverReadyMs} ms, ` +
        `total ${startup.totalMs} ms; RSS etcd ${Math.round(etcdRss / 1024)} MiB + apiserver ${Math.round(apiserverRss / 1024)} MiB`,
    );
  });
  afterAll(async () => {
    await controlPlane?.stop();
  });

  it('fails a call with connection-refused while the apiserver is down, and serves the same data after restart', async () => {
    if (controlPlane === undefined) throw new Error('control plane did not start');
    const kc = controlPlane.kubeConfig();
    const coordination = kc.makeApiClient(CoordinationV1Api);
    await coordination.createNamespacedLease({
      namespace: 'default',
      body: leaseBody('survives-restart', 'pod-a', new Date()),
    });

    await controlPlane.stopApiserver();
    expect(controlPlane.processIds().kubeApiserver).toBeUndefined();
    const error = await coordination
      .readNamespacedLease({ name: 'survives-restart', namespace: 'default' })
      .catch((e: unknown) => e);
    expect(classifyClientError(error)).toMatchObject({ reason: 'connection-refused', code: 'ECONNREFUSED' });

    const restartBegin = performance.now();
    await controlPlane.startApiserver();
    console.log(`[harness] apiserver restart to ready: ${Math.round(performance.now() - restartBegin)} ms`);
    const lease = await coordination.readNamespacedLease({ name: 'survives-restart', namespace: 'default' });
    expect(lease.spec?.holderIdentity).toBe('pod-a');
  });
});
