import { describe, expect, it } from 'vitest';
import type { ClusterObject } from './gateway.js';
import { INITIAL_HEALTH_COUNTERS } from './health.js';
import type { EffectivePolicy } from './policy.js';
import {
  evaluatePolicySnapshot,
  failuresForPolicy,
  type HealthState,
  type SnapshotInput,
} from './policy-snapshot.js';

const object = (status?: Record<string, unknown>): ClusterObject => ({
  apiVersion: 'cardano.io/v1',
  kind: 'CardanoForgeCluster',
  metadata: { name: 'c', namespace: 'n', generation: 4, resourceVersion: '10' },
  spec: { forgeState: 'Priority-based' },
  ...(status ? { status } : {}),
});
const allowed: EffectivePolicy = {
  effectiveState: 'Priority-based',
  effectivePriority: 100,
  forgingAllowed: true,
  reason: 'PriorityBased',
  message: 'priority-based',
  override: { active: false, expired: false, message: '' },
  problems: [],
  failureThreshold: 3,
};
const follower: HealthState = {
  probesConfigured: true,
  localLeader: false,
  counters: INITIAL_HEALTH_COUNTERS,
  lastRound: null,
};
const input = (overrides: Partial<SnapshotInput> = {}): SnapshotInput => ({
  nowMs: 10_000,
  cache: { object: object(), lastConfirmedMs: 9_000, loadProblem: null, lastReadError: '' },
  policyStaleAfterSeconds: 5,
  health: follower,
  policyOf: () => allowed,
  ...overrides,
});

describe('the policy snapshot (pure, fail closed)', () => {
  it('forbids forging until the object has been read, and says why a read or create failed', () => {
    const unread = evaluatePolicySnapshot(
      input({ cache: { object: null, lastConfirmedMs: null, loadProblem: null, lastReadError: '' } }),
    );
    expect(unread).toMatchObject({
      policy: null,
      snapshot: { forgingAllowed: false, reason: 'PolicyNotLoaded', stale: true },
    });
    const unreadable = evaluatePolicySnapshot(
      input({ cache: { object: null, lastConfirmedMs: null, loadProblem: null, lastReadError: 'HTTP 403' } }),
    );
    expect(unreadable.snapshot.message).toBe('the CardanoForgeCluster could not be read: HTTP 403');
    const problem = { reason: 'ClusterCreateFailed' as const, message: 'creating failed: quota' };
    const notCreated = evaluatePolicySnapshot(
      input({ cache: { object: null, lastConfirmedMs: null, loadProblem: problem, lastReadError: '' } }),
    );
    expect(notCreated.snapshot).toMatchObject({
      forgingAllowed: false,
      reason: 'ClusterCreateFailed',
      message: 'creating failed: quota',
    });
  });

  it('follows the policy while confirmed, and forbids forging once not confirmed for the bound', () => {
    expect(evaluatePolicySnapshot(input()).snapshot).toMatchObject({
      forgingAllowed: true,
      stale: false,
      generation: 4,
      observedAtMs: 9_000,
    });
    const stale = evaluatePolicySnapshot(input({ nowMs: 14_001 })).snapshot;
    expect(stale).toMatchObject({
      forgingAllowed: false,
      stale: true,
      reason: 'PolicyStale',
      effectivePriority: 100,
    });
    expect(stale.message).toContain('policy not confirmed for 5 s (bound 5 s)');
  });

  it('a follower takes the failure count the leader published; the leader its own count', () => {
    const published = object({ healthStatus: { consecutiveFailures: 2 } });
    expect(failuresForPolicy(follower, published)).toBe(2);
    expect(failuresForPolicy(follower, object({ healthStatus: { consecutiveFailures: -1 } }))).toBe(0);
    const leader: HealthState = {
      ...follower,
      localLeader: true,
      counters: { consecutiveFailures: 5, recoveryStreak: 0 },
    };
    expect(failuresForPolicy(leader, published)).toBe(5);
    const snapshot = evaluatePolicySnapshot(
      input({ cache: { object: published, lastConfirmedMs: 9_000, loadProblem: null, lastReadError: '' } }),
    ).snapshot;
    expect(snapshot.health).toEqual({
      healthy: null,
      consecutiveFailures: 2,
      message: 'health is probed by the leader only',
    });
  });
});
