/**
 * A model of a 3-member etcd v3 cluster as the cross-region arbiter sees it through EtcdKv, one
 * client handle per sidecar. Built on what docs/coordination.md measured on this machine:
 *
 * - One committed state (keys with create/mod revisions, leases with their attached keys) that
 *   only a leader with a quorum changes: every read and write is applied at one instant, so the
 *   store is linearizable.
 * - Leases expire on the LEADER's clock (rate 1 ± ε of true time, like the pods' clocks); the
 *   lessor checks every 500 ms and revokes through Raft (so only a leader with a quorum revokes).
 *   A keepalive to an expired lease not yet revoked waits for the revoke (etcd's Renew does).
 * - A new leader re-arms every lease: expiry = promotion + election timeout + full TTL
 *   (lessor.Promote; measured: the key vanished TTL + 1 s + the check after the new leader).
 * - A leader cut off from the other members keeps acting as leader until CheckQuorum steps it
 *   down, E..2E after the cut on its own clock, and acknowledges keepalives meanwhile (measured:
 *   up to ~0.7 s after the majority elected a new leader); its writes and reads wait for a quorum:
 *   committed late if it regains the quorum before stepping down, dropped otherwise. The majority
 *   elects a new leader E..2E after the last heartbeat it got (randomized election timeout).
 * - Without a quorum nothing commits and no lease expires; the next leader re-arms them.
 * - Client links per region and member: `pass`; `drop-request` (lost before reaching etcd: no
 *   effect, the caller times out); `drop-reply` (applied, reply lost: unknown outcome); `hang`
 *   (bytes held as by a blackholed TCP link: the caller times out; on heal the held requests may
 *   still be delivered and applied, as measured for a blackholed or SIGSTOPped member); a stopped
 *   member refuses connections. A client sticks to one member and moves to the next after a
 *   failed or abandoned call (etcd3's pool does the same across its hosts).
 *
 * Not modelled: a member process paused (SIGSTOP) longer than an election timeout that resumes
 * believing it is still leader, member disks, compaction, watches (the arbiter does not use them).
 */
import type { EtcdEntry, EtcdKeepAliveResult, EtcdKv, EtcdLeaseId } from './framework.ts';
import { Owner, type Sim } from './sim.ts';

/** etcd's --election-timeout (the measured cluster and the arbiter's assumption). */
export const ETCD_ELECTION_TIMEOUT_MS = 1000;
/** etcd's --heartbeat-interval. */
export const ETCD_HEARTBEAT_MS = 100;
/** The lessor's expiry check period (etcd: lessor runLoop, 500 ms). */
const LESSOR_CHECK_MS = 500;
/** etcd's minimum lease TTL: ceil(1.5 × election timeout) in seconds. */
export const ETCD_MIN_LEASE_TTL_SECONDS = Math.ceil((1.5 * ETCD_ELECTION_TIMEOUT_MS) / 1000);

export type EtcdLinkMode = 'pass' | 'drop-request' | 'drop-reply' | 'hang';

export interface EtcdMemberSpec {
  readonly name: string;
  /** The region the member runs in (null: a witness member outside every region). */
  readonly region: string | null;
  /** The member's clock rate relative to true time (1 ± ε). */
  readonly clockRate: number;
}

interface Member extends EtcdMemberSpec {
  up: boolean;
  /** Cut off from every other member (its clients may still reach it). */
  isolated: boolean;
}

interface Lease {
  readonly id: EtcdLeaseId;
  readonly ttlSeconds: number;
  /** True time at which the current leader's lessor considers it expired. */
  expiresAt: number;
  readonly keys: Set<string>;
  /** Keepalives that arrived after expiry: answered when the revoke commits. */
  readonly waiters: Array<(result: EtcdKeepAliveResult) => void>;
}

/** A leader cut off from the majority, still acting until CheckQuorum steps it down. */
interface ExLeader {
  readonly member: Member;
  /** Its own lessor's view: lease id → expiry (true ms). */
  readonly lessor: Map<EtcdLeaseId, { ttlSeconds: number; expiresAt: number }>;
}

type Op =
  | { kind: 'grant'; ttlSeconds: number }
  | { kind: 'keepalive'; lease: EtcdLeaseId }
  | { kind: 'revoke'; lease: EtcdLeaseId }
  | { kind: 'get'; key: string }
  | { kind: 'getPrefix'; prefix: string }
  | { kind: 'put'; key: string; value: string; lease: EtcdLeaseId }
  | { kind: 'createIfAbsent'; key: string; value: string; lease: EtcdLeaseId }
  | { kind: 'deleteIfLease'; key: string; lease: EtcdLeaseId };

type Outcome = { ok: true; value: unknown } | { ok: false; error: Error };

/** Sends an outcome back; `extraMs`: hops it takes before the member that got the request has it. */
type Reply = (outcome: Outcome, extraMs?: number) => void;

/** A request waiting at a leader without a quorum (applied if it regains the quorum in time). */
interface Pending {
  readonly op: Op;
  readonly from: string;
  readonly reply: Reply;
}

interface HeldRequest {
  readonly deliver: () => void;
}

const LEASE_ID_BASE = 7_587_869_312_000_000_000n;

function copy(entry: EtcdEntry): EtcdEntry {
  return { ...entry };
}

export class SimEtcd {
  readonly owner = new Owner('etcd');
  readonly members: Member[];
  /** The member acting as leader for the current term (it may have lost its quorum). */
  leader: Member | null = null;
  /** A previous term's leader that has not noticed yet (isolated, before CheckQuorum). */
  exLeader: ExLeader | null = null;
  term = 0;
  revision = 1;
  readonly store = new Map<string, EtcdEntry>();
  readonly leases = new Map<EtcdLeaseId, Lease>();
  #nextLease = 1n;
  #pending: Pending[] = [];
  #cancelElection: (() => void) | null = null;
  /** The CheckQuorum step-down of a leader that lost its quorum. */
  #stepDown: { readonly member: Member; readonly cancel: () => void } | null = null;
  readonly #links = new Map<string, EtcdLinkMode>();
  readonly #held = new Map<string, HeldRequest[]>();
  /** One-way latency between a region and its own member, and across regions (true ms). */
  localLatencyMs: [number, number] = [0.5, 3];
  remoteLatencyMs: [number, number] = [15, 60];
  /** Probability that a blackholed request is delivered when the link heals. */
  heldDeliveryChance = 0.5;

  private readonly sim: Sim;

  constructor(sim: Sim, members: readonly EtcdMemberSpec[]) {
    this.sim = sim;
    this.members = members.map((m) => ({ ...m, up: true, isolated: false }));
    this.leader = this.members[0] ?? null;
    this.term = 1;
    this.#lessorLoop();
  }

  // ---------------------------------------------------------------------------------------------
  // Cluster state
  // ---------------------------------------------------------------------------------------------

  /** Members that can reach each other: every member that is up and not cut off. */
  #connected(): Member[] {
    return this.members.filter((m) => m.up && !m.isolated);
  }

  get hasQuorum(): boolean {
    return this.#connected().length > this.members.length / 2;
  }

  /** The current leader can commit (it is up, connected and with a majority). */
  get leaderCommits(): boolean {
    const leader = this.leader;
    return leader !== null && leader.up && !leader.isolated && this.hasQuorum;
  }

  #log(what: string): void {
    this.sim.log('etcd', what);
  }

  member(name: string): Member {
    const member = this.members.find((m) => m.name === name);
    if (member === undefined) throw new Error(`no etcd member ${name}`);
    return member;
  }

  /** Re-evaluates leadership after a topology change. */
  #reconsider(cause: string): void {
    const leader = this.leader;
    if (leader !== null && !leader.up) {
      // A crashed leader: gone at once; its pending proposals die with it.
      this.#log(`leader ${leader.name} is down (${cause})`);
      this.#dropPending('etcdserver: leader changed');
      this.leader = null;
    }
    if (this.leaderCommits) {
      if (this.#stepDown?.member === this.leader) {
        this.#stepDown.cancel();
        this.#stepDown = null;
      }
      this.#cancelElection?.();
      this.#cancelElection = null;
      this.#flushPending();
      return;
    }
    const cutLeader = this.leader;
    if (cutLeader !== null && this.#stepDown?.member !== cutLeader) {
      // CheckQuorum: the leader notices E..2E later on its own clock; until then it acts as leader.
      const afterMs =
        this.sim.rng.between(ETCD_ELECTION_TIMEOUT_MS, 2 * ETCD_ELECTION_TIMEOUT_MS) / cutLeader.clockRate;
      const cancel = this.sim.at(this.owner, afterMs, () => {
        if (this.#stepDown?.member === cutLeader) this.#stepDown = null;
        if (this.exLeader?.member === cutLeader) {
          this.#log(`ex-leader ${cutLeader.name} steps down (CheckQuorum)`);
          this.exLeader = null;
        } else if (this.leader === cutLeader && !this.leaderCommits) {
          this.#log(`leader ${cutLeader.name} steps down (CheckQuorum: no quorum for an election timeout)`);
          this.#dropPending('etcdserver: leader changed');
          this.leader = null;
        }
      });
      this.#stepDown = { member: cutLeader, cancel };
    }
    if (this.hasQuorum && this.#cancelElection === null) {
      // The majority's followers time out E..2E after the last heartbeat they got.
      const sinceHeartbeat = this.sim.rng.between(0, ETCD_HEARTBEAT_MS);
      const timeout = this.sim.rng.between(ETCD_ELECTION_TIMEOUT_MS, 2 * ETCD_ELECTION_TIMEOUT_MS);
      const vote = this.sim.rng.between(2 * this.remoteLatencyMs[0], 2 * this.remoteLatencyMs[1]);
      this.#cancelElection = this.sim.at(this.owner, Math.max(0, timeout - sinceHeartbeat) + vote, () => {
        this.#cancelElection = null;
        if (this.leaderCommits) return;
        const candidates = this.#connected();
        if (candidates.length <= this.members.length / 2) return;
        this.#elect(this.sim.rng.pick(candidates), 'election');
      });
    }
  }

  /** A new term's leader: the old one, if cut off and still acting, becomes an ex-leader. */
  #elect(next: Member, why: string): void {
    const old = this.leader;
    if (old !== null && old !== next && old.up && old.isolated && this.#stepDown?.member === old) {
      // Its CheckQuorum timer keeps running; until it fires it acknowledges keepalives from its lessor.
      const lessor = new Map(
        [...this.leases].map(([id, l]) => [id, { ttlSeconds: l.ttlSeconds, expiresAt: l.expiresAt }]),
      );
      this.exLeader = { member: old, lessor };
    } else if (this.#stepDown !== null) {
      this.#stepDown.cancel();
      this.#stepDown = null;
    }
    this.#dropPending('etcdserver: leader changed');
    this.leader = next;
    this.term += 1;
    // lessor.Promote(electionTimeout): every lease gets a full TTL plus one election timeout.
    for (const lease of this.leases.values())
      lease.expiresAt = this.sim.now + (ETCD_ELECTION_TIMEOUT_MS + lease.ttlSeconds * 1000) / next.clockRate;
    this.#log(
      `${next.name} is leader (term ${this.term}, ${why}); leases re-armed to TTL + election timeout`,
    );
  }

  #lessorLoop(): void {
    this.sim.at(this.owner, LESSOR_CHECK_MS / (this.leader?.clockRate ?? 1), () => {
      if (this.leaderCommits)
        for (const lease of [...this.leases.values()])
          if (lease.expiresAt <= this.sim.now) this.#revoke(lease, 'expired');
      this.#lessorLoop();
    });
  }

  #revoke(lease: Lease, why: string): void {
    if (!this.leases.delete(lease.id)) return;
    for (const key of lease.keys) this.store.delete(key);
    if (lease.keys.size > 0) this.revision += 1;
    this.#log(
      `lease ${lease.id} ${why}${lease.keys.size > 0 ? `: deleted ${[...lease.keys].join(', ')}` : ''}`,
    );
    for (const waiter of lease.waiters.splice(0)) waiter({ ttlSeconds: 0 });
  }

  #dropPending(message: string): void {
    for (const p of this.#pending.splice(0)) p.reply({ ok: false, error: new Error(message) });
  }

  #flushPending(): void {
    for (const p of this.#pending.splice(0)) {
      this.#log(`leader regained its quorum: applies ${p.from}'s ${p.op.kind} late`);
      this.#execute(p.op, p.reply);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Faults
  // ---------------------------------------------------------------------------------------------

  /** Cuts a member off from (or reconnects it to) every other member. */
  setIsolated(name: string, isolated: boolean): void {
    const member = this.member(name);
    if (member.isolated === isolated) return;
    member.isolated = isolated;
    this.#log(`member ${name} ${isolated ? 'cut off from the other members' : 'reconnected'}`);
    if (!isolated && this.exLeader?.member === member) {
      // It hears the higher term at once.
      this.#log(`ex-leader ${name} sees term ${this.term} and steps down`);
      this.exLeader = null;
    }
    this.#reconsider(isolated ? `${name} cut off` : `${name} back`);
  }

  /** Stops (crash, region loss) or restarts a member. */
  setUp(name: string, up: boolean): void {
    const member = this.member(name);
    if (member.up === up) return;
    member.up = up;
    this.#log(`member ${name} ${up ? 'restarted' : 'stopped'}`);
    if (!up && this.exLeader?.member === member) this.exLeader = null;
    this.#reconsider(up ? `${name} restarted` : `${name} stopped`);
  }

  /** A graceful leadership transfer (etcd's MoveLeader, or a leader's SIGTERM): quick, no quorum loss. */
  transferLeadership(): void {
    if (!this.leaderCommits) return;
    const others = this.#connected().filter((m) => m !== this.leader);
    if (others.length === 0) return;
    const next = this.sim.rng.pick(others);
    this.sim.at(this.owner, this.sim.rng.between(20, 80), () => {
      if (this.leaderCommits && next.up && !next.isolated) this.#elect(next, 'leadership transfer');
    });
  }

  #linkKey(region: string, member: string): string {
    return `${region}->${member}`;
  }

  link(region: string, member: string): EtcdLinkMode {
    return this.#links.get(this.#linkKey(region, member)) ?? 'pass';
  }

  /** Sets a region's link to one member; healing a blackhole may deliver what it held. */
  setLink(region: string, member: string, mode: EtcdLinkMode): void {
    const key = this.#linkKey(region, member);
    const before = this.link(region, member);
    if (before === mode) return;
    this.#links.set(key, mode);
    this.#log(`link ${region} -> ${member}: ${mode}`);
    if (before === 'hang' && mode !== 'hang') {
      const held = this.#held.get(key) ?? [];
      this.#held.delete(key);
      for (const request of held)
        if (mode === 'pass' && this.sim.rng.chance(this.heldDeliveryChance)) request.deliver();
    }
  }

  /** Sets a region's links to every member. */
  setRegionLinks(region: string, mode: EtcdLinkMode, members = this.members.map((m) => m.name)): void {
    for (const m of members) this.setLink(region, m, mode);
  }

  // ---------------------------------------------------------------------------------------------
  // Requests
  // ---------------------------------------------------------------------------------------------

  #latency(region: string, member: Member): number {
    const [min, max] = member.region === region ? this.localLatencyMs : this.remoteLatencyMs;
    return this.sim.rng.between(min, max);
  }

  /** Applies an operation to the committed state (the leader has a quorum). */
  #execute(op: Op, reply: Reply): void {
    const leader = this.leader!;
    const ok = (value: unknown): void => reply({ ok: true, value });
    const fail = (message: string): void => reply({ ok: false, error: new Error(message) });
    const leaseMissing = (id: EtcdLeaseId): boolean => id !== '0' && !this.leases.has(id);
    const attach = (key: string, lease: EtcdLeaseId): void => {
      const previous = this.store.get(key);
      if (previous !== undefined && previous.lease !== '0') this.leases.get(previous.lease)?.keys.delete(key);
      if (lease !== '0') this.leases.get(lease)!.keys.add(key);
    };
    switch (op.kind) {
      case 'grant': {
        const ttlSeconds = Math.max(op.ttlSeconds, ETCD_MIN_LEASE_TTL_SECONDS);
        const id = String(LEASE_ID_BASE + this.#nextLease++);
        this.leases.set(id, {
          id,
          ttlSeconds,
          expiresAt: this.sim.now + (ttlSeconds * 1000) / leader.clockRate,
          keys: new Set(),
          waiters: [],
        });
        this.#log(`lease ${id} granted (TTL ${ttlSeconds} s)`);
        ok({ id, ttlSeconds });
        return;
      }
      case 'keepalive': {
        const lease = this.leases.get(op.lease);
        if (lease === undefined) return ok({ ttlSeconds: 0 });
        if (lease.expiresAt <= this.sim.now) {
          // Expired, revoke pending: etcd's Renew waits for the revoke (or a leader change).
          lease.waiters.push((result) => ok(result));
          return;
        }
        lease.expiresAt = this.sim.now + (lease.ttlSeconds * 1000) / leader.clockRate;
        return ok({ ttlSeconds: lease.ttlSeconds });
      }
      case 'revoke': {
        const lease = this.leases.get(op.lease);
        if (lease !== undefined) this.#revoke(lease, 'revoked');
        return ok(undefined);
      }
      case 'get': {
        const entry = this.store.get(op.key);
        return ok(entry === undefined ? null : copy(entry));
      }
      case 'getPrefix': {
        const entries = [...this.store.values()]
          .filter((e) => e.key.startsWith(op.prefix))
          .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
          .map(copy);
        return ok({ entries, revision: this.revision });
      }
      case 'put': {
        if (leaseMissing(op.lease)) return fail('etcdserver: requested lease not found');
        this.revision += 1;
        const previous = this.store.get(op.key);
        attach(op.key, op.lease);
        this.store.set(op.key, {
          key: op.key,
          value: op.value,
          lease: op.lease,
          createRevision: previous?.createRevision ?? this.revision,
          modRevision: this.revision,
        });
        return ok(undefined);
      }
      case 'createIfAbsent': {
        const existing = this.store.get(op.key);
        if (existing !== undefined) return ok({ created: false, existing: copy(existing) });
        if (leaseMissing(op.lease)) return fail('etcdserver: requested lease not found');
        this.revision += 1;
        attach(op.key, op.lease);
        this.store.set(op.key, {
          key: op.key,
          value: op.value,
          lease: op.lease,
          createRevision: this.revision,
          modRevision: this.revision,
        });
        this.#log(`${op.key} created (lease ${op.lease}): ${op.value}`);
        return ok({ created: true });
      }
      case 'deleteIfLease': {
        const existing = this.store.get(op.key);
        if (existing === undefined || existing.lease !== op.lease) return ok(false);
        this.revision += 1;
        this.store.delete(op.key);
        this.leases.get(op.lease)?.keys.delete(op.key);
        this.#log(`${op.key} deleted by its holder (lease ${op.lease})`);
        return ok(true);
      }
    }
  }

  /** What the member does with a request that reached it. */
  #arrive(member: Member, op: Op, from: string, reply: Reply): void {
    if (!member.up) return;
    // An ex-leader (a previous term's leader that has not noticed) answers keepalives from its own lessor.
    if (this.exLeader?.member === member) {
      if (op.kind === 'keepalive') {
        const lease = this.exLeader.lessor.get(op.lease);
        if (lease === undefined) return reply({ ok: true, value: { ttlSeconds: 0 } });
        if (lease.expiresAt <= this.sim.now) return; // waits for a revoke it can never commit
        lease.expiresAt = this.sim.now + (lease.ttlSeconds * 1000) / member.clockRate;
        this.#log(`ex-leader ${member.name} acknowledges ${from}'s keepalive of ${op.lease}`);
        return reply({ ok: true, value: { ttlSeconds: lease.ttlSeconds } });
      }
      return; // proposals and reads wait for a quorum it never regains as leader
    }
    const leader = this.leader;
    if (leader === null) return; // no leader: the request waits (the caller times out)
    if (member === leader) {
      if (this.leaderCommits) return this.#commit(op, from, reply);
      // Cut off, not yet stepped down: keepalives are answered from its lessor, the rest waits.
      if (op.kind === 'keepalive') {
        const lease = this.leases.get(op.lease);
        if (lease === undefined) return reply({ ok: true, value: { ttlSeconds: 0 } });
        if (lease.expiresAt <= this.sim.now) return;
        lease.expiresAt = this.sim.now + (lease.ttlSeconds * 1000) / member.clockRate;
        this.#log(`leader ${member.name} (no quorum) acknowledges ${from}'s keepalive of ${op.lease}`);
        return reply({ ok: true, value: { ttlSeconds: lease.ttlSeconds } });
      }
      this.#pending.push({ op, from, reply });
      return;
    }
    // A follower forwards to the leader over the peer link (one hop there, one back with the reply).
    if (member.isolated || leader.isolated || !leader.up || !this.leaderCommits) return;
    const hop = this.sim.rng.between(this.remoteLatencyMs[0], this.remoteLatencyMs[1]);
    this.#commit(op, from, (outcome) => reply(outcome, hop), hop, member);
  }

  /**
   * A proposal or read at a leader with a quorum: applied after `forwardMs` (a follower's hop) and
   * one replication round trip (a keepalive needs none: the leader's lessor answers it).
   */
  #commit(op: Op, from: string, reply: Reply, forwardMs = 0, via: Member | null = null): void {
    const roundTrip =
      op.kind === 'keepalive'
        ? 0
        : this.sim.rng.between(2 * this.remoteLatencyMs[0], 2 * this.remoteLatencyMs[1]);
    const leader = this.leader;
    const apply = (): void => {
      if (via !== null && (!via.up || via.isolated)) return; // the forwarding follower is gone
      if (this.leader !== leader || !this.leaderCommits) {
        // Lost its quorum meanwhile: the entry waits (applied if it regains it, dropped otherwise).
        if (this.leader === leader) this.#pending.push({ op, from, reply });
        return;
      }
      this.#execute(op, reply);
    };
    if (forwardMs + roundTrip === 0) apply();
    else this.sim.at(this.owner, forwardMs + roundTrip, apply);
  }

  /** One client (a sidecar incarnation) in `region`, trying members in `order` (its own first). */
  client(region: string, who: string, owner: () => Owner): EtcdKv {
    const order = [
      ...this.members.filter((m) => m.region === region),
      ...this.members.filter((m) => m.region !== region),
    ];
    let current = 0;
    let closed = false;
    const next = (): void => {
      current = (current + 1) % order.length;
    };
    const call = <T>(op: Op, signal: AbortSignal): Promise<T> => {
      if (closed) return Promise.reject(new Error('etcd client closed'));
      if (signal.aborted) return Promise.reject(signal.reason);
      const client = owner();
      const member = order[current]!;
      return new Promise<T>((resolve, reject) => {
        let settled = false;
        const settle = (outcome: Outcome): void => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          if (outcome.ok) resolve(outcome.value as T);
          else {
            next();
            reject(outcome.error);
          }
        };
        const onAbort = (): void => {
          if (settled) return;
          settled = true;
          next();
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        if (!member.up) {
          this.sim.at(client, this.#latency(region, member), () =>
            settle({ ok: false, error: new Error(`connect ECONNREFUSED (${member.name})`) }),
          );
          return;
        }
        const mode = this.link(region, member.name);
        const key = this.#linkKey(region, member.name);
        const send = (): void => {
          this.sim.at(this.owner, this.#latency(region, member), () =>
            this.#arrive(member, op, who, (outcome, extraMs = 0) =>
              this.sim.at(client, extraMs + this.#latency(region, member), () => {
                // Lost on the way back: the member died or the link dropped it.
                if (member.up && this.link(region, member.name) === 'pass') settle(outcome);
              }),
            ),
          );
        };
        if (mode === 'drop-request') return;
        if (mode === 'hang') {
          const held = this.#held.get(key) ?? [];
          held.push({ deliver: send });
          this.#held.set(key, held);
          return;
        }
        send();
      });
    };
    return {
      grantLease: (ttlSeconds, signal) => call({ kind: 'grant', ttlSeconds }, signal),
      keepAliveOnce: (lease, signal) => call({ kind: 'keepalive', lease }, signal),
      revokeLease: (lease, signal) => call({ kind: 'revoke', lease }, signal),
      get: (key, signal) => call({ kind: 'get', key }, signal),
      getPrefix: (prefix, signal) => call({ kind: 'getPrefix', prefix }, signal),
      put: (key, value, lease, signal) => call({ kind: 'put', key, value, lease }, signal),
      createIfAbsent: (key, value, lease, signal) =>
        call({ kind: 'createIfAbsent', key, value, lease }, signal),
      deleteIfLease: (key, lease, signal) => call({ kind: 'deleteIfLease', key, lease }, signal),
      close: () => {
        closed = true;
        return Promise.resolve();
      },
    };
  }
}
