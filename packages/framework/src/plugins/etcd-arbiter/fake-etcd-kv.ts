/**
 * A small in-memory etcd for unit tests of the arbiter: one linearizable store with revisions,
 * leases that expire on the store's clock, and per-client faults (a client cut off, replies
 * lost after the write was applied, a leader change that extends every lease). The deterministic
 * simulation has the full model (test/dst); this one is only what the unit tests need.
 */
import type { Clock } from '../../contracts/index.js';
import type { EtcdChange, EtcdEntry, EtcdKv, EtcdLeaseId } from './etcd-kv.js';

interface StoredLease {
  ttlSeconds: number;
  expiresAtMs: number;
}

/** What one client sees of the store. */
export interface FakeEtcdClientFaults {
  /** Calls never reach the store: they hang until the caller's signal aborts. */
  cut: boolean;
  /** Calls are applied, then the reply is lost (the caller's signal aborts it). */
  loseReplies: boolean;
  /** Added to every call before it is applied (on the store's clock). */
  latencyMs: number;
  /**
   * The member this client talks to is an isolated ex-leader that has not stepped down yet: it
   * acknowledges keepalives without renewing anything the majority knows of, and cannot serve
   * linearizable reads or commit writes (they hang).
   */
  exLeader: boolean;
  /** Only these calls lose their replies (after being applied), e.g. `createIfAbsent`. */
  loseReplyOf: Set<keyof EtcdKv>;
  /** The next call of each of these fails at once, without reaching the store (a dead member). */
  failNext: Set<keyof EtcdKv>;
  /** Watch events are delivered (false: a watch that is broken or lags behind). */
  watch: boolean;
}

export class FakeEtcdStore {
  readonly #clock: Clock;
  readonly #data = new Map<string, EtcdEntry>();
  readonly #leases = new Map<string, StoredLease>();
  #revision = 1;
  #nextLease = 1000;
  readonly #watchers = new Set<{ prefix: string; deliver: (change: EtcdChange) => void }>();
  /** Every applied write, for assertions. */
  readonly log: Array<{ atMs: number; op: string; key: string; lease: string }> = [];

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get revision(): number {
    return this.#revision;
  }

  /** Expires leases whose time has come (etcd's lessor, on the leader's clock). */
  expire(): void {
    const now = this.#clock.monotonicMs();
    for (const [id, lease] of this.#leases) if (now >= lease.expiresAtMs) this.#dropLease(id, 'expire');
  }

  /** A leader change: every lease is extended to now + extendMs + its full TTL (lessor.Promote). */
  promote(extendMs: number): void {
    const now = this.#clock.monotonicMs();
    for (const lease of this.#leases.values())
      lease.expiresAtMs = Math.max(lease.expiresAtMs, now + extendMs + lease.ttlSeconds * 1000);
  }

  /** A hand edit: delete a key (etcdctl del). */
  deleteByHand(key: string): void {
    this.expire();
    if (this.#data.delete(key)) {
      this.#revision++;
      this.log.push({ atMs: this.#clock.monotonicMs(), op: 'delete-by-hand', key, lease: '0' });
      this.#notify({ key, type: 'delete', modRevision: this.#revision });
    }
  }

  get(key: string): EtcdEntry | null {
    this.expire();
    return this.#data.get(key) ?? null;
  }

  leaseExpiresAt(id: EtcdLeaseId): number | null {
    return this.#leases.get(id)?.expiresAtMs ?? null;
  }

  #dropLease(id: string, op: string): void {
    this.#leases.delete(id);
    const deleted: string[] = [];
    for (const [key, entry] of this.#data)
      if (entry.lease === id) {
        this.#data.delete(key);
        deleted.push(key);
        this.log.push({ atMs: this.#clock.monotonicMs(), op, key, lease: id });
      }
    if (deleted.length === 0) return;
    this.#revision++;
    for (const key of deleted) this.#notify({ key, type: 'delete', modRevision: this.#revision });
  }

  #notify(change: EtcdChange): void {
    for (const watcher of [...this.#watchers])
      if (change.key.startsWith(watcher.prefix)) watcher.deliver(change);
  }

  #put(key: string, value: string, lease: EtcdLeaseId): void {
    if (lease !== '0' && !this.#leases.has(lease)) throw new Error('etcdserver: requested lease not found');
    this.#revision++;
    const previous = this.#data.get(key);
    this.#data.set(key, {
      key,
      value,
      lease,
      createRevision: previous?.createRevision ?? this.#revision,
      modRevision: this.#revision,
    });
    this.log.push({ atMs: this.#clock.monotonicMs(), op: 'put', key, lease });
    this.#notify({ key, type: 'put', modRevision: this.#revision });
  }

  /** A client with its own faults. */
  client(): EtcdKv & { faults: FakeEtcdClientFaults } {
    const faults: FakeEtcdClientFaults = {
      cut: false,
      loseReplies: false,
      latencyMs: 0,
      exLeader: false,
      loseReplyOf: new Set(),
      failNext: new Set(),
      watch: true,
    };
    const hang = (signal: AbortSignal): Promise<never> =>
      new Promise((_, reject) => {
        const fail = (): void =>
          reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        if (signal.aborted) fail();
        else signal.addEventListener('abort', fail, { once: true });
      });
    const run = async <T>(signal: AbortSignal, apply: () => T, op?: keyof EtcdKv): Promise<T> => {
      if (op !== undefined && faults.failNext.delete(op))
        throw new Error('14 UNAVAILABLE: No connection established (fake)');
      if (faults.latencyMs > 0) await this.#clock.sleep(faults.latencyMs, signal);
      if (faults.cut || faults.exLeader) return hang(signal);
      this.expire();
      const result = apply();
      if (faults.loseReplies || (op !== undefined && faults.loseReplyOf.has(op))) return hang(signal);
      return result;
    };
    const now = (): number => this.#clock.monotonicMs();
    return {
      faults,
      grantLease: (ttlSeconds, signal) =>
        run(signal, () => {
          const id = String(this.#nextLease++);
          this.#leases.set(id, { ttlSeconds, expiresAtMs: now() + ttlSeconds * 1000 });
          return { id, ttlSeconds };
        }),
      keepAliveOnce: async (lease, signal) => {
        if (faults.exLeader && !faults.cut) {
          if (faults.latencyMs > 0) await this.#clock.sleep(faults.latencyMs, signal);
          const l = this.#leases.get(lease);
          return { ttlSeconds: l?.ttlSeconds ?? 0 };
        }
        return run(signal, () => {
          const l = this.#leases.get(lease);
          if (l === undefined) return { ttlSeconds: 0 };
          l.expiresAtMs = Math.max(l.expiresAtMs, now() + l.ttlSeconds * 1000);
          return { ttlSeconds: l.ttlSeconds };
        });
      },
      revokeLease: (lease, signal) => run(signal, () => this.#dropLease(lease, 'revoke')),
      get: (key, signal) => run(signal, () => this.#data.get(key) ?? null),
      getPrefix: (prefix, signal) =>
        run(
          signal,
          () => ({
            entries: [...this.#data.values()]
              .filter((e) => e.key.startsWith(prefix))
              .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
            revision: this.#revision,
          }),
          'getPrefix',
        ),
      put: (key, value, lease, signal) => run(signal, () => this.#put(key, value, lease)),
      createIfAbsent: (key, value, lease, signal) =>
        run(
          signal,
          () => {
            const existing = this.#data.get(key);
            if (existing !== undefined) return { created: false as const, existing };
            this.#put(key, value, lease);
            return { created: true as const };
          },
          'createIfAbsent',
        ),
      deleteIfLease: (key, lease, signal) =>
        run(signal, () => {
          const existing = this.#data.get(key);
          if (existing === undefined || existing.lease !== lease) return false;
          this.#data.delete(key);
          this.#revision++;
          this.log.push({ atMs: now(), op: 'delete', key, lease });
          this.#notify({ key, type: 'delete', modRevision: this.#revision });
          return true;
        }),
      // Events reach a client only while it can talk to the store (a cut client misses them:
      // a real watch would deliver them late, which only makes them less useful).
      watchPrefix: async (prefix, onChange) => {
        const watcher = {
          prefix,
          deliver: (change: EtcdChange): void => {
            if (!faults.cut && !faults.exLeader && faults.watch) onChange(change);
          },
        };
        this.#watchers.add(watcher);
        return {
          close: async () => {
            this.#watchers.delete(watcher);
          },
        };
      },
      close: async () => undefined,
    };
  }
}
