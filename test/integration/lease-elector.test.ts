// The kubernetes-lease elector against a REAL kube-apiserver + etcd (no fakes): CAS on
// resourceVersion, MicroTime validation, watches, an apiserver outage.
// Timings: leaseDuration 3 s, renewDeadline 2 s, retryPeriod 0.5 s.
import { CoordinationV1Api, KubeConfig, V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import {
  createKubernetesLeaseElector,
  kubernetesLeasePlugin,
  LeaseReason,
  type LeaderElector,
  type LeadershipSnapshot,
} from '@cardano-forge/framework';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../controlplane/index.ts';
import { createTestNamespace, testKubeConfig, type TestNamespace } from '../support/cluster.ts';
import { makeTestPluginContext, realClock, type TestPluginContext } from '../support/plugin-context.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

const TIMING = { leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.5 } as const;
const LEASE_MS = TIMING.leaseDurationSeconds * 1000;
const RENEW_DEADLINE_MS = TIMING.renewDeadlineSeconds * 1000;
const LEASE_NAME = 'forge-leader';
/** The Python sidecar's lease (it used this name even with POOL_ID set, G12). */
const LEGACY_LEASE = 'cardano-node-leader';
/** The takeover margin for a 3 s (and a 4 s) lease: max(500 ms, 2 × 1 % × LD). */
const TAKEOVER_MARGIN_MS = 500;
const logger = pino({ level: process.env['FORGE_TEST_LOG'] ?? 'silent' });

interface Candidate {
  /** The holder identity the elector writes: `<pod name>_<incarnation id>`. */
  readonly identity: string;
  readonly elector: LeaderElector;
  readonly history: Array<{ atMs: number; snapshot: LeadershipSnapshot }>;
  readonly controller: AbortController;
}

const now = (): number => realClock.monotonicMs();
const leads = (c: Candidate, at = now()): boolean => c.elector.snapshot().leaderUntilMs > at;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false,
  timeoutMs: number,
  everyMs = 10,
): Promise<T> {
  const deadline = now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

function makeCandidates(
  kubeConfig: () => KubeConfig,
  namespace: string,
  podNames: string[],
  started: Candidate[],
  extra: { legacyLeaseName?: string } = {},
): Candidate[] {
  return podNames.map((podName) => {
    const elector = createKubernetesLeaseElector(
      {
        kubeConfig: kubeConfig(),
        clock: realClock,
        logger: logger.child({ who: podName }),
        registry: new Registry(),
      },
      { namespace, identity: podName, leaseName: LEASE_NAME, ...TIMING, ...extra },
    );
    const history: Candidate['history'] = [];
    elector.subscribe((snapshot) => history.push({ atMs: now(), snapshot }));
    const candidate = { identity: elector.identity, elector, history, controller: new AbortController() };
    started.push(candidate);
    return candidate;
  });
}

async function startAll(cs: Candidate[]): Promise<void> {
  for (const c of cs) await c.elector.start(c.controller.signal);
}

async function stopAll(cs: Candidate[]): Promise<void> {
  for (const c of cs.splice(0)) {
    c.controller.abort();
    await c.elector.stop();
  }
}

/** Samples every few ms; fails on any instant with two leaders. Returns the leader per sample. */
async function sampleLeaders(
  cs: Candidate[],
  durationMs: number,
  everyMs = 5,
): Promise<Array<string | null>> {
  const seen: Array<string | null> = [];
  const end = now() + durationMs;
  while (now() < end) {
    const at = now();
    const leaders = cs.filter((c) => leads(c, at)).map((c) => c.identity);
    expect(leaders.length, `two leaders at once: ${leaders.join(', ')}`).toBeLessThanOrEqual(1);
    seen.push(leaders[0] ?? null);
    await sleep(everyMs);
  }
  return seen;
}

/** The send time of the acquire write that made `c` leader after `afterMs` (leaderUntil − renewDeadline). */
function firstAcquireSendAfter(c: Candidate, afterMs: number): number | undefined {
  const entry = c.history.find((h) => h.atMs >= afterMs && h.snapshot.leaderUntilMs > 0);
  return entry === undefined ? undefined : entry.snapshot.leaderUntilMs - RENEW_DEADLINE_MS;
}

describe('kubernetes-lease on the shared real apiserver', () => {
  let ns: TestNamespace;
  let kc: KubeConfig;
  const started: Candidate[] = [];

  beforeAll(async () => {
    kc = testKubeConfig();
    ns = await createTestNamespace(kc, 'lease-elector');
  });
  afterEach(async () => {
    await stopAll(started);
    // Each test starts from a vacant lease.
    for (const name of [LEASE_NAME, LEGACY_LEASE])
      await kc
        .makeApiClient(CoordinationV1Api)
        .deleteNamespacedLease({ name, namespace: ns.name })
        .catch(() => undefined);
  });
  afterAll(async () => {
    await ns?.cleanup();
  });

  it('three electors: exactly one leader at any time, and it is the Lease holder', async () => {
    const cs = makeCandidates(testKubeConfig, ns.name, ['pod-a', 'pod-b', 'pod-c'], started);
    await startAll(cs);
    const first = await waitFor('a first leader', () => cs.find((c) => leads(c)), 10_000);
    const seen = await sampleLeaders(cs, 5_000);
    // Nobody lost it: the same leader renewed throughout.
    expect(seen.filter((s) => s !== first.identity)).toEqual([]);
    const lease = await kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: LEASE_NAME, namespace: ns.name });
    expect(lease.spec?.holderIdentity).toBe(first.identity);
    expect(lease.spec?.leaseDurationSeconds).toBe(3);
    expect(String(lease.spec?.renewTime)).toMatch(/\.\d{6}Z$/);
    // Renewals do not send managedFields back (lease-spec.ts); the server keeps its own.
    expect(lease.metadata?.managedFields?.length ?? 0).toBeGreaterThan(0);
    for (const c of cs.filter((x) => x !== first)) expect(c.elector.snapshot().holder).toBe(first.identity);
    console.log(`[lease] ${seen.length} samples over 5 s, always exactly one leader (${first.identity})`);
  });

  it('release hands over to a watching standby in well under 1 s, three times in a row', async () => {
    const cs = makeCandidates(testKubeConfig, ns.name, ['pod-a', 'pod-b', 'pod-c'], started);
    await startAll(cs);
    const handoffs: Array<{ fromReleaseStart: number; fromReleaseDone: number }> = [];
    let leader = await waitFor('a first leader', () => cs.find((c) => leads(c)), 10_000);
    // The first leader created the Lease, so it holds a takeover grace; a release inside it is
    // withheld (a holder before it may still be fencing). Hand over only after it.
    const first = leader;
    await waitFor(
      'the first leader past its takeover grace',
      () => now() >= (first.elector.snapshot().actAfterMs ?? 0) || undefined,
      30_000,
    );
    for (let round = 0; round < 3; round++) {
      await sleep(700); // let standbys settle into their poll sleep (so only the watch can be fast)
      const releaseStart = now();
      leader.elector.setCandidacy(false, 'test handover');
      expect(leads(leader)).toBe(false);
      await leader.elector.release(new AbortController().signal);
      const releaseDone = now();
      expect(leader.elector.snapshot().reason).toBe(LeaseReason.Released);
      const previous = leader;
      const next = await waitFor(
        'a standby to lead',
        () => cs.find((c) => c !== previous && leads(c)),
        5_000,
        2,
      );
      const ledAt = now();
      handoffs.push({ fromReleaseStart: ledAt - releaseStart, fromReleaseDone: ledAt - releaseDone });
      expect(next.elector.snapshot().acquiredFromRelease).toBe(true);
      previous.elector.setCandidacy(true, 'test: back to standby');
      leader = next;
    }
    console.log(
      `[lease] release handoff (ms, from release() start / from release() done): ${handoffs
        .map((h) => `${h.fromReleaseStart.toFixed(0)}/${h.fromReleaseDone.toFixed(0)}`)
        .join(', ')}`,
    );
    for (const h of handoffs) expect(h.fromReleaseStart).toBeLessThan(1000);
  });

  it('a leader that stops renewing is replaced after ≈ leaseDuration, never before its leaderUntil', async () => {
    const cs = makeCandidates(testKubeConfig, ns.name, ['pod-a', 'pod-b'], started);
    await startAll(cs);
    const old = await waitFor('a first leader', () => cs.find((c) => leads(c)), 10_000);
    const standby = cs.find((c) => c !== old)!;
    await sleep(1200);
    const lastOldSnapshot = old.elector.snapshot();
    const stoppedAt = now();
    await old.elector.stop(); // no release: the Lease still names it
    expect(leads(old)).toBe(false);
    await waitFor('the standby to take over', () => leads(standby), LEASE_MS + 5_000, 5);
    const newSend = firstAcquireSendAfter(standby, stoppedAt)!;
    const takeoverMs = newSend - stoppedAt;
    console.log(
      `[lease] takeover after stop without release: ${takeoverMs.toFixed(0)} ms after stop; ` +
        `old leaderUntil passed ${(newSend - lastOldSnapshot.leaderUntilMs).toFixed(0)} ms before the new acquire was sent`,
    );
    expect(newSend).toBeGreaterThan(lastOldSnapshot.leaderUntilMs);
    // The old leader's last renewal was at most one retryPeriod (+ latency) before the stop.
    expect(takeoverMs).toBeGreaterThanOrEqual(LEASE_MS - 700);
    expect(takeoverMs).toBeLessThan(LEASE_MS + 2.2 * 500 + 1000);
    expect(standby.elector.snapshot().acquiredFromRelease).toBe(false);
    expect(standby.elector.snapshot().transitions).toBe(lastOldSnapshot.transitions + 1);
  });

  it('hand-edited nonsense in the Lease: no crash, reported, election recovers', async () => {
    const cs = makeCandidates(testKubeConfig, ns.name, ['pod-a', 'pod-b'], started);
    await startAll(cs);
    const first = await waitFor('a first leader', () => cs.find((c) => leads(c)), 10_000);
    const coordination = kc.makeApiClient(CoordinationV1Api);

    // What the apiserver refuses (leaseDurationSeconds 0) never reaches the electors; record it.
    const current = await coordination.readNamespacedLease({ name: LEASE_NAME, namespace: ns.name });
    const zero: V1Lease = { ...current, spec: { ...current.spec, leaseDurationSeconds: 0 } };
    const refused = await coordination
      .replaceNamespacedLease({ name: LEASE_NAME, namespace: ns.name, body: zero })
      .then(
        () => 'accepted',
        (e: { code?: number }) => `refused with HTTP ${e.code}`,
      );
    console.log(`[lease] apiserver on leaseDurationSeconds 0: ${refused}`);

    // What it accepts: a foreign holder with no duration and no times.
    let edited = false;
    for (let attempt = 0; attempt < 10 && !edited; attempt++) {
      const lease = await coordination.readNamespacedLease({ name: LEASE_NAME, namespace: ns.name });
      const body: V1Lease = {
        ...lease,
        spec: { holderIdentity: 'ghost-pod', leaseTransitions: lease.spec?.leaseTransitions ?? 0 },
      };
      edited = await coordination.replaceNamespacedLease({ name: LEASE_NAME, namespace: ns.name, body }).then(
        () => true,
        (e: { code?: number }) => (e.code === 409 ? false : Promise.reject(e)),
      );
    }
    expect(edited).toBe(true);
    const editedAt = now();

    // Both report the invalid lease and nobody leads while 'ghost-pod' is presumed alive.
    await waitFor('old leader to notice', () => !leads(first), RENEW_DEADLINE_MS + 1000);
    const invalidSeen = await waitFor(
      'the invalid spec to be reported',
      () => cs.find((c) => c.history.some((h) => h.snapshot.reason === LeaseReason.LeaseSpecInvalid)),
      3_000,
    );
    const report = invalidSeen.history.find(
      (h) => h.snapshot.reason === LeaseReason.LeaseSpecInvalid,
    )!.snapshot;
    expect(report.message).toMatch(/leaseDurationSeconds is missing/);
    expect(report.holder).toBe('ghost-pod');

    const recovered = await waitFor(
      'someone to lead again',
      () => cs.find((c) => leads(c)),
      LEASE_MS + 5_000,
    );
    const recoveredSend = firstAcquireSendAfter(recovered, editedAt)!;
    console.log(
      `[lease] recovered from hand-edited lease ${(recoveredSend - editedAt).toFixed(0)} ms after the edit`,
    );
    // The configured leaseDuration was assumed for the ghost.
    expect(recoveredSend - editedAt).toBeGreaterThanOrEqual(LEASE_MS - 50);
    await sampleLeaders(cs, 1_500);
    const lease = await coordination.readNamespacedLease({ name: LEASE_NAME, namespace: ns.name });
    expect(lease.spec?.holderIdentity).toBe(recovered.identity);
    expect(lease.spec?.leaseDurationSeconds).toBe(3);
  });

  it('works when created through the plugin definition (options validated by its schema)', async () => {
    let ctx: TestPluginContext | undefined;
    try {
      ctx = makeTestPluginContext({
        kubeConfig: testKubeConfig(),
        identity: { podName: 'plugin-pod', namespace: ns.name },
      });
      const parsed = await kubernetesLeasePlugin.optionsSchema['~standard'].validate({
        leaseName: LEASE_NAME,
        ...TIMING,
      });
      if (parsed.issues !== undefined) throw new Error(JSON.stringify(parsed.issues));
      const elector = await kubernetesLeasePlugin.create(ctx, parsed.value);
      const c: Candidate = {
        identity: elector.identity,
        elector,
        history: [],
        controller: new AbortController(),
      };
      started.push(c);
      // Unique per process incarnation, the pod name kept readable.
      expect(elector.identity).toMatch(/^plugin-pod_[0-9a-f-]{36}$/);
      await elector.start(ctx.signal);
      await waitFor('the plugin elector to lead', () => leads(c), 10_000);
      const text = await ctx.metrics.registry.metrics();
      expect(text).toMatch(/cardano_forge_lease_is_leader 1/);
      expect(text).toMatch(/cardano_forge_lease_renew_duration_seconds_count [1-9]/);
    } finally {
      await ctx?.dispose();
    }
  });

  it('two processes with the same pod name (a recreated pod, a pool deployed twice) never lead at once', async () => {
    const cs = makeCandidates(testKubeConfig, ns.name, ['pod-a', 'pod-a'], started);
    await startAll(cs);
    const first = await waitFor('a first leader', () => cs.find((c) => leads(c)), 10_000);
    const seen = await sampleLeaders(cs, 4_000);
    expect(cs[0]!.identity).not.toBe(cs[1]!.identity);
    for (const c of cs) expect(c.identity).toMatch(/^pod-a_[0-9a-f-]{36}$/);
    expect(seen.filter((s) => s !== first.identity)).toEqual([]);
    const other = cs.find((c) => c !== first)!;
    expect(other.elector.snapshot().holder).toBe(first.identity);
    // The first dies without releasing: the other waits out the lease like any other candidate.
    const stoppedAt = now();
    await first.elector.stop();
    await waitFor('the other incarnation to take over', () => leads(other), LEASE_MS + 5_000, 5);
    const takeoverSend = firstAcquireSendAfter(other, stoppedAt)!;
    console.log(
      `[lease] same pod name, other incarnation took over ${(takeoverSend - stoppedAt).toFixed(0)} ms after the stop`,
    );
    expect(takeoverSend - stoppedAt).toBeGreaterThanOrEqual(LEASE_MS - 700);
    expect(other.elector.snapshot().actAfterMs! - stoppedAt).toBeGreaterThanOrEqual(
      LEASE_MS - 700 + TAKEOVER_MARGIN_MS,
    );
  });

  it('renews over a kept-alive connection, not a new TLS connection per request (issue 10)', async () => {
    const server = new URL(kc.getCurrentCluster()!.server);
    let accepted = 0;
    const proxy = await startTcpProxy({
      target: { host: server.hostname, port: Number(server.port) },
      identifyCaller: () => {
        accepted += 1;
        return Promise.resolve('elector');
      },
    });
    try {
      const viaProxy = (): KubeConfig => {
        const k = new KubeConfig();
        k.loadFromOptions({
          clusters: kc.clusters.map((c) => ({ ...c, server: `https://${proxy.address}` })),
          users: kc.users,
          contexts: kc.contexts,
          currentContext: kc.currentContext,
        });
        return k;
      };
      const [a] = makeCandidates(viaProxy, ns.name, ['conn-a'], started);
      await startAll([a!]);
      await waitFor('conn-a to lead', () => leads(a!), 10_000);
      // Becoming leader closes its watch (a leader keeps none), and with it that connection.
      await sleep(500);
      const renewedBefore = a!.history.filter((h) => h.snapshot.reason === LeaseReason.Renewed).length;
      const acceptedBefore = accepted;
      await sleep(4000);
      const renewals =
        a!.history.filter((h) => h.snapshot.reason === LeaseReason.Renewed).length - renewedBefore;
      expect(leads(a!)).toBe(true);
      expect(renewals).toBeGreaterThanOrEqual(5);
      // Every renewal on the connection already open; a new TLS connection per call would open
      // one per renewal.
      expect(accepted - acceptedBefore).toBe(0);
      expect(acceptedBefore).toBeLessThanOrEqual(4);
    } finally {
      await proxy.close();
    }
  });

  it('the API server does not write an update that changes nothing (so every renewal must change renewTime)', async () => {
    const coordination = kc.makeApiClient(CoordinationV1Api);
    const at = new V1MicroTime(Date.now());
    const created = await coordination.createNamespacedLease({
      namespace: ns.name,
      body: {
        metadata: { name: LEASE_NAME },
        spec: {
          holderIdentity: 'x',
          leaseDurationSeconds: 3,
          acquireTime: at,
          renewTime: at,
          leaseTransitions: 0,
        },
      },
    });
    const same = await coordination.replaceNamespacedLease({
      name: LEASE_NAME,
      namespace: ns.name,
      body: { ...created, spec: { ...created.spec, acquireTime: at, renewTime: at } },
    });
    expect(same.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
  });

  it('upgrade from the Python sidecar: its holder of the legacy lease blocks every new pod until it stops renewing and the lease expires', async () => {
    const coordination = kc.makeApiClient(CoordinationV1Api);
    const pythonSeconds = 4;
    // A Python leader: holder = its bare pod name, its own duration, renewed every 1.5 s.
    const pythonLease = (lease: V1Lease | null): V1Lease => {
      const stamp = new V1MicroTime(Date.now());
      return {
        ...(lease ?? { metadata: { name: LEGACY_LEASE } }),
        spec: {
          holderIdentity: 'forge-0',
          leaseDurationSeconds: pythonSeconds,
          acquireTime: lease?.spec?.acquireTime
            ? new V1MicroTime(new Date(lease.spec.acquireTime).getTime())
            : stamp,
          renewTime: stamp,
          leaseTransitions: 0,
        },
      };
    };
    await coordination.createNamespacedLease({ namespace: ns.name, body: pythonLease(null) });
    let lastPythonRenew = now();
    const pythonRenew = async (): Promise<void> => {
      const current = await coordination.readNamespacedLease({ name: LEGACY_LEASE, namespace: ns.name });
      await coordination.replaceNamespacedLease({
        name: LEGACY_LEASE,
        namespace: ns.name,
        body: pythonLease(current),
      });
      lastPythonRenew = now();
    };
    const cs = makeCandidates(testKubeConfig, ns.name, ['forge-1', 'forge-2'], started, {
      legacyLeaseName: LEGACY_LEASE,
    });
    await startAll(cs);
    const blockedUntil = now() + 8_000;
    while (now() < blockedUntil) {
      await pythonRenew();
      const until = now() + 1_500;
      while (now() < until) {
        for (const c of cs)
          expect(leads(c), `${c.identity} led while the Python pod held the legacy lease`).toBe(false);
        await sleep(10);
      }
    }
    // The primary lease was not even taken: new pods take the legacy lease first.
    const primaryLease = await coordination
      .readNamespacedLease({ name: LEASE_NAME, namespace: ns.name })
      .catch(() => null);
    expect(primaryLease?.spec?.holderIdentity ?? '').toBe('');
    expect(cs[0]!.elector.snapshot().holder).toBe('forge-0');

    // The Python pod is gone: exactly one new pod leads, only after its lease expired.
    const stoppedRenewingAt = lastPythonRenew;
    const leader = await waitFor(
      'a new pod to lead',
      () => cs.find((c) => leads(c)),
      pythonSeconds * 1000 + 5_000,
      5,
    );
    const ledAt = now();
    console.log(
      `[lease] legacy lease: new pod led ${(ledAt - stoppedRenewingAt).toFixed(0)} ms after the Python pod's last renewal`,
    );
    expect(ledAt - stoppedRenewingAt).toBeGreaterThanOrEqual(pythonSeconds * 1000);
    expect(leader.elector.snapshot().actAfterMs! - stoppedRenewingAt).toBeGreaterThanOrEqual(
      pythonSeconds * 1000 + TAKEOVER_MARGIN_MS,
    );
    await sampleLeaders(cs, 1_500);
    for (const name of [LEASE_NAME, LEGACY_LEASE]) {
      const lease = await coordination.readNamespacedLease({ name, namespace: ns.name });
      expect(lease.spec?.holderIdentity, name).toBe(leader.identity);
    }
  });
});

describe('kubernetes-lease on a dedicated control plane whose apiserver goes away', () => {
  let controlPlane: ControlPlane | undefined;
  const started: Candidate[] = [];

  beforeAll(async () => {
    controlPlane = await startControlPlane({ name: 'lease-outage', crdDir: null });
  });
  afterEach(async () => {
    await stopAll(started);
  });
  afterAll(async () => {
    await controlPlane?.stop();
  });

  it('the leader steps down by renewDeadline when the apiserver stops; exactly one leader after restart', async () => {
    const cp = controlPlane!;
    const cs = makeCandidates(() => cp.kubeConfig(), 'default', ['pod-a', 'pod-b', 'pod-c'], started);
    await startAll(cs);
    const leader = await waitFor('a first leader', () => cs.find((c) => leads(c)), 10_000);
    await sleep(1000);

    // stopApiserver() waits for the process to exit (graceful shutdown takes a while), so the
    // clock starts when the stop is requested.
    const untilAtStop = leader.elector.snapshot().leaderUntilMs;
    const stoppedAt = now();
    await cp.stopApiserver();
    console.log(`[lease] stopApiserver() took ${(now() - stoppedAt).toFixed(0)} ms`);
    const lostEntry = await waitFor(
      'the leader to report not-leader',
      () => leader.history.find((h) => h.atMs >= stoppedAt && h.snapshot.leaderUntilMs === 0),
      RENEW_DEADLINE_MS + 2000,
      5,
    );
    console.log(
      `[lease] apiserver stopped: leader reported not-leader ${(lostEntry.atMs - stoppedAt).toFixed(0)} ms after the stop, ` +
        `${(lostEntry.atMs - untilAtStop).toFixed(0)} ms after its leaderUntil at the stop request (reason ${lostEntry.snapshot.reason})`,
    );
    expect(lostEntry.snapshot.reason).toBe(LeaseReason.RenewDeadlineExceeded);
    // Notified within timer/event-loop slack of leaderUntil, which is ≤ renewDeadline after the last send.
    // Renewals continue until the apiserver actually goes away, so leaderUntil may move past
    // its value at the stop request; the loss must follow the LAST leaderUntil within slack.
    const lastUntil = Math.max(
      ...leader.history.filter((h) => h.atMs < lostEntry.atMs).map((h) => h.snapshot.leaderUntilMs),
    );
    expect(lastUntil).toBeGreaterThanOrEqual(untilAtStop);
    expect(lostEntry.atMs - lastUntil).toBeLessThan(250);

    // Down for longer than the lease: nobody leads meanwhile.
    const down = await sampleLeaders(cs, LEASE_MS + 1000, 20);
    expect(down.filter((x) => x !== null)).toEqual([]);

    const restartBegin = now();
    await cp.startApiserver();
    const restartedAt = now();
    const newLeader = await waitFor('a leader after restart', () => cs.find((c) => leads(c)), 15_000);
    console.log(
      `[lease] apiserver restart ${(restartedAt - restartBegin).toFixed(0)} ms; ${newLeader.identity} leads ` +
        `${(now() - restartedAt).toFixed(0)} ms after the apiserver was ready`,
    );
    const after = await sampleLeaders(cs, 3_000);
    expect(new Set(after)).toEqual(new Set([newLeader.identity]));
  });
});
