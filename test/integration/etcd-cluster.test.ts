// The multi-member etcd harness (test/etcd) on real etcd processes: the cluster forms, links between
// two members, between a member and the rest, and between a client and a member can be cut and
// healed, and etcd behaves under each cut as Raft says it must. Liveness bounds (how soon a leader
// is lost or found) are generous because 2 shared cores run several test workers; what must never
// happen (a cut-off member answering a linearizable request, writes without quorum) is asserted
// without slack.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isProcessOf, stopRecordedProcess } from '../controlplane/process.ts';
import { resolveBinDir } from '../controlplane/index.ts';
import { startEtcdCluster, type EtcdCluster } from '../etcd/cluster.ts';
import { attempt, eventually, withClient } from '../etcd/client.ts';

const HEARTBEAT_MS = 100;
const ELECTION_MS = 1_000;
/** Liveness bound for "a member notices" / "a leader is elected" under load (raft needs 1–2 election timeouts). */
const NOTICE_BOUND_MS = 15_000;
/** How long a request to a cut-off member is given to (wrongly) succeed. */
const REFUSAL_WINDOW_MS = 1_500;
// A request that timed out is not a request that failed: etcd may still apply it once the link heals
// (seen here: a put to a paused follower was committed after SIGCONT). So "refused" writes use keys
// that no assertion reads.
const FAILED_REQUEST = /no leader|deadline|timed out|unavailable|no answer within/i;

function otherThan(cluster: EtcdCluster, ...excluded: (string | undefined)[]): string[] {
  return cluster.members.map((member) => member.name).filter((name) => !excluded.includes(name));
}

async function agreedLeader(cluster: EtcdCluster): Promise<string> {
  let leader: string | undefined;
  await eventually('all members agree on one leader', NOTICE_BOUND_MS, async () => {
    const seen = await Promise.all(cluster.members.map((member) => cluster.leaderSeenBy(member.name)));
    leader = seen[0];
    return leader !== undefined && seen.every((name) => name === leader);
  });
  if (leader === undefined) throw new Error('no leader');
  return leader;
}

async function put(cluster: EtcdCluster, via: string, key: string, value: string) {
  return attempt(`put ${key} via ${via}`, REFUSAL_WINDOW_MS, () =>
    withClient([cluster.member(via).clientUrl], (client) => client.put(key).value(value).exec()),
  );
}

/** A linearizable read (etcd3's default) through one member only. */
async function read(cluster: EtcdCluster, via: string, key: string) {
  return attempt(`get ${key} via ${via}`, REFUSAL_WINDOW_MS, () =>
    withClient([cluster.member(via).clientUrl], (client) => client.get(key).string()),
  );
}

async function waitUntilLeaderless(cluster: EtcdCluster, member: string): Promise<number> {
  return eventually(
    `${member} reports no leader`,
    NOTICE_BOUND_MS,
    async () => {
      return (await cluster.leaderSeenBy(member, 500)) === undefined;
    },
    50,
  );
}

describe('etcd cluster harness: 3 real members on loopback, every link through a proxy', () => {
  let cluster: EtcdCluster | undefined;
  const live = (): EtcdCluster => {
    if (cluster === undefined) throw new Error('cluster not started');
    return cluster;
  };

  beforeAll(async () => {
    const begin = performance.now();
    cluster = await startEtcdCluster({ members: 3, heartbeatMs: HEARTBEAT_MS, electionMs: ELECTION_MS });
    console.log(
      `[etcd] 3 members healthy in ${Math.round(performance.now() - begin)} ms: ${cluster.endpoints.join(' ')}`,
    );
  });

  afterEach(async () => {
    const c = live();
    c.healAll();
    for (const member of c.members) member.resume();
    await agreedLeader(c);
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('forms: every member healthy through its advertised client proxy, one leader, every peer connection attributed', async () => {
    const c = live();
    for (const member of c.members) {
      const response = await fetch(`${member.clientUrl}/health`, { signal: AbortSignal.timeout(5_000) });
      expect(response.status, member.name).toBe(200);
      expect(((await response.json()) as { health: string }).health, member.name).toBe('true');
    }
    const pids = c.members.map((member) => member.pid);
    expect(new Set(pids).size).toBe(3);
    for (const pid of pids) expect(pid).toBeGreaterThan(0);
    expect(otherThan(c)).toContain(await agreedLeader(c));
    // Members talk only through the proxies, and each proxy knows which member dialed it.
    expect(c.unidentifiedPeerConnections()).toBe(0);
    const members = await withClient([c.endpoints[0] ?? ''], (client) => client.cluster.memberList({}));
    expect(
      members.members
        .map((member) => member.peerURLs)
        .flat()
        .sort(),
    ).toEqual(c.members.map((member) => member.peerUrl).sort());
  });

  it('a write through one member is read (linearizably) through each of the others', async () => {
    const c = live();
    expect(await put(c, 'm1', 'harness/write-read', 'from-m1')).toMatchObject({ ok: true });
    for (const via of ['m2', 'm3']) {
      expect(await read(c, via, 'harness/write-read')).toEqual({ ok: true, value: 'from-m1' });
    }
  });

  it('a follower cut from the other two: the majority works, the cut member refuses linearizable reads and writes, healing rejoins it', async () => {
    const c = live();
    const leader = await agreedLeader(c);
    const [cutOff = '', survivor = ''] = otherThan(c, leader);
    c.isolate(cutOff);
    const noLeaderAfterMs = await waitUntilLeaderless(c, cutOff);
    console.log(`[etcd] isolated follower reports no leader ${Math.round(noLeaderAfterMs)} ms after the cut`);
    expect(await put(c, survivor, 'harness/majority', 'written-during-cut')).toMatchObject({ ok: true });
    expect(await read(c, leader, 'harness/majority')).toEqual({ ok: true, value: 'written-during-cut' });
    const write = await put(c, cutOff, 'harness/minority', 'may-land-later');
    expect(write.ok).toBe(false);
    if (!write.ok) expect(write.error).toMatch(FAILED_REQUEST);
    expect((await read(c, cutOff, 'harness/majority')).ok).toBe(false);

    c.healAll();
    const rejoinMs = await eventually(
      'healed member sees the leader',
      NOTICE_BOUND_MS,
      async () => {
        return (await c.leaderSeenBy(cutOff, 500)) === leader;
      },
      50,
    );
    console.log(`[etcd] healed member follows the leader again after ${Math.round(rejoinMs)} ms`);
    expect(await read(c, cutOff, 'harness/majority')).toEqual({ ok: true, value: 'written-during-cut' });
  });

  it('a pairwise cut (leader ↔ one follower only, both ways or one way): that follower loses the leader, the third member still follows it', async () => {
    const c = live();
    const leader = await agreedLeader(c);
    const [cutFollower = '', bridge = ''] = otherThan(c, leader);
    c.cut(leader, cutFollower);
    await waitUntilLeaderless(c, cutFollower);
    // The bridge still hears the leader, so it refuses the cut follower's pre-votes: the leader stays.
    expect(await c.leaderSeenBy(bridge)).toBe(leader);
    expect(await c.leaderSeenBy(leader)).toBe(leader);
    expect(await put(c, bridge, 'harness/pairwise', 'via-bridge')).toMatchObject({ ok: true });
    expect(await put(c, leader, 'harness/pairwise', 'via-leader')).toMatchObject({ ok: true });
    expect((await put(c, cutFollower, 'harness/pairwise-cut', 'may-land-later')).ok).toBe(false);
    c.heal(leader, cutFollower);
    await eventually('cut follower follows the leader again', NOTICE_BOUND_MS, async () => {
      return (await c.leaderSeenBy(cutFollower, 500)) === leader;
    });
    expect(await read(c, cutFollower, 'harness/pairwise')).toEqual({ ok: true, value: 'via-leader' });

    // One way only: the leader's bytes to that follower are held, the follower's to the leader flow.
    c.cut(leader, cutFollower, { oneWay: true });
    await waitUntilLeaderless(c, cutFollower);
    expect(await c.leaderSeenBy(bridge)).toBe(leader);
    c.heal(leader, cutFollower);
    await eventually('one-way cut healed', NOTICE_BOUND_MS, async () => {
      return (await c.leaderSeenBy(cutFollower, 500)) === leader;
    });
  });

  it('the leader cut off (connections refused): the majority elects a new leader and the old one steps down', async () => {
    const c = live();
    const oldLeader = await agreedLeader(c);
    const majority = otherThan(c, oldLeader);
    c.isolate(oldLeader, { mode: 'refuse' });
    const begin = performance.now();
    let newLeader: string | undefined;
    await eventually('the majority elects a new leader', NOTICE_BOUND_MS, async () => {
      const seen = await Promise.all(majority.map((name) => c.leaderSeenBy(name, 500)));
      newLeader = seen[0];
      return newLeader !== undefined && newLeader !== oldLeader && seen.every((name) => name === newLeader);
    });
    const steppedDownMs = await waitUntilLeaderless(c, oldLeader);
    console.log(
      `[etcd] leader isolated (refuse): new leader in ${Math.round(performance.now() - begin)} ms, ` +
        `old leader without a leader ${Math.round(steppedDownMs)} ms after that`,
    );
    expect(majority).toContain(newLeader);
    expect((await put(c, oldLeader, 'harness/old-leader', 'may-land-later')).ok).toBe(false);
    expect(await put(c, majority[0] ?? '', 'harness/new-leader', 'ok')).toMatchObject({ ok: true });
  });

  it('a client cut from its local member works through the other members; another client still reaches that member', async () => {
    const c = live();
    const regionA = await c.clientLinks('region-a');
    const regionB = await c.clientLinks('region-b');
    for (const mode of ['refuse', 'blackhole'] as const) {
      regionA.cut('m1', mode);
      const viaAll = await attempt(`region-a ${mode}: put+get through all endpoints`, 15_000, () =>
        withClient(
          regionA.endpoints,
          async (client) => {
            await client.put(`harness/region-a-${mode}`).value('through-m2-or-m3').exec();
            return client.get(`harness/region-a-${mode}`).string();
          },
          2_000,
        ),
      );
      expect(viaAll, mode).toEqual({ ok: true, value: 'through-m2-or-m3' });
      const viaLocal = await attempt(`region-a ${mode}: put via m1 only`, REFUSAL_WINDOW_MS, () =>
        withClient([regionA.endpoints[0] ?? ''], (client) =>
          client.put('harness/region-a-local').value('x').exec(),
        ),
      );
      expect(viaLocal.ok, mode).toBe(false);
      const otherRegion = await attempt(`region-b ${mode}: get via m1`, 5_000, () =>
        withClient([regionB.endpoints[0] ?? ''], (client) => client.get(`harness/region-a-${mode}`).string()),
      );
      expect(otherRegion, mode).toEqual({ ok: true, value: 'through-m2-or-m3' });
      regionA.heal();
    }
    const healed = await attempt('region-a healed: put via m1', 5_000, () =>
      withClient([regionA.endpoints[0] ?? ''], (client) =>
        client.put('harness/region-a-local').value('y').exec(),
      ),
    );
    expect(healed.ok).toBe(true);
  });

  it('quorum loss: with every member cut from the others, writes fail through every member; healed, they succeed', async () => {
    const c = live();
    await agreedLeader(c);
    c.partition([['m1'], ['m2'], ['m3']]);
    for (const member of c.members) await waitUntilLeaderless(c, member.name);
    const writes = await Promise.all(
      c.members.map((member) => put(c, member.name, 'harness/no-quorum', member.name)),
    );
    for (const [index, write] of writes.entries()) expect(write.ok, c.members[index]?.name).toBe(false);
    c.healAll();
    await agreedLeader(c);
    expect(await put(c, 'm2', 'harness/no-quorum', 'after-heal')).toMatchObject({ ok: true });
    expect(await read(c, 'm3', 'harness/no-quorum')).toEqual({ ok: true, value: 'after-heal' });
  });

  it('a SIGSTOPped member is like a partition: a paused follower answers nothing, a paused leader is replaced', async () => {
    const c = live();
    const leader = await agreedLeader(c);
    const [follower = '', other = ''] = otherThan(c, leader);
    c.member(follower).pause();
    expect((await put(c, follower, 'harness/paused-follower', 'may-land-later')).ok).toBe(false);
    expect(await put(c, other, 'harness/paused', 'while-follower-paused')).toMatchObject({ ok: true });
    c.member(follower).resume();
    await agreedLeader(c);
    expect(await read(c, follower, 'harness/paused')).toEqual({ ok: true, value: 'while-follower-paused' });

    c.member(leader).pause();
    const begin = performance.now();
    let replacement: string | undefined;
    await eventually('a new leader while the old one is paused', NOTICE_BOUND_MS, async () => {
      replacement = await c.leaderSeenBy(follower, 500);
      return replacement !== undefined && replacement !== leader;
    });
    console.log(`[etcd] leader SIGSTOPped: new leader after ${Math.round(performance.now() - begin)} ms`);
    c.member(leader).resume();
    await eventually('the resumed ex-leader follows the new leader', NOTICE_BOUND_MS, async () => {
      return (await c.leaderSeenBy(leader, 500)) === replacement;
    });
  });
});

describe('etcd cluster harness: member kill/restart and stop', () => {
  let cluster: EtcdCluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('a killed member restarts on its data and catches up; stop() ends every process by PID and removes the data', async () => {
    cluster = await startEtcdCluster({ members: 3, heartbeatMs: HEARTBEAT_MS, electionMs: ELECTION_MS });
    const c = cluster;
    const victim = c.member('m2');
    const oldPid = victim.pid;
    await victim.kill();
    expect(victim.pid).toBeUndefined();
    if (oldPid !== undefined) expect(existsSync(`/proc/${oldPid}`)).toBe(false);
    // m2 may have been the leader: the survivors elect another first.
    await eventually('a write through m1 while m2 is down', NOTICE_BOUND_MS, async () => {
      return (await put(c, 'm1', 'harness/restart', 'while-m2-down')).ok;
    });
    await victim.restart();
    expect(victim.pid).not.toBe(oldPid);
    expect(await read(c, 'm2', 'harness/restart')).toEqual({ ok: true, value: 'while-m2-down' });

    const pids = c.members.map((member) => member.pid);
    const dataDirs = c.members.map((member) => member.dataDir);
    await c.stop();
    for (const pid of pids) expect(pid !== undefined && existsSync(`/proc/${pid}`), `pid ${pid}`).toBe(false);
    for (const dir of dataDirs) expect(existsSync(dir), dir).toBe(false);
    const refused = await attempt('get after stop', 3_000, () =>
      withClient([c.endpoints[0] ?? ''], (client) => client.get('harness/restart').string()),
    );
    expect(refused.ok).toBe(false);
  });
});

describe('etcd cluster harness: a test runner that dies', () => {
  it('leaves no member process and no data dir behind (the watchdogs stop them by PID)', async () => {
    const clusterModule = fileURLToPath(new URL('../etcd/cluster.ts', import.meta.url));
    const script = [
      `const { startEtcdCluster } = await import(${JSON.stringify(clusterModule)});`,
      'const cluster = await startEtcdCluster({ members: 3 });',
      'console.log(JSON.stringify(cluster.members.map((m) => ({ pid: m.pid, dataDir: m.dataDir }))));',
      'setInterval(() => undefined, 60_000);',
    ].join('\n');
    const runner = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const etcdBinary = join(await resolveBinDir(), 'etcd');
    let members: { pid: number; dataDir: string }[] = [];
    try {
      const lines = createInterface({ input: runner.stdout });
      for await (const line of lines) {
        if (line.startsWith('[')) {
          members = JSON.parse(line) as typeof members;
          break;
        }
      }
      expect(members).toHaveLength(3);
      for (const member of members) expect(isProcessOf(member.pid, etcdBinary)).toBe(true);
      const runnerPid = runner.pid ?? 0;
      process.kill(runnerPid, 'SIGKILL');
      const cleanedMs = await eventually('watchdogs clean up', 30_000, () =>
        Promise.resolve(
          members.every((member) => !isProcessOf(member.pid, etcdBinary) && !existsSync(member.dataDir)),
        ),
      );
      console.log(
        `[etcd] runner SIGKILLed: members stopped and data removed after ${Math.round(cleanedMs)} ms`,
      );
    } finally {
      if (runner.exitCode === null && runner.signalCode === null) runner.kill('SIGKILL');
      for (const member of members) await stopRecordedProcess(member.pid, etcdBinary, 1_000);
    }
  });
});
