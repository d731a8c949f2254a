// The cluster manager against a real kube-apiserver: kubectl-patch-style spec edits, overrides,
// health, deletion, outages and two pools side by side. After each scenario the CardanoForgeCluster
// status is compared with what docs/cluster-policy.md says it looks like.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import {
  computeNames,
  createClusterManager,
  mergePatchOptions,
  withTimeout,
  type Clock,
  type ClusterPolicySource,
  type HealthProbe,
  type HealthResult,
  type PolicySnapshot,
} from '@cardano-forge/framework';
import { createStaticPriorityStrategy } from '@cardano-forge/priority-static';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../controlplane/index.ts';
import { createTestNamespace, testKubeConfig, type TestNamespace } from '../support/cluster.js';

const CRD = { group: 'cardano.io', version: 'v1' } as const;
const PLURAL = 'cardanoforgeclusters';
const POOL_A = 'pool1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq';
const POOL_B = 'pool1zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz';
const HEALTH_INTERVAL_S = 1;
/** "Within one interval": a watch event, plus one health/tick interval of slack on a busy machine. */
const ONE_INTERVAL_MS = 4_000;

const clock: Clock = {
  monotonicMs: () => performance.now(),
  wallNow: () => new Date(),
  sleep: (ms, signal) => sleepFor(Math.max(0, ms), undefined, signal ? { signal } : undefined),
};
const strategy = createStaticPriorityStrategy({ minorPenalty: 10, majorPenalty: 100 });
const silent = pino({ level: 'silent' });

class FakeProbe implements HealthProbe {
  readonly id = 'fake-endpoint';
  healthy = true;
  calls = 0;
  async check(): Promise<HealthResult> {
    this.calls += 1;
    return this.healthy
      ? { healthy: true, reason: 'Healthy', message: 'HTTP 200', latencyMs: 1 }
      : { healthy: false, reason: 'UnexpectedStatus', message: 'HTTP 503', latencyMs: 1 };
  }
}

interface Status {
  effectiveState?: string;
  effectivePriority?: number;
  reason?: string;
  message?: string;
  activeLeader?: string;
  forgingEnabled?: boolean;
  observedGeneration?: number;
  override?: { active: boolean; expired: boolean; message: string };
  healthStatus?: { healthy: boolean; consecutiveFailures: number; message: string; lastProbeTime: string };
  conditions?: {
    type: string;
    status: string;
    reason: string;
    message: string;
    lastTransitionTime: string;
  }[];
}
interface Cfc {
  metadata: { name: string; uid: string; generation: number; labels?: Record<string, string> };
  spec: Record<string, unknown>;
  status?: Status;
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (performance.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleepFor(100);
  }
}

const conditionOf = (status: Status | undefined, type: string) =>
  status?.conditions?.find((c) => c.type === type);

interface Running {
  manager: ClusterPolicySource;
  registry: Registry;
  clusterName: string;
  leaseName: string;
  podName: string;
  probe: FakeProbe;
  notifications: PolicySnapshot[];
  stop(): Promise<void>;
}

describe('cluster policy on a real control plane', () => {
  let kc: KubeConfig;
  let api: CustomObjectsApi;
  let ns: TestNamespace;
  const running: Running[] = [];

  beforeAll(async () => {
    kc = testKubeConfig();
    api = kc.makeApiClient(CustomObjectsApi);
    ns = await createTestNamespace(kc, 'cluster-policy');
  });
  afterEach(async () => {
    await Promise.allSettled(running.splice(0).map((r) => r.stop()));
  });
  afterAll(async () => {
    await ns?.cleanup();
  });

  async function start(options: {
    poolId: string;
    region: string;
    podName?: string;
    probes?: boolean;
    namespace?: string;
    kubeConfig?: KubeConfig;
    staleAfterSeconds?: number;
    registry?: Registry;
    crd?: { group: string; version: string };
  }): Promise<Running> {
    const names = computeNames({ network: 'mainnet', poolId: options.poolId, region: options.region });
    const registry = options.registry ?? new Registry();
    const probe = new FakeProbe();
    const podName = options.podName ?? `${names.clusterName}-0`;
    const manager = createClusterManager(
      {
        kubeConfig: options.kubeConfig ?? kc,
        clock,
        logger: silent,
        registry,
        priorityStrategy: strategy,
        healthProbes: options.probes ? [probe] : [],
      },
      {
        namespace: options.namespace ?? ns.name,
        names,
        pool: { id: options.poolId, idHex: 'not-hex', name: 'Test Pool', ticker: 'TEST' },
        network: { name: 'mainnet', magic: 764824073 },
        region: options.region,
        environment: 'testing',
        basePriority: 100,
        applicationType: 'block-producer',
        policyStaleAfterSeconds: options.staleAfterSeconds ?? 30,
        healthCheck: {
          intervalSeconds: HEALTH_INTERVAL_S,
          timeoutSeconds: 1,
          failureThreshold: 2,
          recoveryThreshold: 2,
        },
        crd: options.crd ?? CRD,
        podName,
        tickMs: 200,
      },
    );
    const notifications: PolicySnapshot[] = [];
    const unsubscribe = manager.subscribe((s) => notifications.push(s));
    const controller = new AbortController();
    await manager.start(controller.signal);
    const r: Running = {
      manager,
      registry,
      clusterName: names.clusterName,
      leaseName: names.leaseName,
      podName,
      probe,
      notifications,
      async stop() {
        unsubscribe();
        controller.abort();
        await manager.stop();
      },
    };
    running.push(r);
    return r;
  }

  async function lead(r: Running, forging = true): Promise<void> {
    r.manager.setLocalLeader(true);
    await r.manager.reportLeadership({ activeLeader: r.podName, forgingEnabled: forging, isLeader: true });
  }

  const get = async (name: string, namespace = ns.name): Promise<Cfc> =>
    (await api.getNamespacedCustomObject(
      { ...CRD, plural: PLURAL, namespace, name },
      withTimeout(5000),
    )) as Cfc;

  /** Like `kubectl patch cfc <name> --type merge -p '{"spec": ...}'`. */
  const patchSpec = async (name: string, spec: Record<string, unknown>): Promise<void> => {
    await api.patchNamespacedCustomObject(
      { ...CRD, plural: PLURAL, namespace: ns.name, name, body: { spec } },
      mergePatchOptions(5000),
    );
  };

  const statusWhere = (name: string, ok: (s: Status, o: Cfc) => boolean, timeoutMs = ONE_INTERVAL_MS * 2) =>
    waitFor(
      `status of ${name}`,
      async () => {
        const o = await get(name);
        return o.status && ok(o.status, o) ? o : undefined;
      },
      timeoutMs,
    );

  const metric = async (
    registry: Registry,
    name: string,
    labels: Record<string, string>,
  ): Promise<number | undefined> => {
    const m = await registry.getSingleMetric(name)?.get();
    return m?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value;
  };

  it('creates a schema-valid CardanoForgeCluster and reports the initial status (doc: "after creation")', async () => {
    const r = await start({ poolId: POOL_A, region: 'us-east-1' });
    expect(r.clusterName).toBe('mainnet-pool1qqqqq-us-east-1');
    expect(r.leaseName).toBe('cardano-leader-mainnet-pool1qqqqq');
    const created = await get(r.clusterName);
    expect(created.spec).toMatchObject({
      network: { name: 'mainnet', magic: 764824073 },
      pool: { id: POOL_A, name: 'Test Pool', ticker: 'TEST' },
      region: 'us-east-1',
      forgeState: 'Priority-based',
      priority: 100,
      application: { type: 'block-producer', environment: 'testing' },
    });
    expect((created.spec.pool as Record<string, unknown>).idHex).toBeUndefined(); // invalid, so omitted (G10)
    expect(created.metadata.labels).toMatchObject({
      'cardano.io/pool-id': POOL_A,
      'cardano.io/region': 'us-east-1',
    });
    expect(r.manager.snapshot()).toMatchObject({
      enabled: true,
      forgingAllowed: true,
      effectiveState: 'Priority-based',
      effectivePriority: 100,
      stale: false,
      generation: 1,
    });

    // A follower never writes status.
    await sleepFor(500);
    expect((await get(r.clusterName)).status).toBeUndefined();

    await lead(r);
    // Leadership is written first and whether it forges a moment later: wait for both.
    const o = await statusWhere(
      r.clusterName,
      (s) => s.activeLeader === r.podName && s.forgingEnabled !== undefined,
    );
    expect(o.status).toMatchObject({
      effectiveState: 'Priority-based',
      effectivePriority: 100,
      reason: 'healthy_operation',
      activeLeader: r.podName,
      forgingEnabled: true,
      observedGeneration: 1,
      override: { active: false, expired: false },
    });
    expect(conditionOf(o.status, 'Ready')).toMatchObject({ status: 'True', reason: 'Forging' });
    expect(conditionOf(o.status, 'LeaderElected')).toMatchObject({ status: 'True', reason: 'LeaderElected' });
    expect(conditionOf(o.status, 'PolicyValid')).toMatchObject({ status: 'True', reason: 'SpecValid' });
    expect(conditionOf(o.status, 'HealthCheckPassing')).toMatchObject({
      status: 'Unknown',
      reason: 'NoProbesConfigured',
    });

    // Written on change only: no heartbeat rewrite while nothing changes (G20).
    const rv = (await api.getNamespacedCustomObject({
      ...CRD,
      plural: PLURAL,
      namespace: ns.name,
      name: r.clusterName,
    })) as { metadata: { resourceVersion: string } };
    await sleepFor(1500);
    const rv2 = (await api.getNamespacedCustomObject({
      ...CRD,
      plural: PLURAL,
      namespace: ns.name,
      name: r.clusterName,
    })) as { metadata: { resourceVersion: string } };
    expect(rv2.metadata.resourceVersion).toBe(rv.metadata.resourceVersion);
  });

  it('forgeState Disabled stops forging within one interval; followers never blank activeLeader (doc: "Disabled")', async () => {
    const leader = await start({ poolId: POOL_A, region: 'eu-west-1', podName: 'bp-0' });
    const follower = await start({ poolId: POOL_A, region: 'eu-west-1', podName: 'bp-1' });
    await lead(leader);
    await statusWhere(leader.clusterName, (s) => s.activeLeader === 'bp-0' && s.forgingEnabled !== undefined);
    const readyBefore = conditionOf(
      (await get(leader.clusterName)).status,
      'PolicyValid',
    )!.lastTransitionTime;

    const editedAt = performance.now();
    await patchSpec(leader.clusterName, { forgeState: 'Disabled' });
    await waitFor(
      'leader sees Disabled',
      () => !leader.manager.snapshot().forgingAllowed || undefined,
      ONE_INTERVAL_MS,
    );
    await waitFor(
      'follower sees Disabled',
      () => !follower.manager.snapshot().forgingAllowed || undefined,
      ONE_INTERVAL_MS,
    );
    expect(performance.now() - editedAt).toBeLessThan(ONE_INTERVAL_MS);
    expect(leader.notifications.at(-1)).toMatchObject({
      forgingAllowed: false,
      effectiveState: 'Disabled',
      reason: 'cluster_disabled',
      generation: 2,
    });
    expect(
      await metric(leader.registry, 'cardano_cluster_forge_enabled', { cluster: leader.clusterName }),
    ).toBe(0);

    const o = await statusWhere(leader.clusterName, (s) => s.observedGeneration === 2);
    expect(o.status).toMatchObject({
      effectiveState: 'Disabled',
      reason: 'cluster_disabled',
      activeLeader: 'bp-0',
      forgingEnabled: true,
    });
    expect(conditionOf(o.status, 'Ready')).toMatchObject({ status: 'False', reason: 'ForgingNotAllowed' });
    // PolicyValid did not flip, so its lastTransitionTime did not move (G9).
    expect(conditionOf(o.status, 'PolicyValid')!.lastTransitionTime).toBe(readyBefore);

    // The loop revokes and reports; then the status says the leader does not forge.
    await leader.manager.reportLeadership({ activeLeader: 'bp-0', forgingEnabled: false, isLeader: true });
    const after = await statusWhere(leader.clusterName, (s) => s.forgingEnabled === false);
    expect(after.status?.activeLeader).toBe('bp-0');

    await patchSpec(leader.clusterName, { forgeState: 'Priority-based' });
    await waitFor(
      'follower allowed again',
      () => follower.manager.snapshot().forgingAllowed || undefined,
      ONE_INTERVAL_MS,
    );
    await waitFor(
      'leader allowed again',
      () => leader.manager.snapshot().forgingAllowed || undefined,
      ONE_INTERVAL_MS,
    );
    await waitFor(
      'leader metric',
      async () =>
        (await metric(leader.registry, 'cardano_cluster_forge_enabled', { cluster: leader.clusterName })) ===
          1 || undefined,
      ONE_INTERVAL_MS,
    );
    expect(
      await metric(follower.registry, 'cardano_cluster_forge_enabled', { cluster: leader.clusterName }),
    ).toBe(0);
    // Still the leader's name after all those spec changes (G7).
    expect((await get(leader.clusterName)).status?.activeLeader).toBe('bp-0');
  });

  it('an override without expiresAt holds until it is disabled (G3) (doc: "override")', async () => {
    const r = await start({ poolId: POOL_A, region: 'ap-south-1' });
    await lead(r);
    await patchSpec(r.clusterName, {
      override: { enabled: true, forceState: 'Disabled', reason: 'maintenance' },
    });
    await waitFor(
      'override active',
      () => !r.manager.snapshot().forgingAllowed || undefined,
      ONE_INTERVAL_MS,
    );
    expect(r.manager.snapshot()).toMatchObject({
      reason: 'manual_override',
      effectiveState: 'Disabled',
      override: { active: true, expired: false },
    });
    const o = await statusWhere(r.clusterName, (s) => s.override?.active === true);
    expect(o.status).toMatchObject({ effectiveState: 'Disabled', reason: 'manual_override' });
    expect(o.status?.override?.message).toContain('until override.enabled is set to false: maintenance');

    await patchSpec(r.clusterName, { override: { enabled: false } });
    await waitFor('override off', () => r.manager.snapshot().forgingAllowed || undefined, ONE_INTERVAL_MS);
    const off = await statusWhere(
      r.clusterName,
      (s) => s.override?.active === false && s.effectiveState === 'Priority-based',
    );
    expect(conditionOf(off.status, 'Ready')).toMatchObject({ status: 'True' });
  });

  it('an override with expiresAt applies until it passes, then is ignored and reported (doc: "expired override")', async () => {
    const r = await start({ poolId: POOL_A, region: 'sa-east-1' });
    await lead(r);
    const expiresAt = new Date(Date.now() + 5_000).toISOString();
    await patchSpec(r.clusterName, {
      override: { enabled: true, forceState: 'Disabled', forcePriority: 5, expiresAt },
    });
    await waitFor(
      'override active',
      () => !r.manager.snapshot().forgingAllowed || undefined,
      ONE_INTERVAL_MS,
    );
    expect(r.manager.snapshot().effectivePriority).toBe(5);
    await waitFor('override expired', () => r.manager.snapshot().forgingAllowed || undefined, 10_000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    expect(r.manager.snapshot()).toMatchObject({
      effectiveState: 'Priority-based',
      effectivePriority: 100,
      override: { active: false, expired: true },
    });
    const o = await statusWhere(r.clusterName, (s) => s.override?.expired === true);
    expect(o.status).toMatchObject({ effectiveState: 'Priority-based', effectivePriority: 100 });
    expect(conditionOf(o.status, 'PolicyValid')).toMatchObject({ status: 'False', reason: 'SpecProblems' });
    expect(o.status?.message).toContain('problems: spec.override expired');
  });

  it('bad CR edits the schema lets through are reported in status, never crash (doc: "bad edits")', async () => {
    const r = await start({ poolId: POOL_A, region: 'af-south-1' });
    await lead(r);
    await patchSpec(r.clusterName, { override: { enabled: true, reason: 'forgot the fields' } });
    let o = await statusWhere(r.clusterName, (s) => conditionOf(s, 'PolicyValid')?.status === 'False');
    expect(conditionOf(o.status, 'PolicyValid')?.message).toContain(
      'sets neither forceState nor forcePriority',
    );
    expect(r.manager.snapshot().forgingAllowed).toBe(true);

    await patchSpec(r.clusterName, { override: { enabled: true, forceState: 'Enabled', forcePriority: 3 } });
    o = await statusWhere(r.clusterName, (s) =>
      (conditionOf(s, 'PolicyValid')?.message ?? '').includes('no effect'),
    );
    expect(o.status).toMatchObject({
      effectiveState: 'Enabled',
      effectivePriority: 3,
      reason: 'manual_override',
    });

    await patchSpec(r.clusterName, {
      override: {
        enabled: true,
        forceState: 'Disabled',
        forcePriority: null,
        expiresAt: '2000-01-01T00:00:00Z',
      },
    });
    o = await statusWhere(r.clusterName, (s) => s.override?.expired === true);
    expect(o.status?.effectiveState).toBe('Priority-based');
    expect(r.manager.snapshot()).toMatchObject({ forgingAllowed: true, stale: false });

    await patchSpec(r.clusterName, {
      override: { enabled: false, forceState: null, expiresAt: null, reason: null },
    });
    o = await statusWhere(r.clusterName, (s) => conditionOf(s, 'PolicyValid')?.status === 'True');
    expect(o.status?.override).toMatchObject({ active: false, expired: false });
  });

  it('a failing health probe raises the effective priority, status and metrics, with recovery hysteresis (doc: "health")', async () => {
    const r = await start({ poolId: POOL_A, region: 'us-west-2', probes: true });
    // Followers do not probe.
    await sleepFor(1500);
    expect(r.probe.calls).toBe(0);
    await lead(r);
    let o = await statusWhere(r.clusterName, (s) => s.healthStatus?.healthy === true);
    expect(conditionOf(o.status, 'HealthCheckPassing')).toMatchObject({
      status: 'True',
      reason: 'ProbesHealthy',
    });
    const cluster = { cluster: r.clusterName };
    expect(await metric(r.registry, 'cardano_cluster_health_check_success', cluster)).toBe(1);
    expect(
      await metric(r.registry, 'cardano_cluster_health_check_last_success_timestamp_seconds', cluster),
    ).toBeGreaterThan(Date.now() / 1000 - 10);

    r.probe.healthy = false;
    await waitFor(
      'intermittent',
      () => r.manager.snapshot().effectivePriority === 110 || undefined,
      ONE_INTERVAL_MS,
    );
    await waitFor(
      'degraded',
      () => r.manager.snapshot().effectivePriority === 200 || undefined,
      ONE_INTERVAL_MS,
    );
    expect(r.manager.snapshot()).toMatchObject({ forgingAllowed: true, reason: 'health_degraded' }); // priority alone changes nothing here
    o = await statusWhere(r.clusterName, (s) => s.effectivePriority === 200);
    expect(o.status).toMatchObject({ reason: 'health_degraded', healthStatus: { healthy: false } });
    expect(o.status!.healthStatus!.consecutiveFailures).toBeGreaterThanOrEqual(2);
    expect(conditionOf(o.status, 'HealthCheckPassing')).toMatchObject({
      status: 'False',
      reason: 'HealthDegraded',
    });
    expect(await metric(r.registry, 'cardano_cluster_health_check_success', cluster)).toBe(0);
    expect(
      await metric(r.registry, 'cardano_cluster_health_check_consecutive_failures', cluster),
    ).toBeGreaterThanOrEqual(2);
    expect(await metric(r.registry, 'cardano_cluster_forge_priority', cluster)).toBe(200);

    r.probe.healthy = true;
    const recoveringSince = performance.now();
    await waitFor(
      'recovered',
      () => r.manager.snapshot().effectivePriority === 100 || undefined,
      ONE_INTERVAL_MS * 2,
    );
    // recoveryThreshold 2: at least one more interval than a single success would need.
    expect(performance.now() - recoveringSince).toBeGreaterThan(HEALTH_INTERVAL_S * 1000 * 0.9);
    o = await statusWhere(
      r.clusterName,
      (s) => s.healthStatus?.healthy === true && s.effectivePriority === 100,
    );
    expect(o.status?.healthStatus?.consecutiveFailures).toBe(0);
    const durations = await r.registry
      .getSingleMetric('cardano_cluster_health_check_duration_seconds')
      ?.get();
    expect(
      durations?.values.find(
        (v) =>
          (v as { metricName?: string }).metricName?.endsWith('_count') && v.labels.cluster === r.clusterName,
      )?.value,
    ).toBeGreaterThan(3);

    // Losing the lease stops the probes.
    r.manager.setLocalLeader(false);
    const calls = r.probe.calls;
    await sleepFor(2000);
    expect(r.probe.calls).toBeLessThanOrEqual(calls + 1);
  });

  it('re-creates a deleted CardanoForgeCluster (G22) (doc: "deleted")', async () => {
    const r = await start({ poolId: POOL_A, region: 'me-south-1' });
    await lead(r);
    const before = await statusWhere(r.clusterName, (s) => s.activeLeader === r.podName);
    await api.deleteNamespacedCustomObject({
      ...CRD,
      plural: PLURAL,
      namespace: ns.name,
      name: r.clusterName,
    });
    const again = await waitFor(
      're-created',
      async () => {
        const o = await get(r.clusterName).catch(() => undefined);
        return o && o.metadata.uid !== before.metadata.uid ? o : undefined;
      },
      ONE_INTERVAL_MS * 2,
    );
    expect(again.spec.forgeState).toBe('Priority-based');
    const o = await statusWhere(
      r.clusterName,
      (s, obj) => obj.metadata.uid === again.metadata.uid && s.activeLeader === r.podName,
    );
    expect(o.status).toMatchObject({ effectiveState: 'Priority-based', observedGeneration: 1 });
    expect(r.manager.snapshot()).toMatchObject({ forgingAllowed: true, stale: false });
  });

  it('a deleted CardanoForgeCluster that was Disabled (with an override) comes back Disabled, never enabled', async () => {
    const r = await start({ poolId: POOL_B, region: 'me-central-1' });
    await lead(r);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    await patchSpec(r.clusterName, {
      forgeState: 'Disabled',
      override: { enabled: true, forceState: 'Disabled', reason: 'maintenance', expiresAt: until },
    });
    await waitFor('disabled', () => (r.manager.snapshot().effectiveState === 'Disabled' ? true : undefined));
    const before = await get(r.clusterName);
    const seenFrom = r.notifications.length;
    await api.deleteNamespacedCustomObject({
      ...CRD,
      plural: PLURAL,
      namespace: ns.name,
      name: r.clusterName,
    });
    const again = await waitFor(
      're-created',
      async () => {
        const o = await get(r.clusterName).catch(() => undefined);
        return o && o.metadata.uid !== before.metadata.uid ? o : undefined;
      },
      ONE_INTERVAL_MS * 2,
    );
    expect(again.spec).toMatchObject({
      forgeState: 'Disabled',
      override: { enabled: true, forceState: 'Disabled', reason: 'maintenance' },
    });
    await statusWhere(
      r.clusterName,
      (s, obj) => obj.metadata.uid === again.metadata.uid && s.effectiveState === 'Disabled',
    );
    await sleepFor(1000);
    // Not for an instant did the policy allow forging after the deletion.
    expect(r.notifications.slice(seenFrom).filter((n) => n.forgingAllowed)).toEqual([]);
    expect(r.manager.snapshot()).toMatchObject({ forgingAllowed: false, effectiveState: 'Disabled' });
  });

  it('says plainly that the CRD is not installed, and fails closed', async () => {
    const r = await start({
      poolId: POOL_A,
      region: 'no-crd',
      crd: { group: 'not-installed.example.com', version: 'v1' },
    });
    await waitFor('read attempted', () => (r.manager.snapshot().message.includes('CRD') ? true : undefined));
    const s = r.manager.snapshot();
    expect(s).toMatchObject({ forgingAllowed: false });
    expect(s.message).toContain(
      'GET cardanoforgeclusters/' +
        r.clusterName +
        ': the CardanoForgeCluster CRD (cardanoforgeclusters.not-installed.example.com) is not installed: kubectl apply -f deploy/crds/',
    );
    expect(s.message).not.toMatch(/HTTP-Code|Headers|page not found/);
  });

  it('fails closed, with the API message, when the object cannot be created (G10)', async () => {
    const r = await start({ poolId: POOL_A, region: 'nowhere', namespace: 'no-such-namespace-for-forge' });
    const s = r.manager.snapshot();
    expect(s).toMatchObject({ enabled: true, forgingAllowed: false, reason: 'ClusterCreateFailed' });
    expect(s.message).toMatch(/not ?found/i);
  });

  it('two pools in one namespace never interfere', async () => {
    const registry = new Registry();
    const a = await start({ poolId: POOL_A, region: 'shared', registry, podName: 'a-0' });
    const b = await start({ poolId: POOL_B, region: 'shared', registry, podName: 'b-0' });
    expect(a.clusterName).not.toBe(b.clusterName);
    expect(a.leaseName).not.toBe(b.leaseName);
    await lead(a);
    await lead(b);
    await patchSpec(a.clusterName, { forgeState: 'Disabled' });
    await waitFor('a disabled', () => !a.manager.snapshot().forgingAllowed || undefined, ONE_INTERVAL_MS);
    await sleepFor(1000);
    expect(b.manager.snapshot()).toMatchObject({
      forgingAllowed: true,
      effectiveState: 'Priority-based',
      generation: 1,
    });
    const ob = await statusWhere(b.clusterName, (s) => s.activeLeader === 'b-0');
    expect(ob.status?.effectiveState).toBe('Priority-based');
    const oa = await statusWhere(a.clusterName, (s) => s.effectiveState === 'Disabled');
    expect(oa.status?.activeLeader).toBe('a-0');
    expect(await metric(registry, 'cardano_cluster_forge_enabled', { cluster: a.clusterName })).toBe(0);
    expect(await metric(registry, 'cardano_cluster_forge_enabled', { cluster: b.clusterName })).toBe(1);
  });
});

describe('cluster policy when the API server goes away', () => {
  let plane: ControlPlane | undefined;
  let manager: ClusterPolicySource | undefined;
  const controller = new AbortController();

  beforeAll(async () => {
    plane = await startControlPlane({ name: 'cluster-policy-stale' });
  });
  afterAll(async () => {
    controller.abort();
    await manager?.stop();
    await plane?.stop();
  });

  it('stops forging (PolicyStale) once the policy is unconfirmed for longer than the bound, and recovers', async () => {
    const kc = plane!.kubeConfig();
    const names = computeNames({ network: 'preprod', poolId: POOL_A, region: 'lab' });
    const staleAfterSeconds = 6;
    manager = createClusterManager(
      {
        kubeConfig: kc,
        clock,
        logger: silent,
        registry: new Registry(),
        priorityStrategy: strategy,
        healthProbes: [],
      },
      {
        namespace: 'default',
        names,
        pool: { id: POOL_A },
        network: { name: 'preprod', magic: 1 },
        region: 'lab',
        environment: 'testing',
        basePriority: 100,
        applicationType: 'block-producer',
        policyStaleAfterSeconds: staleAfterSeconds,
        healthCheck: { intervalSeconds: 5, timeoutSeconds: 1, failureThreshold: 3, recoveryThreshold: 1 },
        crd: CRD,
        podName: 'stale-0',
        tickMs: 200,
      },
    );
    await manager.start(controller.signal);
    manager.setLocalLeader(true);
    await manager.reportLeadership({ activeLeader: 'stale-0', forgingEnabled: true, isLeader: true });
    expect(manager.snapshot()).toMatchObject({ forgingAllowed: true, stale: false });

    const stoppedAt = performance.now();
    await plane!.stopApiserver();
    const stale = await waitFor(
      'PolicyStale',
      () => {
        const s = manager!.snapshot();
        return s.reason === 'PolicyStale' ? s : undefined;
      },
      30_000,
    );
    const elapsed = (performance.now() - stoppedAt) / 1000;
    expect(stale.forgingAllowed).toBe(false);
    expect(stale.stale).toBe(true);
    // Never before the last confirmation + bound, and not much later than the bound plus a resync period.
    expect(elapsed).toBeLessThan(staleAfterSeconds + staleAfterSeconds / 3 + 3);

    await plane!.startApiserver();
    await waitFor('policy confirmed again', () => manager!.snapshot().forgingAllowed || undefined, 30_000);
    expect(manager.snapshot()).toMatchObject({ stale: false, reason: 'healthy_operation' });
    const api = kc.makeApiClient(CustomObjectsApi);
    const o = await waitFor(
      'status written after recovery',
      async () => {
        const obj = (await api.getNamespacedCustomObject({
          ...CRD,
          plural: PLURAL,
          namespace: 'default',
          name: names.clusterName,
        })) as Cfc;
        return conditionOf(obj.status, 'Ready')?.status === 'True' ? obj : undefined;
      },
      20_000,
    );
    expect(o.status).toMatchObject({ activeLeader: 'stale-0', effectiveState: 'Priority-based' });
  });
});
