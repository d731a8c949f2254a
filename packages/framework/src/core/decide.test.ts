import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decide } from './decide.js';
import type { Observation } from './decide.js';
import { UNKNOWN_BELIEF } from './node-belief.js';

const ME = 'bp-0';

function obs(
  patch: {
    [K in keyof Observation]?: Observation[K] extends object ? Partial<Observation[K]> : Observation[K];
  } = {},
): Observation {
  const base: Observation = {
    nowMs: 10_000,
    phase: 'running',
    node: { socket: 'up', pid: 42, forgingMetric: null, atTip: null, message: 'ok' },
    nodeLoaded: { ...UNKNOWN_BELIEF, forging: false, source: 'node-metric' },
    leadership: {
      lockName: 'lease',
      identity: ME,
      holder: ME,
      leaderUntilMs: 20_000,
      transitions: 3,
      observedAtMs: 9_000,
      reason: 'Renewed',
      message: 'renewed',
    },
    policy: { forgingAllowed: true, reason: 'cluster_forge_enabled', message: 'ok' },
    credentials: {
      presence: 'none',
      upToDate: false,
      sourcesValid: true,
      sourceFingerprint: 'f1',
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
  };
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const b = (base as unknown as Record<string, unknown>)[k];
    out[k] = typeof v === 'object' && v !== null && typeof b === 'object' && b !== null ? { ...b, ...v } : v;
  }
  return out as unknown as Observation;
}

const types = (o: Observation) =>
  decide(o).actions.map((a) => (a.type === 'signal' ? `signal:${a.reason}` : a.type));

describe('decide: table', () => {
  const cases: Array<[string, Observation, string[], boolean, string]> = [
    [
      'leader without files provisions then signals',
      obs(),
      ['provision', 'signal:enable_forging'],
      true,
      'Forging',
    ],
    [
      'leader with startup files already on disk still signals (G1)',
      obs({ credentials: { presence: 'all', upToDate: true } }),
      ['signal:enable_forging'],
      true,
      'Forging',
    ],
    [
      'converged leader does nothing',
      obs({
        credentials: { presence: 'all', upToDate: true },
        nodeLoaded: { forging: true, fingerprint: 'f1' },
      }),
      [],
      true,
      'Forging',
    ],
    [
      'rotated KES on leader re-provisions and signals',
      obs({
        credentials: { presence: 'all', upToDate: false, sourceFingerprint: 'f2' },
        nodeLoaded: { forging: true, fingerprint: 'f1' },
      }),
      ['provision', 'signal:enable_forging'],
      true,
      'Forging',
    ],
    [
      'lease past its renew deadline is fenced: revoke then signal',
      obs({
        nowMs: 20_000,
        credentials: { presence: 'all', upToDate: true },
        nodeLoaded: { forging: true, fingerprint: 'f1' },
      }),
      ['revoke', 'signal:disable_forging'],
      false,
      'LeaseUnconfirmed',
    ],
    [
      'standby with files from startup cleans up with startup_cleanup when node state unknown',
      obs({
        leadership: { holder: 'bp-1', leaderUntilMs: 0 },
        credentials: { presence: 'all', upToDate: true },
        nodeLoaded: { forging: null, fingerprint: null, source: 'unknown' },
      }),
      ['revoke', 'signal:startup_cleanup'],
      false,
      'NotLeader',
    ],
    [
      'standby whose node is known not to forge only removes files',
      obs({
        leadership: { holder: 'bp-1', leaderUntilMs: 0 },
        credentials: { presence: 'all', upToDate: true },
      }),
      ['revoke'],
      false,
      'NotLeader',
    ],
    [
      'policy Disabled on the leader: revoke, signal (release comes once withdrawn)',
      obs({
        policy: { forgingAllowed: false, reason: 'cluster_forge_disabled' },
        credentials: { presence: 'all', upToDate: true },
        nodeLoaded: { forging: true, fingerprint: 'f1' },
      }),
      ['revoke', 'signal:disable_forging'],
      true,
      'PolicyDisallows',
    ],
    [
      'withdrawn holder that may not forge releases the lease',
      obs({ policy: { forgingAllowed: false, reason: 'cluster_forge_disabled' } }),
      ['release'],
      true,
      'PolicyDisallows',
    ],
    [
      'node starting (no socket) with non-producing start: startup credentials are provisioned',
      obs({
        phase: 'starting',
        node: { socket: 'missing', pid: null },
        leadership: { holder: '', leaderUntilMs: 0 },
      }),
      ['provision'],
      false,
      'NodeStarting',
    ],
    [
      'node starting as a producer: no startup credentials',
      obs({
        phase: 'starting',
        node: { socket: 'missing', pid: null },
        leadership: { holder: '', leaderUntilMs: 0 },
        config: { startAsNonProducing: false },
      }),
      [],
      false,
      'NodeStarting',
    ],
    [
      'leader whose node crashed (stale socket) releases',
      obs({
        phase: 'starting',
        node: { socket: 'stale', pid: null },
        credentials: { presence: 'all', upToDate: true },
      }),
      ['release'],
      true,
      'NodeSocketStale',
    ],
    [
      'shutdown: revoke, signal, then release on a later tick',
      obs({
        phase: 'stopping',
        credentials: { presence: 'all', upToDate: true },
        nodeLoaded: { forging: true, fingerprint: 'f1' },
      }),
      ['revoke', 'signal:disable_forging'],
      true,
      'ShuttingDown',
    ],
    ['shutdown once withdrawn releases', obs({ phase: 'stopping' }), ['release'], true, 'ShuttingDown'],
    [
      'invalid credential sources never forge',
      obs({ credentials: { sourcesValid: false, message: 'kes: wrong type' } }),
      ['release'],
      true,
      'CredentialsInvalid',
    ],
    [
      'an observation that failed is not "node down": files go, the node is still told, the holder keeps the lock',
      obs({
        node: { socket: 'unknown', pid: null },
        credentials: { presence: 'all', upToDate: true },
        nodeLoaded: { forging: null },
      }),
      ['revoke', 'signal:disable_forging'],
      true,
      'NodeUnobservable',
    ],
    [
      'leader whose node says it forges with credentials loaded before we watched re-signals (G1)',
      obs({
        credentials: { presence: 'all', upToDate: true },
        nodeLoaded: { forging: true, fingerprint: null },
      }),
      ['signal:enable_forging'],
      true,
      'Forging',
    ],
    [
      'an enable SIGHUP awaiting confirmation is not re-sent',
      obs({
        credentials: { presence: 'all', upToDate: true },
        nodeLoaded: {
          forging: null,
          pending: { forging: true, atMs: 9_000, pid: 42, fingerprint: 'f1' },
        },
      }),
      [],
      true,
      'Forging',
    ],
    [
      'a disable SIGHUP awaiting confirmation: nothing to do, and no release yet',
      obs({
        phase: 'stopping',
        nodeLoaded: { forging: true, pending: { forging: false, atMs: 9_000, pid: 42, fingerprint: null } },
      }),
      [],
      true,
      'ShuttingDown',
    ],
    [
      'a disable SIGHUP never confirmed: the node is stopped as a last resort',
      obs({
        phase: 'stopping',
        nodeLoaded: { forging: true, pending: { forging: false, atMs: 5_000, pid: 42, fingerprint: null } },
      }),
      ['terminate'],
      true,
      'ShuttingDown',
    ],
    [
      'a leader still holding its lease re-sends an unconfirmed disable instead of stopping the node',
      obs({
        policy: { forgingAllowed: false, reason: 'cluster_forge_disabled' },
        nodeLoaded: { forging: true, pending: { forging: false, atMs: 5_000, pid: 42, fingerprint: null } },
      }),
      ['signal:disable_forging'],
      true,
      'PolicyDisallows',
    ],
    [
      'credentials cannot be removed and the node may forge: terminate, never SIGHUP (it would reload them)',
      obs({
        phase: 'stopping',
        credentials: { presence: 'partial', upToDate: false },
        credentialsUnrevocable: true,
        nodeLoaded: { forging: true, fingerprint: 'f1' },
      }),
      ['terminate'],
      true,
      'ShuttingDown',
    ],
    [
      'credentials cannot be removed but the node is gone: release',
      obs({
        phase: 'stopping',
        credentials: { presence: 'partial', upToDate: false },
        credentialsUnrevocable: true,
        nodeLoaded: { forging: false, source: 'process-gone' },
      }),
      ['release'],
      true,
      'ShuttingDown',
    ],
  ];
  it.each(cases)('%s', (_name, o, expected, leader, reason) => {
    const d = decide(o);
    expect(types(o)).toEqual(expected);
    expect(d.leader).toBe(leader);
    expect(d.reason).toBe(reason);
  });

  it('a lock taken without a release waits for the previous holder to fence before forging', () => {
    const waiting = decide(obs({ leadership: { actAfterMs: 12_000 } }));
    expect(waiting.forge).toBe(false);
    expect(waiting.candidate).toBe(true);
    expect(waiting.reason).toBe('TakeoverGrace');
    expect(waiting.actions).toEqual([]);
    const after = decide(obs({ nowMs: 12_000, leadership: { actAfterMs: 12_000 } }));
    expect(after.forge).toBe(true);
  });

  it('a leader in a forging fault reports it, keeps the lease for the hold-down, then hands over', () => {
    const fault = { reason: 'NodePidUnknown' as const, message: 'pid unknown', sinceMs: 0 };
    const holding = decide(
      obs({
        nowMs: 29_999,
        leadership: { leaderUntilMs: 40_000 },
        fault,
        credentials: { presence: 'all', upToDate: true },
      }),
    );
    expect(holding.forge).toBe(true);
    expect(holding.reason).toBe('NodePidUnknown');
    const handing = decide(
      obs({
        nowMs: 30_000,
        leadership: { leaderUntilMs: 40_000 },
        fault,
        credentials: { presence: 'all', upToDate: true },
        nodeLoaded: { forging: null },
      }),
    );
    expect(handing.forge).toBe(false);
    expect(handing.reason).toBe('NodePidUnknown');
    expect(handing.candidate).toBe(true); // keeps the lease until its node is confirmed withdrawn
    expect(handing.actions.map((a) => a.type)).toEqual(['revoke', 'signal']);
    const done = decide(obs({ nowMs: 31_000, leadership: { leaderUntilMs: 40_000 }, fault }));
    expect(done.candidate).toBe(false);
    expect(done.actions).toEqual([{ type: 'release' }]);
    // A standby with the same fault does not contend.
    const standby = decide(obs({ leadership: { holder: 'bp-1', leaderUntilMs: 0 }, fault }));
    expect(standby.candidate).toBe(false);
  });

  it('a standby behind the tip does not contend, a leader behind the tip keeps forging', () => {
    const standby = decide(obs({ leadership: { holder: '', leaderUntilMs: 0 }, node: { atTip: false } }));
    expect(standby.candidate).toBe(false);
    expect(standby.reason).toBe('BehindTip');
    const leader = decide(obs({ node: { atTip: false } }));
    expect(leader.forge).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over arbitrary observations
// ---------------------------------------------------------------------------------------------

const arbObservation: fc.Arbitrary<Observation> = fc
  .record({
    nowMs: fc.integer({ min: 0, max: 100_000 }),
    phase: fc.constantFrom('starting', 'running', 'stopping' as const),
    socket: fc.constantFrom('up', 'missing', 'stale', 'not-a-socket', 'unknown' as const),
    pid: fc.option(fc.integer({ min: 1, max: 99_999 }), { nil: null }),
    atTip: fc.constantFrom(true, false, null),
    loadedForging: fc.constantFrom(true, false, null),
    loadedFp: fc.constantFrom('f1', 'f2', null),
    holder: fc.constantFrom(ME, 'bp-1', '', null),
    leaderUntilMs: fc.integer({ min: 0, max: 100_000 }),
    actAfterMs: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: undefined }),
    allowed: fc.boolean(),
    presence: fc.constantFrom('all', 'none', 'partial' as const),
    upToDate: fc.boolean(),
    sourcesValid: fc.boolean(),
    fp: fc.constantFrom('f1', 'f2', null),
    startAsNonProducing: fc.boolean(),
    disableSocketCheck: fc.boolean(),
    pending: fc.option(
      fc.record({
        forging: fc.boolean(),
        atMs: fc.integer({ min: 0, max: 100_000 }),
        pid: fc.constantFrom(42, null),
        fingerprint: fc.constantFrom('f1', null),
      }),
      { nil: null },
    ),
    unrevocable: fc.boolean(),
    revokeRetryDue: fc.boolean(),
    fault: fc.option(
      fc.record({
        reason: fc.constantFrom('NodePidUnknown', 'SignalFailed', 'NodeNotForging', 'BehindTip' as const),
        message: fc.constant('fault'),
        sinceMs: fc.integer({ min: 0, max: 100_000 }),
      }),
      { nil: null },
    ),
  })
  .map((r) =>
    obs({
      nowMs: r.nowMs,
      phase: r.phase,
      node: { socket: r.socket, pid: r.pid, atTip: r.atTip },
      nodeLoaded: { forging: r.loadedForging, fingerprint: r.loadedFp, pending: r.pending },
      credentialsUnrevocable: r.unrevocable,
      revokeRetryDue: r.revokeRetryDue,
      fault: r.fault,
      leadership: { holder: r.holder, leaderUntilMs: r.leaderUntilMs, actAfterMs: r.actAfterMs },
      policy: { forgingAllowed: r.allowed },
      credentials: {
        presence: r.presence,
        upToDate: r.upToDate,
        sourcesValid: r.sourcesValid,
        sourceFingerprint: r.fp,
      },
      config: { startAsNonProducing: r.startAsNonProducing, disableSocketCheck: r.disableSocketCheck },
    }),
  );

/** Unknown counts as forging: only a confirmed `false` is "not forging". */
const mayBeForging = (o: Observation) => o.nodeLoaded.forging !== false;

describe('decide: properties', () => {
  it('never forges or enables without a lease held within its renew deadline', () => {
    fc.assert(
      fc.property(arbObservation, (o) => {
        const d = decide(o);
        const confirmed = o.leadership.holder === ME && o.nowMs < o.leadership.leaderUntilMs;
        if (!confirmed) {
          expect(d.forge).toBe(false);
          expect(d.actions.some((a) => a.type === 'signal' && a.forging)).toBe(false);
        }
      }),
    );
  });

  it('never forges before actAfterMs (takeover grace)', () => {
    fc.assert(
      fc.property(arbObservation, (o) => {
        if (o.nowMs < (o.leadership.actAfterMs ?? 0)) expect(decide(o).forge).toBe(false);
      }),
    );
  });

  it('never forges when policy, node, credentials or phase forbid it', () => {
    fc.assert(
      fc.property(arbObservation, (o) => {
        const d = decide(o);
        const blocked =
          o.phase === 'stopping' ||
          !o.policy.forgingAllowed ||
          !o.credentials.sourcesValid ||
          (!o.config.disableSocketCheck && o.node.socket !== 'up');
        if (blocked) expect(d.forge).toBe(false);
      }),
    );
  });

  it('a non-forging decision on a running node leaves no credentials behind', () => {
    fc.assert(
      fc.property(arbObservation, (o) => {
        const d = decide(o);
        if (!d.forge && o.node.socket === 'up' && o.credentials.presence !== 'none') {
          // Files that could not be removed: the node is stopped first (or the removal retried).
          if (o.credentialsUnrevocable)
            expect(['terminate', 'revoke', 'release', undefined]).toContain(d.actions[0]?.type);
          else expect(d.actions[0]).toEqual({ type: 'revoke' });
        }
      }),
    );
  });

  it('release comes only when nothing else is left to do, and never while forging', () => {
    fc.assert(
      fc.property(arbObservation, (o) => {
        const d = decide(o);
        const i = d.actions.findIndex((a) => a.type === 'release');
        if (i >= 0) {
          expect(d.actions).toHaveLength(1);
          expect(d.forge).toBe(false);
          expect(d.candidate).toBe(false);
        }
      }),
    );
  });

  it('revocation always precedes the signal that tells the node', () => {
    fc.assert(
      fc.property(arbObservation, (o) => {
        const list = decide(o).actions.map((a) => a.type);
        const r = list.indexOf('revoke');
        const s = list.indexOf('signal');
        if (r >= 0 && s >= 0) expect(r).toBeLessThan(s);
        const p = list.indexOf('provision');
        if (p >= 0 && s >= 0) expect(p).toBeLessThan(s);
      }),
    );
  });

  it('a holder stays a candidate (keeps renewing) while its node may be forging, also when stopping', () => {
    fc.assert(
      fc.property(arbObservation, (o) => {
        if (o.leadership.holder === ME && mayBeForging(o)) expect(decide(o).candidate).toBe(true);
      }),
    );
  });

  it('never releases while the node may be forging (unknown included)', () => {
    fc.assert(
      fc.property(arbObservation, (o) => {
        if (decide(o).actions.some((a) => a.type === 'release')) expect(o.nodeLoaded.forging).toBe(false);
      }),
    );
  });

  it('never signals a node whose credentials could not be removed (the SIGHUP would reload them)', () => {
    fc.assert(
      fc.property(arbObservation, (o) => {
        const d = decide(o);
        if (o.credentialsUnrevocable && o.credentials.presence !== 'none' && !d.forge)
          expect(d.actions.some((a) => a.type === 'signal')).toBe(false);
      }),
    );
  });

  it('a node that may be forging and cannot be withdrawn by files is stopped, never left as is', () => {
    fc.assert(
      fc.property(arbObservation, (o) => {
        const d = decide(o);
        const stuck = o.credentialsUnrevocable && o.credentials.presence !== 'none' && !d.forge;
        if (stuck && mayBeForging(o) && o.node.pid !== null)
          expect(d.actions).toEqual([{ type: 'terminate', reason: expect.any(String) }]);
      }),
    );
  });

  it('a standby in a forging fault never contends', () => {
    fc.assert(
      fc.property(arbObservation, (o) => {
        if (o.fault !== null && o.leadership.holder !== ME) expect(decide(o).candidate).toBe(false);
      }),
    );
  });
});
