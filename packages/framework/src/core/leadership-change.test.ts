import { describe, expect, it } from 'vitest';
import type { LeadershipSnapshot } from '../contracts/index.js';
import { leadershipChangeNeedsTick } from './leadership-change.js';

const leading: LeadershipSnapshot = {
  lockName: 'lease',
  identity: 'bp-0_a',
  holder: 'bp-0_a',
  leaderUntilMs: 10_000,
  transitions: 3,
  observedAtMs: 0,
  reason: 'Renewed',
  message: 'renewed',
};

describe('leadershipChangeNeedsTick', () => {
  it('a renewal (later deadline, new observation time and message) needs no tick', () => {
    expect(
      leadershipChangeNeedsTick(leading, {
        ...leading,
        leaderUntilMs: 12_000,
        observedAtMs: 2000,
        message: 'renewed again',
      }),
    ).toBe(false);
    const standby = { ...leading, holder: 'bp-1_b', leaderUntilMs: 0, reason: 'HeldByOther' };
    expect(
      leadershipChangeNeedsTick(standby, { ...standby, observedAtMs: 2000, message: 'expires in 15 s' }),
    ).toBe(false);
  });

  it.each<[string, Partial<LeadershipSnapshot>]>([
    ['a shorter fencing deadline', { leaderUntilMs: 9_999 }],
    ['leadership ending', { leaderUntilMs: 0 }],
    ['another holder', { holder: 'bp-1_b' }],
    ['a released lock', { holder: '' }],
    ['a new epoch', { transitions: 4 }],
    ['a new reason', { reason: 'ApiError' }],
    ['a takeover grace', { actAfterMs: 20_000 }],
    ['acquired from a release', { acquiredFromRelease: true }],
  ])('%s needs a tick', (_what, change) => {
    expect(leadershipChangeNeedsTick(leading, { ...leading, ...change })).toBe(true);
  });

  it('leadership starting needs a tick', () => {
    const standby = { ...leading, holder: '', leaderUntilMs: 0, reason: 'Vacant' };
    expect(leadershipChangeNeedsTick(standby, { ...standby, leaderUntilMs: 5000 })).toBe(true);
  });
});
