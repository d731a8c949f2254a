import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Reconciler } from '../../core/reconciler.js';
import { FakeCredentials, FakeElector, FakeNode } from '../../testing/fakes.js';
import { FakeClock } from '../../testing/manual-clock.js';
import { FakeEtcdStore } from './fake-etcd-kv.js';
import { combineLeadership, createGlobalCoordination, type GlobalPolicyView } from './global.js';
import type { GlobalForgeView } from '../../cluster/global-status.js';
import { arbiterTiming } from './protocol.js';
import type { ArbiterSnapshot } from './arbiter.js';

const silent = pino({ level: 'silent' });
const PREFIX = '/cardano-forge/v1/cardano-leader-mainnet-pool1abcde/';

function timing() {
  const t = arbiterTiming({
    leaseTtlSeconds: 10,
    renewDeadlineSeconds: 4,
    retryPeriodSeconds: 1,
    etcdElectionTimeoutMs: 1000,
    revocationChainMs: 4749,
  });
  if (!t.ok) throw new Error(t.problems.join('; '));
  return t.timing;
}

interface Region {
  readonly name: string;
  readonly node: FakeNode;
  readonly reconciler: Reconciler;
  readonly local: FakeElector;
  readonly base: { view: GlobalPolicyView };
  readonly calls: string[];
  /** What the cluster manager was told: the last global view and local-leader flags. */
  readonly reported: { global: GlobalForgeView | null; localLeader: boolean[] };
  stop(): Promise<void>;
}

const regions: Region[] = [];
afterEach(async () => {
  for (const r of regions.splice(0)) await r.stop();
});

/** One region: the real reconciler and decision core, a fake node, credentials and local Lease. */
/** etcd calls per region (FINDINGS F1: rounds must run every retry period, not back to back). */
const etcdCalls = new Map<string, number>();

function region(store: FakeEtcdStore, clock: FakeClock, name: string, priority: number): Region {
  const calls: string[] = [];
  const kv = store.client();
  etcdCalls.set(name, 0);
  const counted = new Proxy(kv, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'close') return value;
      return (...args: unknown[]) => {
        etcdCalls.set(name, (etcdCalls.get(name) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const local = new FakeElector(calls);
  const credentials = new FakeCredentials(calls);
  const node = new FakeNode(calls);
  node.filesPresent = () => credentials.presence === 'all';
  node.metricsFollowNode = true;
  const base = {
    view: {
      forgingAllowed: true,
      reason: 'cluster_enabled',
      message: 'ok',
      effectivePriority: priority,
      override: { active: false },
      health: { consecutiveFailures: 0 },
    } as GlobalPolicyView,
  };
  const listeners = new Set<() => void>();
  const reported: Region['reported'] = { global: null, localLeader: [] };
  const coordination = createGlobalCoordination(
    {
      kv: counted,
      clock,
      logger: silent,
      local,
      policy: {
        snapshot: () => base.view,
        subscribe: (l: () => void) => {
          listeners.add(l);
          return () => listeners.delete(l);
        },
        reportGlobal: (v: GlobalForgeView) => {
          reported.global = v;
        },
        setLocalLeader: (v: boolean) => {
          reported.localLeader.push(v);
        },
      },
    },
    {
      prefix: PREFIX,
      region: name,
      ttlSeconds: 10,
      holdDownMs: 30_000,
      timing: timing(),
      basePriority: 100,
      failureThreshold: 3,
    },
  );
  const reconciler = new Reconciler(
    {
      clock,
      logger: silent,
      node,
      credentials,
      elector: coordination.elector,
      policy: coordination.policy,
      onTick: () => coordination.policy.setLocalLeader?.(false),
    },
    {
      intervalMs: 1000,
      callTimeoutMs: 687,
      config: {
        startAsNonProducing: true,
        disableSocketCheck: false,
        confirmTimeoutMs: 2000,
        handoverHoldDownMs: 30_000,
      },
      metricsConfigured: true,
      sighupLatencyBoundMs: 2000,
      terminateGraceMs: 1344,
    },
  );
  const abort = new AbortController();
  void coordination.elector.start(abort.signal);
  reconciler.start();
  // This pod leads its region's Lease throughout.
  local.set({ holder: local.identity, leaderUntilMs: Number.MAX_SAFE_INTEGER });
  const r: Region = {
    name,
    node,
    reconciler,
    local,
    base,
    calls,
    reported,
    async stop() {
      const done = reconciler.shutdown(2000);
      for (let i = 0; i < 40; i++) await clock.advance(100);
      await done;
      abort.abort();
      const stopped = coordination.elector.stop();
      for (let i = 0; i < 40; i++) await clock.advance(100);
      await stopped;
    },
  };
  regions.push(r);
  return r;
}

/** Advances in steps checking the invariant on what the nodes have loaded. */
async function run(clock: FakeClock, rs: Region[], until: () => boolean, maxMs: number): Promise<number> {
  const start = clock.monotonicMs();
  while (!until()) {
    if (clock.monotonicMs() - start > maxMs) throw new Error(`not reached within ${maxMs} ms`);
    await clock.advance(50);
    expect(rs.filter((r) => r.node.loaded).length).toBeLessThanOrEqual(1);
  }
  return clock.monotonicMs() - start;
}

describe('global mode: the local Lease and the etcd arbiter composed, through the real reconciler', () => {
  it('only the best region forges; a Disabled region hands over through revoke → SIGHUP → confirmation → release, and the next one forges at once (clean)', async () => {
    const clock = new FakeClock();
    const store = new FakeEtcdStore(clock);
    const us = region(store, clock, 'us', 1);
    const eu = region(store, clock, 'eu', 2);
    await run(clock, [us, eu], () => us.node.loaded, 20_000);
    await run(clock, [us, eu], () => false, 5000).catch(() => undefined);
    expect(us.node.loaded).toBe(true);
    expect(eu.node.loaded).toBe(false);
    // The standby region's Lease holder keeps its node withdrawn and stays a candidate.
    expect(eu.reconciler.current()?.decision).toMatchObject({ leader: false, forge: false, candidate: true });
    // Status and cardano_cluster_forge_enabled: only the forging region says it forges; both
    // regions' Lease holders stay the cluster manager's "local leader" (health probes, status).
    expect(us.reported.global).toMatchObject({ forging: true, forgerRegion: 'us', rank: 1, role: 'forger' });
    expect(eu.reported.global).toMatchObject({
      forging: false,
      forgerRegion: 'us',
      rank: 2,
      role: 'standby',
    });
    expect(eu.reported.localLeader.at(-1)).toBe(true);

    us.base.view = {
      ...us.base.view,
      forgingAllowed: false,
      reason: 'cluster_disabled',
      message: 'Disabled',
    };
    const took = await run(clock, [us, eu], () => eu.node.loaded, 10_000);
    expect(took).toBeLessThanOrEqual(5000);
    const order = us.calls.filter((c) => ['revoke', 'signal:disable_forging', 'release'].includes(c));
    expect(order.slice(-3)).toEqual(['revoke', 'signal:disable_forging', 'release']);
    expect(us.node.loaded).toBe(false);
  });

  it('a manual override elsewhere moves forging within seconds although this region is still allowed', async () => {
    const clock = new FakeClock();
    const store = new FakeEtcdStore(clock);
    const us = region(store, clock, 'us', 1);
    const eu = region(store, clock, 'eu', 2);
    await run(clock, [us, eu], () => us.node.loaded, 20_000);
    eu.base.view = { ...eu.base.view, effectivePriority: 1, override: { active: true } };
    us.base.view = { ...us.base.view, effectivePriority: 5 };
    const took = await run(clock, [us, eu], () => eu.node.loaded, 10_000);
    expect(took).toBeLessThanOrEqual(5000);
    expect(us.reconciler.current()?.observation.policy.reason).toMatch(/^global_|cluster_enabled/);
  });
});

describe('load', () => {
  it('regression (simulation finding F1): a quiet pool runs one round per retry period, not back to back', async () => {
    const clock = new FakeClock();
    const store = new FakeEtcdStore(clock);
    const us = region(store, clock, 'us', 1);
    const eu = region(store, clock, 'eu', 2);
    await run(clock, [us, eu], () => us.node.loaded, 20_000);
    const before = { us: etcdCalls.get('us')!, eu: etcdCalls.get('eu')! };
    for (let i = 0; i < 200; i++) await clock.advance(50); // 10 s, nothing happening
    // A round is keepalive + read (+ a heartbeat write while holding): at most 3 calls a second.
    expect(etcdCalls.get('us')! - before.us).toBeLessThanOrEqual(3 * 11);
    expect(etcdCalls.get('eu')! - before.eu).toBeLessThanOrEqual(2 * 11);
  });
});

describe('combineLeadership', () => {
  const local = {
    lockName: 'cardano-leader-x',
    identity: 'bp-0_i',
    holder: 'bp-0_i',
    leaderUntilMs: 5000,
    transitions: 2,
    observedAtMs: 100,
    reason: 'Renewed',
    message: 'renewed',
    actAfterMs: 10,
  };
  const global: ArbiterSnapshot = {
    held: true,
    leaderUntilMs: 4000,
    actAfterMs: 3000,
    acquiredFromRelease: false,
    handover: null,
    status: {
      forgerRegion: 'us',
      rank: 1,
      eligibleCandidates: 2,
      role: 'forger',
      reason: 'Holder',
      message: 'holds',
    },
    observedAtMs: 90,
    connected: true,
    lease: '1',
    createRevision: 7,
  };
  it('leads only with both: the earlier deadline, the later grace; names us while either does', () => {
    expect(combineLeadership(local, global)).toMatchObject({
      holder: 'bp-0_i',
      leaderUntilMs: 4000,
      actAfterMs: 3000,
    });
    expect(combineLeadership(local, { ...global, leaderUntilMs: 0 })).toMatchObject({
      holder: 'bp-0_i',
      leaderUntilMs: 0,
    });
    expect(combineLeadership({ ...local, holder: 'bp-1_j', leaderUntilMs: 0 }, global)).toMatchObject({
      holder: 'bp-0_i',
      leaderUntilMs: 0,
    });
    expect(
      combineLeadership(
        { ...local, holder: 'bp-1_j', leaderUntilMs: 0 },
        { ...global, held: false, leaderUntilMs: 0 },
      ),
    ).toMatchObject({
      holder: 'bp-1_j',
    });
  });
});
