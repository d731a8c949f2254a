/**
 * Writes the CardanoForgeCluster's status: only while this pod holds the lease, plus once after it
 * stepped down to clear its own name (guarded by resourceVersion, so it never overwrites a newer
 * leader's write). One write at a time; a change during a write is written right after it; a failed
 * write backs off.
 */
import type { GlobalForgeView } from './global-status.js';
import type { Logger } from 'pino';
import type { Clock } from '../contracts/index.js';
import { createBackoff } from '../core/backoff.js';
import type { ClusterObject, ClusterObjectGateway } from './gateway.js';
import type { HealthCounters } from './health.js';
import { readSpecHealthCheck, type EffectivePolicy } from './policy.js';
import type { PolicySnapshot, TimedHealthRound } from './policy-snapshot.js';
import { buildDesiredStatus, statusPatch, type LeadershipView } from './status.js';

/** The decision loop's outcome as the cluster manager is told it. */
export interface LeadershipReport {
  readonly activeLeader: string;
  readonly forgingEnabled: boolean;
  readonly isLeader: boolean;
}

export interface StatusWriterDeps {
  readonly clock: Clock;
  readonly gateway: ClusterObjectGateway;
  readonly logger: Logger;
  /** A successful write returns the whole current object: it confirms the policy too. */
  readonly onWritten: (object: ClusterObject, atMs: number) => void;
  /** Something changed while a write was in flight: compute the status again. */
  readonly onWriteAgain: () => void;
}

export interface StatusWriterOptions {
  readonly name: string;
  readonly podName: string;
  readonly probesConfigured: boolean;
  /** The config's failure threshold, used when spec.healthCheck.failureThreshold is absent. */
  readonly failureThreshold: number;
}

export interface StatusWriteInput {
  readonly object: ClusterObject;
  readonly snapshot: PolicySnapshot;
  readonly policy: EffectivePolicy;
  readonly localLeader: boolean;
  readonly leadership: LeadershipReport | null;
  readonly health: { readonly counters: HealthCounters; readonly lastRound: TimedHealthRound | null };
  /** Global mode only: the cross-region arbiter's view (status.globalArbiter). */
  readonly global?: GlobalForgeView | null;
}

export interface StatusWriter {
  /** This pod took the lease: it owns the status until it has cleared its name after stepping down. */
  becameLeader(): void;
  write(input: StatusWriteInput): Promise<void>;
}

export function createStatusWriter(deps: StatusWriterDeps, options: StatusWriterOptions): StatusWriter {
  const { clock, gateway } = deps;
  const log = deps.logger;
  let wasWriter = false;
  let writing = false;
  let writeAgain = false;
  let nextWriteAttemptMs = 0;
  const backoff = createBackoff({ initialMs: 1000, maxMs: 30_000 });

  function leadershipView(input: StatusWriteInput): LeadershipView | null {
    if (input.localLeader) {
      return {
        mode: 'leader',
        activeLeader: options.podName,
        forgingEnabled: input.leadership?.isLeader === true ? input.leadership.forgingEnabled : null,
      };
    }
    if (wasWriter && input.object.status?.activeLeader === options.podName)
      return { mode: 'stepped-down', podName: options.podName };
    return null;
  }

  async function write(input: StatusWriteInput): Promise<void> {
    const lead = leadershipView(input);
    if (lead === null) return;
    if (writing) {
      writeAgain = true;
      return;
    }
    if (clock.monotonicMs() < nextWriteAttemptMs) return;
    const { object, snapshot, policy, health } = input;
    const spec = readSpecHealthCheck(object.spec).healthCheck;
    const desired = buildDesiredStatus({
      nowWall: clock.wallNow(),
      observed: object.status,
      generation: snapshot.generation,
      effectiveState: policy.effectiveState,
      effectivePriority: policy.effectivePriority,
      forgingAllowed: snapshot.forgingAllowed,
      reason: snapshot.reason,
      message: snapshot.message,
      stale: snapshot.stale,
      override: policy.override,
      problems: policy.problems,
      health: {
        configured: options.probesConfigured && lead.mode === 'leader',
        lastRound: health.lastRound,
        consecutiveFailures: health.counters.consecutiveFailures,
        failureThreshold: spec.failureThreshold ?? options.failureThreshold,
        recoveryStreak: health.counters.recoveryStreak,
      },
      leadership: lead,
      global: input.global ?? null,
    });
    const patch = statusPatch(desired, object.status);
    if (patch === null) {
      if (lead.mode === 'stepped-down') wasWriter = false;
      return;
    }
    writing = true;
    try {
      const guard = lead.mode === 'stepped-down' ? object.metadata.resourceVersion : undefined;
      const result = await gateway.patchStatus(options.name, patch, guard);
      if (result.ok) {
        backoff.reset();
        if (lead.mode === 'stepped-down') wasWriter = false;
        // The response is the whole current object, so it also confirms the policy. It is applied
        // unless the cache already holds something newer (confirm compares resourceVersions): the
        // next status is computed from it, so a dropped response would re-stamp condition times.
        deps.onWritten(result.value, clock.monotonicMs());
        log.debug({ keys: Object.keys(patch) }, 'status written');
      } else if (lead.mode === 'stepped-down' && result.kind === 'conflict') {
        wasWriter = false; // someone else wrote since: the new leader owns the status now
      } else {
        nextWriteAttemptMs = clock.monotonicMs() + backoff.next();
        log.warn({ err: result.message }, 'writing CardanoForgeCluster status failed');
      }
    } finally {
      writing = false;
    }
    if (writeAgain) {
      writeAgain = false;
      deps.onWriteAgain();
    }
  }

  return {
    becameLeader() {
      wasWriter = true;
    },
    write,
  };
}
