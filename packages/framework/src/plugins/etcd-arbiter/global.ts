/**
 * Global mode: the region's local LeaderElector (the Kubernetes Lease) composed with the etcd
 * arbiter. The reconciler and decide() see one LeaderElector and one policy feed, unchanged:
 *
 *  - the elector leads only while the pod holds BOTH the local lease and the forger key; its
 *    fencing deadline is the earlier of the two, its takeover grace the later (like the
 *    MultiLock of multi-lease.ts). `holder` names us while either names us, so a shutdown or a
 *    lost candidacy releases both (decide() releases only what names us);
 *  - when the arbiter must give the key up (a better region for the hold-down, a manual override,
 *    Disabled, health demotion, lost region lease), the policy feed says "forging not allowed":
 *    decide() then revokes, signals, waits for the node's confirmation and calls release(), which
 *    writes the release marker and deletes the key before releasing the local lease. So the
 *    handover runs through the same fail-closed path as every other withdrawal (Rule R).
 */
import type { Logger } from 'pino';
import type { Clock, LeaderElector, LeadershipSnapshot } from '../../contracts/index.js';
import type { PolicyView } from '../../core/decide.js';
import type { GlobalForgeView } from '../../cluster/global-status.js';
import type { EtcdKv } from './etcd-kv.js';
import { EtcdArbiter, type ArbiterSnapshot, type CandidacyInput } from './arbiter.js';
import type { ArbiterMetrics } from './metrics.js';
import type { ArbiterTiming } from './protocol.js';

/** What the arbiter reads of the cluster policy (cluster/manager.ts PolicySnapshot fits). */
export interface GlobalPolicyView extends PolicyView {
  readonly effectivePriority?: number | null;
  readonly override?: { readonly active: boolean } | null;
  readonly health?: { readonly consecutiveFailures: number };
}

/** The policy source the sidecar uses (manager/sidecar.ts SidecarPolicy), structurally. */
export interface WrappablePolicy<V extends GlobalPolicyView = GlobalPolicyView> {
  snapshot(): V;
  subscribe?(listener: () => void): () => void;
  start?(signal: AbortSignal): Promise<void>;
  stop?(): Promise<void>;
  setLocalLeader?(isLeader: boolean): void;
  reportLeadership?(report: {
    activeLeader: string;
    forgingEnabled: boolean;
    isLeader: boolean;
  }): Promise<void>;
  /** Status and metrics of the arbiter (cluster/manager.ts). */
  reportGlobal?(view: GlobalForgeView): void;
}

export interface GlobalCoordinationDeps<P extends WrappablePolicy> {
  readonly kv: EtcdKv;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: ArbiterMetrics | undefined;
  readonly local: LeaderElector;
  readonly policy: P;
  /** Called after the elector stopped (closes the etcd client). */
  readonly onStopped?: (() => Promise<void>) | undefined;
}

export interface GlobalCoordinationOptions {
  readonly prefix: string;
  readonly region: string;
  readonly ttlSeconds: number;
  readonly holdDownMs: number;
  readonly timing: ArbiterTiming;
  /** Used when the policy has no effective priority (cluster management off). */
  readonly basePriority: number;
  /** Health failures at or above this demote the region (cluster.healthCheck.failureThreshold). */
  readonly failureThreshold: number;
}

export interface GlobalCoordination<P extends WrappablePolicy> {
  readonly elector: LeaderElector;
  readonly policy: P;
  readonly arbiter: EtcdArbiter;
}

/** Pure: this pod's candidacy from the local lease, the policy and the decision loop's candidacy. */
export function candidacyFrom(input: {
  nowMs: number;
  local: LeadershipSnapshot;
  policy: GlobalPolicyView;
  decisionCandidate: boolean;
  basePriority: number;
  failureThreshold: number;
}): Omit<CandidacyInput, 'since'> {
  const { local, policy } = input;
  const localLeader = local.holder === local.identity && input.nowMs < local.leaderUntilMs;
  const eligible = policy.forgingAllowed && input.decisionCandidate;
  return {
    localLeader,
    eligible,
    priority: policy.effectivePriority ?? input.basePriority,
    demoted: (policy.health?.consecutiveFailures ?? 0) >= input.failureThreshold,
    manual: policy.override?.active === true,
    reason: eligible ? policy.reason : policy.forgingAllowed ? 'NotCandidate' : policy.reason,
    message: !localLeader
      ? 'not the region leader'
      : eligible
        ? policy.message
        : policy.forgingAllowed
          ? "the decision loop withdrew this pod's candidacy (node not ready, credentials invalid, fault)"
          : policy.message,
  };
}

/** Pure: what the cluster status and metrics show of the arbiter. */
export function globalForgeView(s: ArbiterSnapshot, region: string, nowMs: number): GlobalForgeView {
  return {
    forging: s.leaderUntilMs > nowMs && nowMs >= s.actAfterMs,
    forgerRegion: s.status.forgerRegion,
    region,
    rank: s.status.rank,
    eligibleCandidates: s.status.eligibleCandidates,
    role: s.status.role,
    reason: s.status.reason,
    message: s.status.message,
    connected: s.connected,
  };
}

/** Pure: the composed leadership of local lease and forger key. */
export function combineLeadership(local: LeadershipSnapshot, global: ArbiterSnapshot): LeadershipSnapshot {
  const me = local.identity;
  const localLeads = local.holder === me && local.leaderUntilMs > 0;
  const both = localLeads && global.leaderUntilMs > 0;
  const holder = local.holder === me || global.held ? me : local.holder;
  const explain = both
    ? { reason: local.reason, message: `${local.message}; ${global.status.message}` }
    : localLeads
      ? { reason: global.status.reason, message: `global: ${global.status.message}` }
      : { reason: local.reason, message: local.message };
  return {
    lockName: `${local.lockName}+global`,
    identity: me,
    holder,
    leaderUntilMs: both ? Math.min(local.leaderUntilMs, global.leaderUntilMs) : 0,
    transitions: local.transitions,
    observedAtMs: local.observedAtMs,
    reason: explain.reason,
    message: explain.message,
    ...(both
      ? {
          acquiredFromRelease: local.acquiredFromRelease === true && global.acquiredFromRelease,
          actAfterMs: Math.max(local.actAfterMs ?? 0, global.actAfterMs),
        }
      : {}),
  };
}

function leadsLocally(s: LeadershipSnapshot): boolean {
  return s.holder === s.identity && s.leaderUntilMs > 0;
}

class GlobalElector implements LeaderElector {
  readonly identity: string;
  readonly #local: LeaderElector;
  readonly #arbiter: EtcdArbiter;
  readonly #listeners = new Set<(s: LeadershipSnapshot) => void>();
  readonly #onStopped: (() => Promise<void>) | undefined;
  #snapshot: LeadershipSnapshot;

  constructor(local: LeaderElector, arbiter: EtcdArbiter, onStopped: (() => Promise<void>) | undefined) {
    this.identity = local.identity;
    this.#local = local;
    this.#arbiter = arbiter;
    this.#onStopped = onStopped;
    this.#snapshot = combineLeadership(local.snapshot(), arbiter.snapshot());
    // The arbiter runs every retry period; it is woken early only when something it decides on
    // changed (not by renewals, whose only news is a later observedAtMs).
    let localLeads = leadsLocally(local.snapshot());
    local.subscribe((s) => {
      const now = leadsLocally(s);
      if (now !== localLeads) {
        localLeads = now;
        arbiter.wake();
      }
      this.#publish();
    });
    arbiter.subscribe(() => this.#publish());
  }

  async start(signal: AbortSignal): Promise<void> {
    await this.#local.start(signal);
    await this.#arbiter.start(signal);
  }

  /** The decision loop's candidacy: the local lease's, and the region's in etcd. */
  setCandidacy(eligible: boolean, why: string): void {
    this.#local.setCandidacy(eligible, why);
    if (eligible === this.decisionCandidate) return;
    this.decisionCandidate = eligible;
    this.#arbiter.wake();
  }

  decisionCandidate = true;

  snapshot(): LeadershipSnapshot {
    this.#publish();
    return this.#snapshot;
  }

  subscribe(listener: (s: LeadershipSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Called once the node is confirmed not forging: the forger key first, then the local lease. */
  async release(signal: AbortSignal): Promise<void> {
    if (this.#arbiter.snapshot().held) await this.#arbiter.release(signal);
    await this.#local.release(signal);
    this.#publish();
  }

  async stop(): Promise<void> {
    await this.#local.stop();
    await this.#arbiter.stop();
    await this.#onStopped?.();
    this.#publish();
  }

  #publish(): void {
    const next = combineLeadership(this.#local.snapshot(), this.#arbiter.snapshot());
    const previous = this.#snapshot;
    if (JSON.stringify(next) === JSON.stringify(previous)) return;
    this.#snapshot = Object.freeze(next);
    for (const listener of [...this.#listeners]) {
      try {
        listener(this.#snapshot);
      } catch {
        // A listener's failure is its own; the others still get the snapshot.
      }
    }
  }
}

/**
 * The policy feed the reconciler sees: the cluster policy, except that forging is not allowed
 * while the arbiter wants the key given up (so decide() withdraws and then releases). The
 * cluster manager's "local leader" (it runs the health loop and writes the status) stays the
 * holder of the region's Lease, not the global forger: every region's leader probes its health.
 */
export function globalPolicyFeed<P extends WrappablePolicy>(
  base: P,
  arbiter: EtcdArbiter,
  localLeads: () => boolean,
): P {
  const snapshot = (): ReturnType<P['snapshot']> => {
    const view = base.snapshot() as ReturnType<P['snapshot']>;
    const handover = arbiter.snapshot().handover;
    if (handover === null) return view;
    return {
      ...view,
      forgingAllowed: false,
      reason: `global_${handover.reason}`,
      message: `handing the forger key over: ${handover.message}`,
    };
  };
  const wrapped: WrappablePolicy = {
    snapshot,
    subscribe(listener) {
      const a = base.subscribe?.(listener);
      // Only a change of the handover matters to the policy (not every round's news).
      let handover = JSON.stringify(arbiter.snapshot().handover);
      const b = arbiter.subscribe((s) => {
        const next = JSON.stringify(s.handover);
        if (next === handover) return;
        handover = next;
        listener();
      });
      return () => {
        a?.();
        b();
      };
    },
    ...(base.start ? { start: (signal: AbortSignal) => base.start!(signal) } : {}),
    ...(base.stop ? { stop: () => base.stop!() } : {}),
    ...(base.setLocalLeader ? { setLocalLeader: () => base.setLocalLeader!(localLeads()) } : {}),
    ...(base.reportLeadership
      ? {
          reportLeadership: (r: Parameters<NonNullable<P['reportLeadership']>>[0]) =>
            base.reportLeadership!({ ...r, isLeader: localLeads() }),
        }
      : {}),
  };
  return wrapped as P;
}

export function createGlobalCoordination<P extends WrappablePolicy>(
  deps: GlobalCoordinationDeps<P>,
  options: GlobalCoordinationOptions,
): GlobalCoordination<P> {
  let since = deps.clock.wallNow().toISOString();
  let sinceKey = '';
  let elector: GlobalElector | null = null;
  const candidacy = (): CandidacyInput => {
    const c = candidacyFrom({
      nowMs: deps.clock.monotonicMs(),
      local: deps.local.snapshot(),
      policy: deps.policy.snapshot(),
      decisionCandidate: elector?.decisionCandidate ?? true,
      basePriority: options.basePriority,
      failureThreshold: options.failureThreshold,
    });
    const key = `${c.eligible}|${c.priority}|${c.demoted}|${c.manual}`;
    if (key !== sinceKey) {
      sinceKey = key;
      since = deps.clock.wallNow().toISOString();
    }
    return { ...c, since };
  };
  const arbiter = new EtcdArbiter(
    { kv: deps.kv, clock: deps.clock, logger: deps.logger, metrics: deps.metrics, candidacy },
    {
      prefix: options.prefix,
      region: options.region,
      identity: deps.local.identity,
      ttlSeconds: options.ttlSeconds,
      holdDownMs: options.holdDownMs,
      timing: options.timing,
    },
  );
  elector = new GlobalElector(deps.local, arbiter, deps.onStopped);
  deps.policy.subscribe?.(() => arbiter.wake());
  if (deps.policy.reportGlobal) {
    const report = (s: ArbiterSnapshot): void =>
      deps.policy.reportGlobal!(globalForgeView(s, options.region, deps.clock.monotonicMs()));
    arbiter.subscribe(report);
    report(arbiter.snapshot());
  }
  const localLeads = (): boolean => {
    const s = deps.local.snapshot();
    return s.holder === s.identity && deps.clock.monotonicMs() < s.leaderUntilMs;
  };
  return { elector, policy: globalPolicyFeed(deps.policy, arbiter, localLeads), arbiter };
}
