// The cross-region arbiter (packages/framework/src/plugins/etcd-arbiter) against a REAL 3-member etcd
// (test/etcd/cluster.ts: every link through a proxy that can be cut). Three arbiters play three
// regions; the region's local Lease is not involved at this level (each arbiter is its region's
// leader throughout). What is asserted without slack: a region cut off from the etcd majority stops
// forging (its fencing deadline plus the whole revocation chain) before the majority frees its key,
// and the next region starts no earlier than that. Liveness figures (how soon the next region
// forges) get a load-tolerant bound and are printed.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import {
  arbiterTiming,
  createEtcd3Kv,
  EtcdArbiter,
  type ArbiterTiming,
  type CandidacyInput,
  type Clock,
} from '@cardano-forge/framework';
import { startEtcdCluster, type ClientLinks, type EtcdCluster } from '../etcd/cluster.ts';
import { attempt, eventually, withClient } from '../etcd/client.ts';

const HEARTBEAT_MS = 100;
const ELECTION_MS = 1_000;
const TTL_S = 10;
/** The default revocation chain (LD 15 s / RD 10 s, SIGHUP bound 2 s: docs/safety.md §5). */
const CHAIN_MS = 4749;
/** Load-tolerant liveness bound: 2 shared cores run several test workers. */
const LOAD_SLACK_MS = 6_000;

const clock: Clock = {
  monotonicMs: () => performance.now(),
  wallNow: () => new Date(),
  sleep: (ms, signal) => sleep(Math.max(0, ms), undefined, signal ? { signal } : undefined),
};
const logger = pino({ level: process.env.ARBITER_TEST_LOG ?? 'silent' });

function timing(): ArbiterTiming {
  const t = arbiterTiming({
    leaseTtlSeconds: TTL_S,
    renewDeadlineSeconds: 4,
    retryPeriodSeconds: 1,
    etcdElectionTimeoutMs: ELECTION_MS,
    revocationChainMs: CHAIN_MS,
  });
  if (!t.ok) throw new Error(t.problems.join('; '));
  return t.timing;
}

interface Region {
  readonly name: string;
  readonly links: ClientLinks;
  readonly arbiter: EtcdArbiter;
  readonly cand: { -readonly [K in keyof CandidacyInput]: CandidacyInput[K] };
  stop(): Promise<void>;
}

function mayForge(r: Region): boolean {
  const s = r.arbiter.snapshot();
  const now = clock.monotonicMs();
  return s.leaderUntilMs > now && now >= s.actAfterMs;
}

async function startRegion(
  cluster: EtcdCluster,
  prefix: string,
  name: string,
  priority: number,
): Promise<Region> {
  const links = await cluster.clientLinks(name);
  const t = timing();
  const kv = await createEtcd3Kv({ endpoints: links.endpoints, callTimeoutMs: t.callTimeoutMs });
  const cand = {
    localLeader: true,
    eligible: true,
    priority,
    demoted: false,
    manual: false,
    reason: 'cluster_enabled',
    message: 'ok',
    since: new Date().toISOString(),
  };
  const arbiter = new EtcdArbiter(
    { kv, clock, logger: logger.child({ region: name }), candidacy: () => ({ ...cand }) },
    { prefix, region: name, identity: `${name}-0_test`, ttlSeconds: TTL_S, holdDownMs: 30_000, timing: t },
  );
  const abort = new AbortController();
  await arbiter.start(abort.signal);
  return {
    name,
    links,
    arbiter,
    cand,
    async stop() {
      abort.abort();
      await arbiter.stop();
      await kv.close();
    },
  };
}

async function agreedLeader(cluster: EtcdCluster): Promise<string> {
  let leader: string | undefined;
  await eventually('all members agree on one leader', 15_000, async () => {
    const seen = await Promise.all(cluster.members.map((m) => cluster.leaderSeenBy(m.name)));
    leader = seen[0];
    return leader !== undefined && seen.every((n) => n === leader);
  });
  if (leader === undefined) throw new Error('no leader');
  return leader;
}

/** Polls every `everyMs` until `check` holds; returns the time (monotonic ms) it first held. */
async function when(
  what: string,
  maxMs: number,
  check: () => boolean | Promise<boolean>,
  everyMs = 25,
): Promise<number> {
  const begin = clock.monotonicMs();
  for (;;) {
    if (await check()) return clock.monotonicMs();
    if (clock.monotonicMs() - begin > maxMs) throw new Error(`${what}: not within ${maxMs} ms`);
    await sleep(everyMs);
  }
}

describe('etcd arbiter on a real 3-member etcd', () => {
  let cluster: EtcdCluster | undefined;
  let regions: Region[] = [];
  const live = (): EtcdCluster => {
    if (cluster === undefined) throw new Error('cluster not started');
    return cluster;
  };

  beforeAll(async () => {
    cluster = await startEtcdCluster({ members: 3, heartbeatMs: HEARTBEAT_MS, electionMs: ELECTION_MS });
  });
  afterEach(async () => {
    live().healAll();
    await Promise.all(regions.map((r) => r.stop()));
    regions = [];
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('a region partitioned from the etcd majority with its (leader) member stops forging before the majority frees its key; the next region takes over after that', async () => {
    const c = live();
    const prefix = `/cardano-forge/v1/test-partition-${Date.now()}/`;
    regions = [
      await startRegion(c, prefix, 'us', 1),
      await startRegion(c, prefix, 'eu', 2),
      await startRegion(c, prefix, 'ap', 3),
    ];
    const [us, eu, ap] = regions as [Region, Region, Region];
    await when('us forges', 30_000, () => mayForge(us), 100);
    // us talks only to the etcd leader (the region's own member), so the cut leaves it an
    // isolated ex-leader that goes on acknowledging keepalives until it steps down.
    const leader = await agreedLeader(c);
    const others = c.members.map((m) => m.name).filter((n) => n !== leader);
    us.links.cut(others, 'refuse', true);
    await sleep(3_000);
    expect(mayForge(us)).toBe(true);

    const cutAt = clock.monotonicMs();
    c.isolate(leader);
    let lastDeadline = us.arbiter.snapshot().leaderUntilMs;
    let usStoppedAt = 0;
    let euForgesAt = 0;
    let keyGoneAt = 0;
    const observer = others.map((n) => c.member(n).clientUrl);
    const watchKey = (async () => {
      keyGoneAt = await when(
        'the majority frees the forger key',
        40_000,
        async () => {
          const r = await attempt('get forger', 1_000, () =>
            withClient(observer, (client) => client.get(`${prefix}forger`).string(), 1_000),
          );
          // Freed is "no longer us's": eu may create its entry between two of these reads (a new
          // client each, slow under load), so a read that never sees the gap still sees it was freed.
          if (!r.ok) return false;
          if (r.value === null) return true;
          return (JSON.parse(r.value) as { region?: unknown }).region !== 'us';
        },
        50,
      );
    })();
    await when(
      'eu forges',
      40_000,
      () => {
        const s = us.arbiter.snapshot();
        if (s.leaderUntilMs > lastDeadline) lastDeadline = s.leaderUntilMs;
        if (usStoppedAt === 0 && !mayForge(us)) usStoppedAt = clock.monotonicMs();
        // Never two at once, at any poll.
        expect([us, eu, ap].filter(mayForge).length).toBeLessThanOrEqual(1);
        if (mayForge(eu)) euForgesAt = clock.monotonicMs();
        return euForgesAt > 0;
      },
      20,
    );
    await watchKey;
    const euAct = eu.arbiter.snapshot().actAfterMs;
    const fenceAfterCut = lastDeadline - cutAt;
    console.log(
      `[arbiter] cut of us+leader ${leader}: us fenced at +${Math.round(fenceAfterCut)} ms (stopped forging at +${Math.round(usStoppedAt - cutAt)} ms), ` +
        `node stopped by +${Math.round(fenceAfterCut + CHAIN_MS)} ms (fence + chain), majority freed the key at +${Math.round(keyGoneAt - cutAt)} ms ` +
        `(spare ${Math.round(keyGoneAt - lastDeadline - CHAIN_MS)} ms), eu may act from +${Math.round(euAct - cutAt)} ms, eu forging at +${Math.round(euForgesAt - cutAt)} ms`,
    );
    // Safety, without slack: the ex-leader's acknowledgements extended nothing (the deadline is
    // from a round before the cut), and us's node was stopped before the key was free.
    expect(lastDeadline).toBeLessThanOrEqual(cutAt + 4_000 + 50);
    expect(lastDeadline + CHAIN_MS).toBeLessThan(keyGoneAt);
    expect(euAct).toBeGreaterThanOrEqual(lastDeadline + CHAIN_MS);
    expect(ap.arbiter.snapshot().held).toBe(false);
    // Liveness (load-tolerant): TTL + retry + 2 s, plus the slack this shared machine needs.
    expect(euForgesAt - cutAt).toBeLessThanOrEqual(TTL_S * 1000 + 1000 + 2000 + LOAD_SLACK_MS);
  }, 120_000);

  it('a planned handover (manual override in another region) moves forging within 5 s with no overlap', async () => {
    const c = live();
    const prefix = `/cardano-forge/v1/test-handover-${Date.now()}/`;
    regions = [await startRegion(c, prefix, 'us', 1), await startRegion(c, prefix, 'eu', 2)];
    const [us, eu] = regions as [Region, Region];
    await when('us forges', 30_000, () => mayForge(us), 100);
    const start = clock.monotonicMs();
    eu.cand.priority = 1;
    eu.cand.manual = true;
    us.cand.priority = 2;
    eu.arbiter.wake();
    us.arbiter.wake();
    await when('us is told to hand over', 10_000, () => us.arbiter.snapshot().handover !== null);
    // The reconciler's part (revoke, SIGHUP, node confirmed) is not at this level: release now.
    await us.arbiter.release(new AbortController().signal);
    expect(mayForge(us)).toBe(false);
    const euAt = await when('eu forges', 10_000, () => {
      expect(mayForge(us) && mayForge(eu)).toBe(false);
      return mayForge(eu);
    });
    console.log(
      `[arbiter] planned handover: eu forging ${Math.round(euAt - start)} ms after the override (clean: ${eu.arbiter.snapshot().acquiredFromRelease})`,
    );
    expect(eu.arbiter.snapshot().acquiredFromRelease).toBe(true);
    expect(euAt - start).toBeLessThanOrEqual(5_000);
  }, 90_000);

  it('losing one etcd member (the leader, SIGKILL) changes nothing: the holder keeps forging without a gap', async () => {
    const c = live();
    const prefix = `/cardano-forge/v1/test-member-loss-${Date.now()}/`;
    regions = [await startRegion(c, prefix, 'us', 1), await startRegion(c, prefix, 'eu', 2)];
    const [us, eu] = regions as [Region, Region];
    await when('us forges', 30_000, () => mayForge(us), 100);
    const leader = await agreedLeader(c);
    await c.member(leader).kill();
    let gaps = 0;
    let wasForging = true;
    const end = clock.monotonicMs() + 20_000;
    while (clock.monotonicMs() < end) {
      const forging = mayForge(us);
      if (wasForging && !forging) gaps++;
      wasForging = forging;
      expect(mayForge(eu)).toBe(false);
      await sleep(25);
    }
    console.log(`[arbiter] one member (${leader}, the leader) killed: ${gaps} forging gap(s) in 20 s`);
    await c.member(leader).restart();
    expect(gaps).toBe(0);
  }, 120_000);

  it('etcd quorum lost: nobody forges (the holder fences); healed, forging resumes', async () => {
    const c = live();
    const prefix = `/cardano-forge/v1/test-quorum-${Date.now()}/`;
    regions = [await startRegion(c, prefix, 'us', 1), await startRegion(c, prefix, 'eu', 2)];
    const [us, eu] = regions as [Region, Region];
    await when('us forges', 30_000, () => mayForge(us), 100);
    const names = c.members.map((m) => m.name);
    const cutAt = clock.monotonicMs();
    c.partition(names.map((n) => [n]));
    const deadline = us.arbiter.snapshot().leaderUntilMs;
    const stoppedAt = await when('us stops', 10_000, () => !mayForge(us));
    expect(stoppedAt).toBeLessThanOrEqual(deadline + 100);
    // 15 s without quorum: no region may forge.
    const end = clock.monotonicMs() + 15_000;
    while (clock.monotonicMs() < end) {
      expect(mayForge(us) || mayForge(eu)).toBe(false);
      await sleep(50);
    }
    c.healAll();
    const backAt = await when('someone forges again', 60_000, () => mayForge(us) || mayForge(eu), 100);
    console.log(
      `[arbiter] quorum loss: us stopped ${Math.round(stoppedAt - cutAt)} ms after the cut; forging again ${Math.round(backAt - cutAt - 15_000)} ms after the heal`,
    );
    expect([us, eu].filter(mayForge).length).toBe(1);
  }, 120_000);
});
