import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  afterCreate,
  applyRead,
  confirmRound,
  decideArbiter,
  globalLeadership,
  INITIAL_MEMORY,
  takeoverActAfterMs,
  type ArbiterMemory,
  type OwnCandidacy,
  type RecordSighting,
} from './decide.js';
import {
  arbiterTiming,
  compareCandidates,
  PROTOCOL_VERSION,
  type ArbiterView,
  type CandidateRecord,
  type SeenCandidate,
} from './protocol.js';

const TTL_S = 10;
const RD_MS = 4000;
const GAP_MS = 9000;

function rec(region: string, patch: Partial<CandidateRecord> = {}): CandidateRecord {
  return {
    v: PROTOCOL_VERSION,
    region,
    identity: `${region}-0_x`,
    lease: `L-${region}`,
    ttlSeconds: TTL_S,
    priority: 1,
    eligible: true,
    demoted: false,
    manual: false,
    reason: 'cluster_enabled',
    since: '2026-01-01T00:00:00.000Z',
    holding: null,
    ...patch,
  };
}

function seen(record: CandidateRecord, modRevision = 5): SeenCandidate {
  return { record, modRevision, lease: record.lease };
}

const marker = (createRevision: number) => ({
  v: PROTOCOL_VERSION,
  createRevision,
  region: 'eu',
  identity: 'eu-0_x',
  at: '2026-01-01T00:00:00.000Z',
});

function view(
  candidates: CandidateRecord[],
  forger: { region: string; lease?: string; createRevision?: number } | null = null,
  revision = 100,
  released: number | null = null,
): ArbiterView {
  return {
    released: released === null ? null : marker(released),
    forger:
      forger === null
        ? null
        : {
            record: {
              v: PROTOCOL_VERSION,
              region: forger.region,
              identity: `${forger.region}-0_x`,
              lease: forger.lease ?? `L-${forger.region}`,
              ttlSeconds: TTL_S,
              at: '2026-01-01T00:00:00.000Z',
            },
            lease: forger.lease ?? `L-${forger.region}`,
            createRevision: forger.createRevision ?? 50,
            modRevision: forger.createRevision ?? 50,
          },
    candidates: candidates.map((c, i) => seen(c, 10 + i)),
    problems: [],
    revision,
  };
}

function own(region: string, patch: Partial<OwnCandidacy> = {}): OwnCandidacy {
  return {
    region,
    identity: `${region}-0_x`,
    ttlSeconds: TTL_S,
    localLeader: true,
    eligible: true,
    priority: 1,
    demoted: false,
    manual: false,
    reason: 'cluster_enabled',
    message: 'ok',
    since: '2026-01-01T00:00:00.000Z',
    ...patch,
  };
}

const SETTINGS = { holdDownMs: 30_000, ttlSeconds: TTL_S };

function read(
  memory: ArbiterMemory,
  v: ArbiterView,
  region: string,
  atMs: number,
  priority = 1,
  sighted?: RecordSighting,
): ArbiterMemory {
  return applyRead(memory, v, {
    own: { priority, region },
    lease: `L-${region}`,
    atMs,
    gapMs: GAP_MS,
    ttlSeconds: TTL_S,
    ...(sighted ? { sighted } : {}),
  });
}

describe('decideArbiter: who creates the forger key', () => {
  it('only the best eligible candidate creates, and only once its record is visible', () => {
    const v = view([rec('eu', { priority: 2 }), rec('us', { priority: 1 })]);
    const mem = read(INITIAL_MEMORY, v, 'us', 1000);
    const us = decideArbiter({
      nowMs: 1000,
      memory: mem,
      view: v,
      own: own('us'),
      lease: 'L-us',
      settings: SETTINGS,
    });
    expect(us.create).toBe(true);
    const memEu = read(INITIAL_MEMORY, v, 'eu', 1000, 2);
    const eu = decideArbiter({
      nowMs: 1000,
      memory: memEu,
      view: v,
      own: own('eu', { priority: 2 }),
      lease: 'L-eu',
      settings: SETTINGS,
    });
    expect(eu.create).toBe(false);
    expect(eu.status.reason).toBe('WaitingForBetter');
    // Our record not yet written (or written with other values): register first.
    const stale = view([rec('us', { priority: 5 })]);
    const d = decideArbiter({
      nowMs: 1000,
      memory: read(INITIAL_MEMORY, stale, 'us', 1000),
      view: stale,
      own: own('us'),
      lease: 'L-us',
      settings: SETTINGS,
    });
    expect(d.create).toBe(false);
    expect(d.record?.priority).toBe(1);
  });

  it('equal priorities: the region name breaks the tie', () => {
    const v = view([rec('b'), rec('a')]);
    const a = decideArbiter({
      nowMs: 1,
      memory: read(INITIAL_MEMORY, v, 'a', 1),
      view: v,
      own: own('a'),
      lease: 'L-a',
      settings: SETTINGS,
    });
    const b = decideArbiter({
      nowMs: 1,
      memory: read(INITIAL_MEMORY, v, 'b', 1),
      view: v,
      own: own('b'),
      lease: 'L-b',
      settings: SETTINGS,
    });
    expect([a.create, b.create]).toEqual([true, false]);
  });

  it('a worse candidate creates once the key has been absent for a whole TTL (the best cannot write)', () => {
    const v = view([rec('eu', { priority: 2 }), rec('us', { priority: 1 })]);
    let mem = INITIAL_MEMORY;
    for (let t = 1000; t <= 1000 + TTL_S * 1000; t += 1000) mem = read(mem, v, 'eu', t, 2);
    const eu = decideArbiter({
      nowMs: 1000 + TTL_S * 1000,
      memory: mem,
      view: v,
      own: own('eu', { priority: 2 }),
      lease: 'L-eu',
      settings: SETTINGS,
    });
    expect(eu.create).toBe(true);
  });

  it('property: for any set of visible records, at most one region decides to create (before the TTL fallback)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({
            region: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
            priority: fc.integer({ min: 1, max: 5 }),
            eligible: fc.boolean(),
          }),
          { selector: (r) => r.region, minLength: 1, maxLength: 5 },
        ),
        (regions) => {
          const v = view(regions.map((r) => rec(r.region, { priority: r.priority, eligible: r.eligible })));
          const creators = regions.filter(
            (r) =>
              decideArbiter({
                nowMs: 5,
                memory: read(INITIAL_MEMORY, v, r.region, 5, r.priority),
                view: v,
                own: own(r.region, { priority: r.priority, eligible: r.eligible }),
                lease: `L-${r.region}`,
                settings: SETTINGS,
              }).create,
          );
          const eligible = regions.filter((r) => r.eligible).sort(compareCandidates);
          expect(creators.map((c) => c.region)).toEqual(eligible.slice(0, 1).map((c) => c.region));
        },
      ),
    );
  });
});

describe('decideArbiter: when the holder hands over', () => {
  const holderMemory = (region: string, nowMs: number, v: ArbiterView, priority = 1): ArbiterMemory => {
    let mem = read(INITIAL_MEMORY, v, region, nowMs, priority);
    mem = afterCreate(mem, 'created', `L-${region}`, nowMs, nowMs, {
      ttlSeconds: TTL_S,
      renewDeadlineMs: RD_MS,
    });
    return mem;
  };

  it('a better candidate is waited out for the hold-down (anti-flap), then handed over to', () => {
    const v = view([rec('eu', { priority: 2 }), rec('us', { priority: 1 })], { region: 'eu' });
    let mem = holderMemory('eu', 0, v, 2);
    mem = read(mem, v, 'eu', 1000, 2);
    const input = { view: v, own: own('eu', { priority: 2 }), lease: 'L-eu', settings: SETTINGS };
    expect(decideArbiter({ ...input, nowMs: 1000, memory: mem }).handover).toBeNull();
    for (let t = 2000; t < 30_000; t += 1000) {
      mem = read(mem, v, 'eu', t, 2);
      expect(decideArbiter({ ...input, nowMs: t, memory: mem }).handover).toBeNull();
    }
    mem = read(mem, v, 'eu', 30_000, 2);
    expect(decideArbiter({ ...input, nowMs: 30_000, memory: mem }).handover?.reason).toBe('BetterCandidate');
  });

  it('the hold-down restarts when the better candidate goes away in between (no flapping)', () => {
    const better = view([rec('eu', { priority: 2 }), rec('us', { priority: 1 })], { region: 'eu' });
    const worse = view([rec('eu', { priority: 2 }), rec('us', { priority: 101, demoted: true })], {
      region: 'eu',
    });
    let mem = holderMemory('eu', 0, better, 2);
    const input = { own: own('eu', { priority: 2 }), lease: 'L-eu', settings: SETTINGS };
    // The health signal alternates every 10 s for two minutes: never 30 s of "better" in a row.
    for (let t = 0; t <= 120_000; t += 1000) {
      const v = Math.floor(t / 10_000) % 2 === 0 ? better : worse;
      mem = read(mem, v, 'eu', t, 2);
      expect(decideArbiter({ ...input, view: v, nowMs: t, memory: mem }).handover).toBeNull();
    }
  });

  it('hands over at once on a manual override, its own health demotion, ineligibility or lost region lease', () => {
    const base = [rec('eu', { priority: 2 }), rec('us', { priority: 1 })];
    const v = view(base, { region: 'eu' });
    const mem = holderMemory('eu', 0, v, 2);
    const at = (o: Partial<OwnCandidacy>, vv = v) =>
      decideArbiter({
        nowMs: 1,
        memory: mem,
        view: vv,
        own: own('eu', { priority: 2, ...o }),
        lease: 'L-eu',
        settings: SETTINGS,
      }).handover?.reason;
    expect(at({ manual: true })).toBe('ManualOverride');
    expect(
      at({}, view([rec('eu', { priority: 2 }), rec('us', { priority: 1, manual: true })], { region: 'eu' })),
    ).toBe('ManualOverride');
    expect(at({ demoted: true })).toBe('HealthDemoted');
    expect(at({ eligible: false, message: 'Disabled' })).toBe('NotEligible');
    expect(at({ localLeader: false })).toBe('NotRegionLeader');
    // Equal priority is not "better": forging does not move for a tie.
    const tie = view([rec('eu', { priority: 1 }), rec('aa', { priority: 1 })], { region: 'eu' });
    expect(
      decideArbiter({
        nowMs: 1e9,
        memory: read(mem, tie, 'eu', 1e9),
        view: tie,
        own: own('eu'),
        lease: 'L-eu',
        settings: SETTINGS,
      }).handover,
    ).toBeNull();
  });

  it('while handing over, the record stops claiming the entry', () => {
    const v = view([rec('eu', { priority: 2 }), rec('us', { priority: 1 })], {
      region: 'eu',
      createRevision: 50,
    });
    let mem = holderMemory('eu', 0, v, 2);
    mem = read(mem, v, 'eu', 1, 2);
    expect(
      decideArbiter({
        nowMs: 1,
        memory: mem,
        view: v,
        own: own('eu', { priority: 2 }),
        lease: 'L-eu',
        settings: SETTINGS,
      }).record?.holding,
    ).toBe(50);
    expect(
      decideArbiter({
        nowMs: 1,
        memory: mem,
        view: v,
        own: own('eu', { priority: 2, manual: true }),
        lease: 'L-eu',
        settings: SETTINGS,
      }).record?.holding,
    ).toBeNull();
  });
});

describe('fencing deadline and possible holders', () => {
  it('the deadline is the send time of the last confirming round + renew deadline; an unconfirmed round extends nothing', () => {
    const v = view([rec('eu')], { region: 'eu', createRevision: 50 });
    let mem = read(INITIAL_MEMORY, view([rec('eu')]), 'eu', 0);
    mem = afterCreate(mem, 'created', 'L-eu', 100, 150, { ttlSeconds: TTL_S, renewDeadlineMs: RD_MS });
    expect(globalLeadership(mem, 200).leaderUntilMs).toBe(4100);
    mem = read(mem, v, 'eu', 1200);
    mem = confirmRound(mem, { keepAliveSendMs: 1000, readShowedOurs: true, heartbeatAcked: false }, RD_MS);
    expect(globalLeadership(mem, 1300).leaderUntilMs).toBe(4100);
    mem = confirmRound(mem, { keepAliveSendMs: 1000, readShowedOurs: true, heartbeatAcked: true }, RD_MS);
    expect(globalLeadership(mem, 1300).leaderUntilMs).toBe(5000);
    expect(globalLeadership(mem, 5000)).toMatchObject({ held: true, leaderUntilMs: 0 });
  });

  it('regression: a create that timed out but committed is a possible hold — never forging, adopted only by a read, with the takeover grace', () => {
    let mem = read(INITIAL_MEMORY, view([rec('eu')]), 'eu', 0);
    mem = afterCreate(mem, 'unknown', 'L-eu', 100, 1100, { ttlSeconds: TTL_S, renewDeadlineMs: RD_MS });
    expect(globalLeadership(mem, 1200)).toMatchObject({ held: true, leaderUntilMs: 0 });
    const d = decideArbiter({
      nowMs: 1200,
      memory: mem,
      view: view([rec('eu')]),
      own: own('eu'),
      lease: 'L-eu',
      settings: SETTINGS,
    });
    expect(d.status.role).toBe('possible-forger');
    expect(d.create).toBe(true); // re-trying is harmless: the key is created at most once
    // The next read shows the key bound to our lease: adopted; the previous holder unknown → full TTL grace.
    mem = read(mem, view([rec('eu')], { region: 'eu', createRevision: 60 }), 'eu', 2000);
    expect(mem.tenure).toMatchObject({ status: 'held', createRevision: 60, validUntilMs: 0 });
    expect(mem.tenure!.actAfterMs).toBeGreaterThanOrEqual(2000 + TTL_S * 1000);
    // A later read showing someone else's key ends the possible hold.
    let other = afterCreate(read(INITIAL_MEMORY, view([rec('eu')]), 'eu', 0), 'unknown', 'L-eu', 1, 2, {
      ttlSeconds: TTL_S,
      renewDeadlineMs: RD_MS,
    });
    other = read(other, view([rec('eu'), rec('us')], { region: 'us' }), 'eu', 3000);
    expect(other.tenure).toBeNull();
  });

  it('an entry we handed over is never adopted again (a delete whose outcome was unknown)', () => {
    const v = view([rec('eu')], { region: 'eu', createRevision: 70 });
    const mem = read({ ...INITIAL_MEMORY, releasedRevision: 70 }, v, 'eu', 10);
    expect(mem.tenure).toBeNull();
  });
});

describe('takeover grace', () => {
  const usRec = rec('us', { priority: 2 });
  it('after a clean handover (release marker names the entry) the new holder acts at once', () => {
    let mem = read(
      INITIAL_MEMORY,
      view([rec('eu'), usRec], { region: 'eu', createRevision: 50 }),
      'us',
      0,
      2,
    );
    mem = read(mem, view([usRec], null, 100, 50), 'us', 1000, 2);
    expect(mem.entry?.gone?.how).toBe('released');
    expect(takeoverActAfterMs(mem, 1100, TTL_S)).toMatchObject({ actAfterMs: 1100, clean: true });
  });

  it('regression: a key deleted by hand while its holder lives is waited out from when it was seen gone', () => {
    let mem = read(
      INITIAL_MEMORY,
      view([rec('eu'), usRec], { region: 'eu', createRevision: 50 }),
      'us',
      0,
      2,
    );
    mem = read(mem, view([rec('eu'), usRec]), 'us', 1000, 2);
    expect(mem.entry?.gone?.how).toBe('deleted');
    expect(takeoverActAfterMs(mem, 1100, TTL_S).actAfterMs).toBe(1000 + TTL_S * 1000 + 500);
  });

  it("a key gone with its lease is waited out from the first sight of its holder's last record version", () => {
    let mem = read(
      INITIAL_MEMORY,
      view([rec('eu'), usRec], { region: 'eu', createRevision: 50 }),
      'us',
      0,
      2,
    );
    for (let t = 1000; t < 12_000; t += 1000)
      mem = read(mem, view([rec('eu'), usRec], { region: 'eu', createRevision: 50 }), 'us', t, 2);
    mem = read(mem, view([usRec]), 'us', 12_000, 2);
    expect(mem.entry?.gone?.how).toBe('lease-ended');
    // The record kept modRevision 10 since t=0 → wait from 0.
    expect(takeoverActAfterMs(mem, 12_100, TTL_S).actAfterMs).toBe(12_100);
    expect(takeoverActAfterMs(mem, 5_000, TTL_S).actAfterMs).toBe(TTL_S * 1000 + 500);
  });

  it("a watch sighting of the holder's last record version dates it when it came before the read (never a later one, never another version's)", () => {
    const withHolder = (modRevision: number): ArbiterView => ({
      ...view([usRec], { region: 'eu', createRevision: 50 }),
      candidates: [seen(rec('eu', { holding: 50 }), modRevision), seen(usRec, 7)],
    });
    // eu's heartbeat (modRevision 21) arrived by watch at 1_050; our read showed it at 1_900.
    const sightings: Record<string, number> = { 'eu@21': 1_050, 'eu@22': 500 };
    const sighted: RecordSighting = (region, modRevision) => sightings[`${region}@${modRevision}`];
    let mem = read(INITIAL_MEMORY, withHolder(20), 'us', 900, 2, sighted);
    mem = read(mem, withHolder(21), 'us', 1_900, 2, sighted);
    mem = read(mem, view([usRec]), 'us', 9_900, 2, sighted);
    expect(mem.entry?.gone?.how).toBe('lease-ended');
    expect(mem.entry?.holderSeenAtMs).toBe(1_050);
    expect(takeoverActAfterMs(mem, 9_950, TTL_S).actAfterMs).toBe(1_050 + TTL_S * 1000 + 500);
    // A sighting after the read does not push the read's own date later.
    const late: RecordSighting = (region, modRevision) =>
      region === 'eu' && modRevision === 21 ? 2_500 : undefined;
    let lateMem = read(INITIAL_MEMORY, withHolder(20), 'us', 900, 2, late);
    lateMem = read(lateMem, withHolder(21), 'us', 1_900, 2, late);
    expect(lateMem.entry?.holderSeenAtMs).toBe(1_900);
  });

  it('after a gap in reads nothing is known: a full TTL', () => {
    let mem = read(
      INITIAL_MEMORY,
      view([rec('eu'), usRec], { region: 'eu', createRevision: 50 }),
      'us',
      0,
      2,
    );
    mem = read(mem, view([usRec], null, 100, 50), 'us', GAP_MS + 1, 2);
    expect(mem.entry).toBeNull();
    expect(takeoverActAfterMs(mem, GAP_MS + 2, TTL_S).clean).toBe(false);
  });

  /**
   * The safety property of the arithmetic, over generated histories of one holder and one
   * standby on one virtual timeline: whenever the holder's key goes away (expiry by etcd, a hand
   * delete, or a clean release after its node stopped) and the standby creates it afterwards, the
   * standby's actAfter is not before the holder's node has stopped (its fencing deadline + the
   * revocation chain). No two nodes forge at the same virtual instant.
   */
  it('property: a new holder never acts before the previous holder has stopped', () => {
    const chainMs = 4749;
    const electionMs = 1000;
    const timing = arbiterTiming({
      leaseTtlSeconds: TTL_S,
      renewDeadlineSeconds: RD_MS / 1000,
      retryPeriodSeconds: 1,
      etcdElectionTimeoutMs: electionMs,
      revocationChainMs: chainMs,
    });
    expect(timing.ok).toBe(true);
    fc.assert(
      fc.property(
        fc.record({
          rounds: fc.array(
            fc.record({
              gap: fc.integer({ min: 200, max: 1500 }),
              putDelay: fc.integer({ min: 1, max: 900 }),
              ok: fc.boolean(),
            }),
            { minLength: 1, maxLength: 12 },
          ),
          how: fc.constantFrom('expiry', 'deleted', 'released'),
          deleteDelay: fc.integer({ min: 0, max: 20_000 }),
          expiryExtra: fc.integer({ min: 0, max: 2000 }),
          readPeriod: fc.integer({ min: 300, max: 1500 }),
          readPhase: fc.integer({ min: 0, max: 1499 }),
          recvDelay: fc.integer({ min: 0, max: 400 }),
          createDelay: fc.integer({ min: 0, max: 3000 }),
          // A watch delivering each record write this long after its commit (none: no watch).
          watchDelay: fc.option(fc.integer({ min: 0, max: 400 }), { nil: undefined }),
        }),
        (h) => {
          // The holder's confirming rounds: keepalive sent at s, record write committed at s + putDelay.
          const rounds: Array<{ s: number; p: number }> = [];
          let t = 0;
          for (const r of h.rounds) {
            t += r.gap;
            if (r.ok) rounds.push({ s: t, p: t + r.putDelay });
          }
          if (rounds.length === 0) rounds.push({ s: t, p: t + 1 });
          const last = rounds[rounds.length - 1]!;
          const stopAt = last.s + RD_MS + chainMs;
          // When the key goes: etcd cannot free it before s + TTL (keepalives were acked until then
          // at the latest); a hand delete any time after the last confirming round's read; a clean
          // release only after the node stopped.
          const goneAt =
            h.how === 'expiry'
              ? last.s + TTL_S * 1000 + h.expiryExtra
              : h.how === 'deleted'
                ? last.s + 1 + h.deleteDelay
                : stopAt + h.deleteDelay;
          // Record versions visible at time x (heartbeats; with the lease ended the record is gone).
          const recordAt = (x: number): SeenCandidate | null => {
            if (h.how === 'expiry' && x >= goneAt) return null;
            const commits = rounds.filter((r) => r.p <= x && (h.how !== 'expiry' || r.p < goneAt));
            return { record: rec('eu', { holding: 50 }), modRevision: 100 + commits.length, lease: 'L-eu' };
          };
          const stateAt = (x: number): ArbiterView => {
            const holderRecord = recordAt(x);
            return {
              released: h.how === 'released' && x >= stopAt ? marker(50) : null,
              forger:
                x < goneAt
                  ? {
                      record: {
                        v: 1,
                        region: 'eu',
                        identity: 'eu',
                        lease: 'L-eu',
                        ttlSeconds: TTL_S,
                        at: '',
                      },
                      lease: 'L-eu',
                      createRevision: 50,
                      modRevision: 50,
                    }
                  : null,
              candidates: [...(holderRecord ? [holderRecord] : []), seen(usRec, 7)],
              problems: [],
              revision: 0,
            };
          };
          // A watch delivers the k-th heartbeat (modRevision 100 + k) after its commit.
          const watchDelay = h.watchDelay;
          const sighted: RecordSighting | undefined =
            watchDelay === undefined
              ? undefined
              : (region, modRevision) => {
                  const round = rounds[modRevision - 101];
                  return region === 'eu' && round !== undefined ? round.p + watchDelay : undefined;
                };
          // The standby reads periodically (linearized at x, received recvDelay later).
          let mem = INITIAL_MEMORY;
          let x = h.readPhase;
          let sawGoneAt: number | null = null;
          while (sawGoneAt === null) {
            mem = read(mem, stateAt(x), 'us', x + h.recvDelay, 2, sighted);
            if (x >= goneAt) sawGoneAt = x + h.recvDelay;
            x += h.readPeriod;
          }
          const ack = sawGoneAt + h.createDelay;
          const act = takeoverActAfterMs(mem, ack, TTL_S);
          expect(act.actAfterMs).toBeGreaterThanOrEqual(stopAt);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('arbiterTiming', () => {
  it('rejects TTL/renew settings that leave no time to revoke, naming the fields', () => {
    const bad = arbiterTiming({
      leaseTtlSeconds: 5,
      renewDeadlineSeconds: 3,
      retryPeriodSeconds: 1,
      etcdElectionTimeoutMs: 1000,
      revocationChainMs: 4749,
    });
    expect(bad.ok).toBe(false);
    if (!bad.ok)
      expect(bad.problems.join(' ')).toMatch(/leaseTtlSeconds − etcdArbiter.renewDeadlineSeconds = 2000 ms/);
    const good = arbiterTiming({
      leaseTtlSeconds: 10,
      renewDeadlineSeconds: 4,
      retryPeriodSeconds: 1,
      etcdElectionTimeoutMs: 1000,
      revocationChainMs: 4749,
    });
    expect(good).toMatchObject({ ok: true, timing: { marginMs: 6000, neededMs: 5949, callTimeoutMs: 1000 } });
    const retry = arbiterTiming({
      leaseTtlSeconds: 20,
      renewDeadlineSeconds: 2,
      retryPeriodSeconds: 2,
      etcdElectionTimeoutMs: 1000,
      revocationChainMs: 1000,
    });
    expect(retry.ok).toBe(false);
  });

  it('sizes each etcd call so a round of three, started a retry period after the last, confirms before the renew deadline (F2)', () => {
    const t = arbiterTiming({
      leaseTtlSeconds: 6,
      renewDeadlineSeconds: 2,
      retryPeriodSeconds: 1,
      etcdElectionTimeoutMs: 1000,
      revocationChainMs: 1000,
    });
    expect(t.ok).toBe(true);
    if (t.ok) {
      expect(t.timing.callTimeoutMs).toBe(333);
      expect(t.timing.retryPeriodMs + 3 * t.timing.callTimeoutMs).toBeLessThanOrEqual(
        t.timing.renewDeadlineMs,
      );
    }
    const tight = arbiterTiming({
      leaseTtlSeconds: 6,
      renewDeadlineSeconds: 1.5,
      retryPeriodSeconds: 1,
      etcdElectionTimeoutMs: 1000,
      revocationChainMs: 1000,
    });
    expect(tight.ok).toBe(false);
    if (!tight.ok) expect(tight.problems.join(' ')).toMatch(/leaves 166 ms per etcd call/);
  });
});
