// Kubernetes Events on the real kube-apiserver: what the recorder writes is what `kubectl describe`
// lists (core/v1 Events about the pod, by uid), repeats aggregate into a count, the rate limit
// holds, and real forge-manager processes tell a handoff through them.
import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import {
  createEventRecorder,
  createKubeEventSink,
  type Clock,
  type ForgeEvent,
} from '@cardano-forge/framework';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestNamespace, testKubeConfig, type TestNamespace } from '../support/cluster.ts';
import { waitFor } from '../support/forge-pod.ts';
import { cleanupPools, startPool, waitForSingleForger } from '../support/forge-pool.ts';

const clock: Clock = {
  monotonicMs: () => performance.now(),
  wallNow: () => new Date(),
  sleep: (ms, signal) => sleepFor(Math.max(0, ms), undefined, signal ? { signal } : undefined),
};
const silent = pino({ level: 'silent' });

let kc: KubeConfig;
let ns: TestNamespace;
let podUid: string;

async function eventsAbout(namespace: string, name: string): Promise<CoreV1Event[]> {
  const list = await kc
    .makeApiClient(CoreV1Api)
    .listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return list.items;
}

function recorderFor(podName: string, options: { burst: number; refillMs: number }, uid?: string) {
  return createEventRecorder(
    {
      clock,
      logger: silent,
      sink: createKubeEventSink(kc, {
        namespace: ns.name,
        involvedObject: { kind: 'Pod', name: podName, apiVersion: 'v1', uid },
        component: 'cardano-forge',
        instance: podName,
        timeoutMs: 10_000,
      }),
    },
    { aggregationWindowMs: 600_000, ...options },
  );
}

beforeAll(async () => {
  kc = testKubeConfig();
  ns = await createTestNamespace(kc, 'events');
  // A Pod object (never scheduled: there is no scheduler) so the events can carry its uid.
  const pod = await kc.makeApiClient(CoreV1Api).createNamespacedPod({
    namespace: ns.name,
    body: { metadata: { name: 'bp-0' }, spec: { containers: [{ name: 'node', image: 'cardano-node' }] } },
  });
  podUid = pod.metadata!.uid!;
});

afterAll(async () => {
  await ns?.cleanup();
});

afterEach(cleanupPools);

describe('Kubernetes Events', () => {
  it('are core/v1 Events about the pod (with its uid), and repeats aggregate into a count', async () => {
    const recorder = recorderFor('bp-0', { burst: 25, refillMs: 10_000 });
    const gained: ForgeEvent = {
      type: 'Normal',
      reason: 'LeadershipGained',
      message: 'holds lease l (transition 1)',
    };
    const failed: ForgeEvent = {
      type: 'Warning',
      reason: 'RevocationFailed',
      message: 'could not withdraw: EACCES',
    };
    recorder.record(gained);
    for (let i = 0; i < 4; i++) recorder.record(failed);
    await recorder.flush();
    const events = await eventsAbout(ns.name, 'bp-0');
    expect(events.map((e) => [e.reason, e.type, e.count]).sort()).toEqual([
      ['LeadershipGained', 'Normal', 1],
      ['RevocationFailed', 'Warning', 4],
    ]);
    for (const e of events) {
      expect(e.involvedObject).toMatchObject({ kind: 'Pod', name: 'bp-0', uid: podUid, namespace: ns.name });
      expect(e.source).toMatchObject({ component: 'cardano-forge', host: 'bp-0' });
    }
    // What `kubectl describe pod` selects on.
    const byUid = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({
      namespace: ns.name,
      fieldSelector: `involvedObject.uid=${podUid},involvedObject.kind=Pod`,
    });
    expect(byUid.items).toHaveLength(2);
  });

  it('carry the uid given by the downward API (POD_UID) without reading the pod', async () => {
    const recorder = recorderFor('bp-given', { burst: 5, refillMs: 10_000 }, '0b5e1d2c-uid-from-env');
    recorder.record({ type: 'Normal', reason: 'ForgingEnabled', message: 'the node forges' });
    await recorder.flush();
    const [event] = await eventsAbout(ns.name, 'bp-given');
    expect(event?.involvedObject.uid).toBe('0b5e1d2c-uid-from-env');
  });

  it('are rate-limited: a burst of distinct events writes only as many objects as the bucket holds', async () => {
    const recorder = recorderFor('bp-rate', { burst: 3, refillMs: 1_000 });
    for (let i = 0; i < 8; i++)
      recorder.record({ type: 'Warning', reason: 'HealthDegraded', message: `probe round ${i} failed` });
    await recorder.flush();
    expect(await eventsAbout(ns.name, 'bp-rate')).toHaveLength(3);
    await sleepFor(1_100);
    recorder.record({ type: 'Normal', reason: 'HealthRecovered', message: 'probes healthy' });
    await recorder.flush();
    const events = await eventsAbout(ns.name, 'bp-rate');
    expect(events).toHaveLength(4);
    expect(events.filter((e) => e.reason === 'HealthRecovered')).toHaveLength(1);
  });

  it('tell a planned handoff between real forge-manager processes', async () => {
    const pool = await startPool(testKubeConfig(), inject('forgeKubeconfig'), { size: 2 });
    const leader = await waitForSingleForger(pool);
    const reasonsOf = async (pod: string) => (await eventsAbout(pool.namespace, pod)).map((e) => e.reason);
    await waitFor(
      'leader events',
      async () => {
        const r = await reasonsOf(leader.options.name);
        return r.includes('LeadershipGained') && r.includes('ForgingEnabled') ? r : null;
      },
      15_000,
    );
    expect(await leader.stopSidecar()).toBe(0);
    const next = await waitForSingleForger(pool, leader, 15_000);
    const old = await reasonsOf(leader.options.name);
    expect(old).toEqual(expect.arrayContaining(['HandoffStarted', 'HandoffCompleted', 'ForgingDisabled']));
    await waitFor(
      'new leader events',
      async () => {
        const r = await reasonsOf(next.options.name);
        return r.includes('LeadershipGained') && r.includes('ForgingEnabled') ? r : null;
      },
      15_000,
    );
  });
});
