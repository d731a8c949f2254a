/**
 * Two Leases held as one lock, for an upgrade that changes the lease name (client-go's MultiLock
 * did the same to migrate from Endpoints/ConfigMap locks to Leases). The Python sidecar used
 * `cardano-node-leader` even when POOL_ID was set (G12); this sidecar uses the computed
 * `cardano-leader-{network}-{short}`. In a mixed old/new StatefulSet each would lead on its own
 * lease, so a new pod leads only while it holds BOTH: an old pod holding the legacy lease blocks
 * every new pod, and a new leader blocks old pods.
 *
 * No deadlock between new pods: every new pod takes the legacy lease FIRST and contends for the
 * primary only while it leads the legacy one (old pods only know the legacy lease), so two new
 * pods can never each hold one lease and wait for the other. The leader fences on the EARLIER of
 * the two deadlines, acts after the LATER of the two takeover graces, and releases both.
 */
import type { LeaderElector, LeadershipSnapshot } from '../../contracts/index.js';

export class MultiLeaseElector implements LeaderElector {
  readonly identity: string;
  readonly #primary: LeaderElector;
  readonly #legacy: LeaderElector;
  readonly #listeners = new Set<(snapshot: LeadershipSnapshot) => void>();
  #eligible = true;
  #snapshot: LeadershipSnapshot;

  /** Both electors must share one identity (one process incarnation) and must not be started. */
  constructor(primary: LeaderElector, legacy: LeaderElector) {
    if (primary.identity !== legacy.identity)
      throw new Error(
        `kubernetes-lease: both leases must be held under one identity (got ${primary.identity} and ${legacy.identity})`,
      );
    this.identity = primary.identity;
    this.#primary = primary;
    this.#legacy = legacy;
    this.#snapshot = this.#combine();
    legacy.subscribe(() => {
      this.#gatePrimary();
      this.#publish();
    });
    primary.subscribe(() => this.#publish());
    this.#gatePrimary();
  }

  async start(signal: AbortSignal): Promise<void> {
    await this.#legacy.start(signal);
    await this.#primary.start(signal);
  }

  setCandidacy(eligible: boolean, why: string): void {
    this.#eligible = eligible;
    this.#legacy.setCandidacy(eligible, why);
    this.#gatePrimary();
  }

  snapshot(): LeadershipSnapshot {
    return this.#snapshot;
  }

  subscribe(listener: (snapshot: LeadershipSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Releases both leases (the caller has revoked); withdraws candidacy like a single lease. */
  async release(signal: AbortSignal): Promise<void> {
    this.#eligible = false;
    await Promise.all([this.#primary.release(signal), this.#legacy.release(signal)]);
    this.#publish();
  }

  async stop(): Promise<void> {
    await Promise.all([this.#primary.stop(), this.#legacy.stop()]);
    this.#publish();
  }

  /** The primary lease is contended for only while the legacy one is held (the lock order). */
  #gatePrimary(): void {
    const legacyLeads = this.#leads(this.#legacy.snapshot());
    this.#primary.setCandidacy(
      this.#eligible && legacyLeads,
      legacyLeads ? 'holds the legacy lease' : 'waits for the legacy lease first',
    );
  }

  #leads(s: LeadershipSnapshot): boolean {
    return s.holder === this.identity && s.leaderUntilMs > 0;
  }

  #combine(): LeadershipSnapshot {
    const primary = this.#primary.snapshot();
    const legacy = this.#legacy.snapshot();
    const both = this.#leads(primary) && this.#leads(legacy);
    const mine = (s: LeadershipSnapshot): boolean => s.holder === this.identity;
    const foreign = (s: LeadershipSnapshot): boolean => s.holder !== null && s.holder !== '' && !mine(s);
    // holder = us while either record names us, so that a stop or a lost candidacy releases both
    // (decide() releases only what names us); otherwise whoever blocks us, legacy first.
    const holder =
      mine(primary) || mine(legacy)
        ? this.identity
        : foreign(legacy)
          ? legacy.holder
          : foreign(primary)
            ? primary.holder
            : (legacy.holder ?? primary.holder);
    const explain = both ? primary : !this.#leads(legacy) ? legacy : primary;
    const prefix = both ? '' : `${explain.lockName}: `;
    return {
      lockName: `${primary.lockName}+${legacy.lockName}`,
      identity: this.identity,
      holder,
      leaderUntilMs: both ? Math.min(primary.leaderUntilMs, legacy.leaderUntilMs) : 0,
      transitions: primary.transitions,
      observedAtMs: Math.min(primary.observedAtMs, legacy.observedAtMs),
      reason: explain.reason,
      message: `${prefix}${explain.message}`,
      ...(both
        ? {
            acquiredFromRelease: primary.acquiredFromRelease === true && legacy.acquiredFromRelease === true,
            actAfterMs: Math.max(primary.actAfterMs ?? 0, legacy.actAfterMs ?? 0),
          }
        : {}),
    };
  }

  #publish(): void {
    const next = this.#combine();
    const previous = this.#snapshot;
    if (JSON.stringify(next) === JSON.stringify(previous)) return;
    this.#snapshot = Object.freeze(next);
    for (const listener of [...this.#listeners]) {
      try {
        listener(this.#snapshot);
      } catch {
        // A listener's failure is its own; the other listeners still get the snapshot.
      }
    }
  }
}

export function createMultiLeaseElector(primary: LeaderElector, legacy: LeaderElector): LeaderElector {
  return new MultiLeaseElector(primary, legacy);
}
