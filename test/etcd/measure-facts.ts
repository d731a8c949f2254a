// Measures the etcd behaviour a cross-region arbiter relies on (docs/coordination.md, "etcd facts
// measured here") on a real 3-member cluster from test/etcd, and prints one JSON line per run and a
// summary. Run: node test/etcd/measure-facts.ts [--runs 5] [--ttl 5]
//
// Each run: a client reaches only the leader L (through its own client proxies, which peer cuts do
// not touch), grants a lease with automatic keepalive, puts a key on it, and additionally sends one
// keepalive every 100 ms, noting each acknowledged one by its send time. Then L is cut from both
// other members (blackhole). Recorded, relative to the cut: the send time of L's last acknowledged
// keepalive, when L reports no leader (stepped down), when the majority has a new leader, the
// lease's remaining TTL on the new leader, when the key is gone on the majority (the lease expired
// there), and when etcd3 emits `lost`. Also: how long an isolated follower takes to report no leader.
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEtcdCluster, type EtcdCluster } from './cluster.ts';
import { attempt, eventually, etcdClient } from './client.ts';

interface RunResult {
  run: number;
  ttlS: number;
  lastAckSentAfterCutMs: number | undefined;
  leaderStepDownAfterCutMs: number;
  newLeaderAfterCutMs: number;
  /** lastAckSent − newLeader: how long the ex-leader kept acknowledging after the majority had a new leader. */
  ackAfterNewLeaderMs: number | undefined;
  newLeaderLeaseTtlS: number | undefined;
  keyGoneOnMajorityAfterCutMs: number;
  /** keyGone − (lastAckSent + TTL): how much later than the holder's own deadline the majority freed it. */
  majorityExpiryMinusHolderDeadlineMs: number | undefined;
  firstKeepaliveFailedAfterCutMs: number | undefined;
  firstKeepaliveFailedMessage: string | undefined;
  lostAfterCutMs: number | undefined;
  lostAfterLastAckReceivedMs: number | undefined;
  lostMessage: string | undefined;
  followerNoLeaderAfterCutMs: number;
}

async function agreedLeader(cluster: EtcdCluster): Promise<string> {
  let leader: string | undefined;
  await eventually('one leader', 30_000, async () => {
    const seen = await Promise.all(cluster.members.map((member) => cluster.leaderSeenBy(member.name)));
    leader = seen[0];
    return leader !== undefined && seen.every((name) => name === leader);
  });
  if (leader === undefined) throw new Error('no leader');
  return leader;
}

async function measureOnce(cluster: EtcdCluster, run: number, ttlS: number): Promise<RunResult> {
  cluster.healAll();
  const leader = await agreedLeader(cluster);
  const names = cluster.members.map((member) => member.name);
  const majority = names.filter((name) => name !== leader);
  const majorityMember = majority[0] ?? '';
  const links = await cluster.clientLinks(`measure-${run}`);
  const holder = etcdClient([links.endpoints[names.indexOf(leader)] ?? ''], 1_000);
  const observer = etcdClient([links.endpoints[names.indexOf(majorityMember)] ?? ''], 1_000);
  const key = `measure/holder-${run}`;
  const lease = holder.lease(ttlS, { autoKeepAlive: true });
  let lastAckSent: number | undefined;
  let lastAckReceived: number | undefined;
  let firstFailed: { at: number; message: string } | undefined;
  let lost: { at: number; message: string } | undefined;
  lease.on('keepaliveSucceeded', () => {
    lastAckReceived = performance.now();
  });
  lease.on('keepaliveFailed', (error: unknown) => {
    firstFailed ??= { at: performance.now(), message: String((error as Error).message ?? error) };
  });
  lease.on('lost', (error: unknown) => {
    lost ??= { at: performance.now(), message: String((error as Error).message ?? error) };
  });
  const leaseId = await lease.grant();
  await lease.put(key).value('held');

  let probing = true;
  const probe = (async () => {
    while (probing && lost === undefined) {
      const sent = performance.now();
      const result = await attempt('keepalive', 1_000, () => lease.keepaliveOnce());
      if (result.ok && Number(result.value.TTL) > 0) {
        lastAckSent = sent;
        lastAckReceived = performance.now();
      }
      await sleep(Math.max(0, 100 - (performance.now() - sent)));
    }
  })();
  await sleep(1_000);

  const cutAt = performance.now();
  cluster.isolate(leader);
  // Steps down (CheckQuorum) / new leader / key gone on the majority, watched concurrently.
  const stepDown = eventually(
    'isolated leader steps down',
    30_000,
    async () => {
      return (await cluster.leaderSeenBy(leader, 300)) === undefined;
    },
    20,
  ).then(() => performance.now() - cutAt);
  let newLeaderLeaseTtlS: number | undefined;
  const newLeader = eventually(
    'majority elects a new leader',
    30_000,
    async () => {
      const seen = await cluster.leaderSeenBy(majorityMember, 300);
      return seen !== undefined && seen !== leader;
    },
    20,
  ).then(async () => {
    const at = performance.now() - cutAt;
    const ttl = await attempt('timeToLive', 1_000, () =>
      observer.leaseClient.leaseTimeToLive({ ID: leaseId }),
    );
    if (ttl.ok) newLeaderLeaseTtlS = Number(ttl.value.TTL);
    return at;
  });
  const keyGone = eventually(
    'key gone on the majority',
    60_000,
    async () => {
      const read = await attempt('get', 1_000, () => observer.get(key).string());
      return read.ok && read.value === null;
    },
    50,
  ).then(() => performance.now() - cutAt);
  const [stepDownMs, newLeaderMs, keyGoneMs] = await Promise.all([stepDown, newLeader, keyGone]);
  await eventually('lost', 40_000, () => Promise.resolve(lost !== undefined), 50).catch(() => undefined);
  probing = false;
  await probe;

  // An isolated follower: how soon does it notice it has no leader?
  cluster.healAll();
  const leaderNow = await agreedLeader(cluster);
  const follower = names.find((name) => name !== leaderNow) ?? '';
  const followerCut = performance.now();
  cluster.isolate(follower);
  await eventually(
    'isolated follower has no leader',
    30_000,
    async () => {
      return (await cluster.leaderSeenBy(follower, 300)) === undefined;
    },
    20,
  );
  const followerNoLeaderMs = performance.now() - followerCut;
  cluster.healAll();

  holder.close();
  observer.close();
  const holderDeadline = lastAckSent === undefined ? undefined : lastAckSent + ttlS * 1_000;
  const lostAt = lost?.at;
  return {
    run,
    ttlS,
    lastAckSentAfterCutMs: lastAckSent === undefined ? undefined : Math.round(lastAckSent - cutAt),
    leaderStepDownAfterCutMs: Math.round(stepDownMs),
    newLeaderAfterCutMs: Math.round(newLeaderMs),
    ackAfterNewLeaderMs:
      lastAckSent === undefined ? undefined : Math.round(lastAckSent - cutAt - newLeaderMs),
    newLeaderLeaseTtlS,
    keyGoneOnMajorityAfterCutMs: Math.round(keyGoneMs),
    majorityExpiryMinusHolderDeadlineMs:
      holderDeadline === undefined ? undefined : Math.round(cutAt + keyGoneMs - holderDeadline),
    firstKeepaliveFailedAfterCutMs:
      firstFailed === undefined ? undefined : Math.round(firstFailed.at - cutAt),
    firstKeepaliveFailedMessage: firstFailed?.message,
    lostAfterCutMs: lostAt === undefined ? undefined : Math.round(lostAt - cutAt),
    lostAfterLastAckReceivedMs:
      lostAt === undefined || lastAckReceived === undefined
        ? undefined
        : Math.round(lostAt - lastAckReceived),
    lostMessage: lost?.message,
    followerNoLeaderAfterCutMs: Math.round(followerNoLeaderMs),
  };
}

function range(values: readonly (number | undefined)[]): string {
  const present = values.filter((value): value is number => value !== undefined).sort((a, b) => a - b);
  if (present.length === 0) return 'n/a';
  const median = present[Math.floor(present.length / 2)];
  return `median ${median}, range ${present[0]}–${present[present.length - 1]} (n=${present.length})`;
}

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, ttl: { type: 'string', default: '5' } },
});
const runs = Number(values.runs);
const ttlS = Number(values.ttl);
const cluster = await startEtcdCluster({ members: 3, heartbeatMs: 100, electionMs: 1_000 });
const results: RunResult[] = [];
try {
  for (let run = 1; run <= runs; run += 1) {
    const result = await measureOnce(cluster, run, ttlS);
    results.push(result);
    console.log(JSON.stringify(result));
  }
  // A graceful SIGTERM of the leader: etcd transfers leadership before it exits.
  const leader = await agreedLeader(cluster);
  const others = cluster.members.map((member) => member.name).filter((name) => name !== leader);
  const stopBegin = performance.now();
  let leaderMovedMs: number | undefined;
  const moved = eventually(
    'leadership moved',
    60_000,
    async () => {
      const seen = await cluster.leaderSeenBy(others[0] ?? '', 300);
      return seen !== undefined && seen !== leader;
    },
    20,
  ).then(() => {
    leaderMovedMs = Math.round(performance.now() - stopBegin);
  });
  await cluster.member(leader).stop();
  const exitedMs = Math.round(performance.now() - stopBegin);
  await moved;
  console.log(
    JSON.stringify({
      gracefulLeaderStop: { exitedAfterMs: exitedMs, leadershipMovedAfterMs: leaderMovedMs },
    }),
  );
} finally {
  await cluster.stop();
}
const summary = Object.fromEntries(
  (
    [
      'lastAckSentAfterCutMs',
      'leaderStepDownAfterCutMs',
      'newLeaderAfterCutMs',
      'ackAfterNewLeaderMs',
      'newLeaderLeaseTtlS',
      'keyGoneOnMajorityAfterCutMs',
      'majorityExpiryMinusHolderDeadlineMs',
      'firstKeepaliveFailedAfterCutMs',
      'lostAfterCutMs',
      'lostAfterLastAckReceivedMs',
      'followerNoLeaderAfterCutMs',
    ] as const
  ).map((field) => [field, range(results.map((result) => result[field]))]),
);
console.log(JSON.stringify({ summary }, null, 2));
