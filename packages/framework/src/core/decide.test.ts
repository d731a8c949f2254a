import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decide } from './decide.js';
import type { Observation } from './decide.js';

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
    nodeLoaded: { forging: false, fingerprint: null },
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
    config: { startAsNonProducing: true, disableSocketCheck: false },
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
        nodeLoaded: { forging: null, fingerprint: null },
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
    socket: fc.constantFrom('up', 'missing', 'stale', 'not-a-socket' as const),
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
  })
  .map((r) =>
    obs({
      nowMs: r.nowMs,
      phase: r.phase,
      node: { socket: r.socket, pid: r.pid, atTip: r.atTip },
      nodeLoaded: { forging: r.loadedForging, fingerprint: r.loadedFp },
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
        if (!d.forge && o.node.socket === 'up' && o.credentials.presence !== 'none')
          expect(d.actions[0]).toEqual({ type: 'revoke' });
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

  it('a holder stays a candidate until its node is known to have stopped forging', () => {
    fc.assert(
      fc.property(arbObservation, (o) => {
        const d = decide(o);
        const leader = o.leadership.holder === ME && o.nowMs < o.leadership.leaderUntilMs;
        if (leader && o.phase !== 'stopping' && o.nodeLoaded.forging !== false)
          expect(d.candidate).toBe(true);
      }),
    );
  });
});
