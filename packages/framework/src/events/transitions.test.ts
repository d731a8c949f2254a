import { describe, expect, it } from 'vitest';
import type { Action } from '../core/decide.js';
import type { ActionResult, TickRecord } from '../core/reconciler.js';
import { UNKNOWN_BELIEF } from '../core/node-belief.js';
import { transitionsBetween } from './transitions.js';

interface TickInput {
  leader?: boolean;
  forging?: boolean | null;
  policyReason?: string;
  actions?: Action[];
  results?: ActionResult[];
  acquiredFromRelease?: boolean;
}

function tick(input: TickInput = {}): TickRecord {
  const leader = input.leader ?? false;
  const forging = input.forging === undefined ? false : input.forging;
  return {
    observation: {
      nowMs: 0,
      phase: 'running',
      node: { socket: 'up', pid: 42, forgingMetric: null, atTip: null, message: 'up' },
      nodeLoaded: { ...UNKNOWN_BELIEF, forging },
      leadership: {
        lockName: 'cardano-leader-mainnet-pool1abcde',
        identity: 'bp-0',
        holder: leader ? 'bp-0' : 'bp-1',
        leaderUntilMs: leader ? 10_000 : 0,
        transitions: 3,
        observedAtMs: 0,
        reason: 'Held',
        message: 'held',
        ...(input.acquiredFromRelease !== undefined
          ? { acquiredFromRelease: input.acquiredFromRelease }
          : {}),
      },
      policy: {
        forgingAllowed: true,
        reason: input.policyReason ?? 'healthy_operation',
        message: 'policy message',
      },
      credentials: {
        presence: 'none',
        upToDate: false,
        sourcesValid: true,
        sourceFingerprint: null,
        reason: 'Absent',
        message: 'absent',
      },
      credentialsUnrevocable: false,
      revokeRetryDue: false,
      fault: null,
      config: {
        startAsNonProducing: true,
        disableSocketCheck: false,
        confirmTimeoutMs: 3000,
        handoverHoldDownMs: 30_000,
      },
    },
    decision: {
      candidate: true,
      leader,
      forge: leader,
      actions: input.actions ?? [],
      reason: leader ? 'Leader' : 'Follower',
      message: leader ? 'holds the lease' : 'another pod holds the lease',
    },
    results: input.results ?? [],
    nodeLoaded: { ...UNKNOWN_BELIEF, forging },
    credentialsUnrevocable: false,
    completedAtMs: 0,
  };
}

const reasons = (prev: TickRecord | null, next: TickRecord) =>
  transitionsBetween(prev, next).map((e) => e.reason);

describe('transitionsBetween', () => {
  it('reports nothing when nothing changed', () => {
    expect(
      transitionsBetween(tick({ leader: true, forging: true }), tick({ leader: true, forging: true })),
    ).toEqual([]);
    expect(transitionsBetween(null, tick())).toEqual([]);
  });

  it('reports leadership gained and forging enabled', () => {
    expect(reasons(tick(), tick({ leader: true }))).toEqual(['LeadershipGained']);
    expect(reasons(tick({ leader: true }), tick({ leader: true, forging: true }))).toEqual([
      'ForgingEnabled',
    ]);
    const gained = transitionsBetween(null, tick({ leader: true }))[0]!;
    expect(gained).toEqual({
      type: 'Normal',
      reason: 'LeadershipGained',
      message: 'holds lease cardano-leader-mainnet-pool1abcde (transition 3)',
    });
  });

  it('tells a planned handoff: started, forging disabled, completed, leadership lost', () => {
    const forging = tick({ leader: true, forging: true });
    const releasing = tick({
      leader: true,
      forging: true,
      actions: [{ type: 'revoke' }, { type: 'release' }],
    });
    expect(reasons(forging, releasing)).toEqual(['HandoffStarted']);
    const done = tick({
      leader: false,
      forging: false,
      results: [
        { action: { type: 'revoke' }, ok: true, message: 'removed' },
        { action: { type: 'release' }, ok: true, message: 'released' },
      ],
    });
    expect(reasons(releasing, done)).toEqual(['LeadershipLost', 'HandoffCompleted', 'ForgingDisabled']);
  });

  it('reports a takeover of a released lease as the end of a handoff', () => {
    expect(reasons(tick(), tick({ leader: true, acquiredFromRelease: true }))).toEqual([
      'LeadershipGained',
      'HandoffCompleted',
    ]);
  });

  it('warns when a revocation fails and when the forging state becomes unknown', () => {
    const failed = tick({
      leader: false,
      forging: null,
      results: [{ action: { type: 'revoke' }, ok: false, message: 'EACCES: permission denied' }],
    });
    const events = transitionsBetween(tick({ leader: true, forging: true }), failed);
    expect(events.map((e) => [e.type, e.reason])).toEqual([
      ['Normal', 'LeadershipLost'],
      ['Warning', 'ForgingStateUnknown'],
      ['Warning', 'RevocationFailed'],
    ]);
    expect(events[2]!.message).toContain('EACCES: permission denied');
  });

  it('reports health degraded and recovered from the policy reason', () => {
    expect(
      reasons(tick({ policyReason: 'health_intermittent' }), tick({ policyReason: 'health_degraded' })),
    ).toEqual(['HealthDegraded']);
    expect(
      reasons(tick({ policyReason: 'health_degraded' }), tick({ policyReason: 'healthy_operation' })),
    ).toEqual(['HealthRecovered']);
  });
});
