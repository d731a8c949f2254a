import type { V1Lease } from '@kubernetes/client-node';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock, LeaderElector, LeadershipSnapshot } from '../../contracts/index.js';
import { FakeClock } from '../../testing/manual-clock.js';
import { createLeaseElector, LeaseReason } from './elector.js';
import { FakeLeaseStore, type FakeLeaseApi } from './fake-lease-api.js';
import type { KubernetesLeaseOptions } from './options.js';

const silent = pino({ level: 'silent' });
const INCARNATION = 'inc-1';
/** The holder identity a test candidate writes: `<name>_<incarnation>`. */
const id = (name: string): string => `${name}_${INCARNATION}`;
const timing = { leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.5 };
const RENEW_DEADLINE_MS = timing.renewDeadlineSeconds * 1000;
const LEASE_DURATION_MS = timing.leaseDurationSeconds * 1000;
/** takeoverMarginMs(3 s) = max(500, 2 × 1 % × 3000). */
const TAKEOVER_MARGIN_MS = 500;
const RETRY_PERIOD_MS = timing.retryPeriodSeconds * 1000;

/**
 * A pod clock running at `rate` against the test clock, computed as the simulation's pod clocks
 * are (sleeps in true time ms / rate, readings offset + true time × rate). More than SPIN_LIMIT
 * readings with no time passing means a loop that never yields: it counts one and throws, which
 * the elector's loop catches and survives, so a test fails instead of hanging.
 */
class DriftingClock implements Clock {
  static readonly SPIN_LIMIT = 10_000;
  roundsWithoutTimePassing = 0;
  readonly #base: FakeClock;
  readonly #rate: number;
  #readingsAtOneInstant = 0;
  #lastBaseMs = Number.NaN;
  constructor(base: FakeClock, rate: number) {
    this.#base = base;
    this.#rate = rate;
  }
  monotonicMs(): number {
    const baseMs = this.#base.monotonicMs();
    if (baseMs !== this.#lastBaseMs) {
      this.#lastBaseMs = baseMs;
      this.#readingsAtOneInstant = 0;
    }
    if (++this.#readingsAtOneInstant > DriftingClock.SPIN_LIMIT) {
      this.roundsWithoutTimePassing += 1;
      this.#readingsAtOneInstant = 0;
      throw new Error('the loop went round without letting time pass');
    }
    return 1_000_000 + baseMs * this.#rate;
  }
  wallNow(): Date {
    return this.#base.wallNow();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.#base.sleep(ms / this.#rate, signal);
  }
}

interface Candidate {
  readonly elector: LeaderElector;
  readonly api: FakeLeaseApi;
  readonly history: LeadershipSnapshot[];
  readonly controller: AbortController;
}

describe('kubernetes-lease elector (fake coordination API, fake clock)', () => {
  let clock: FakeClock;
  let store: FakeLeaseStore;
  const started: Candidate[] = [];

  function candidate(
    identity: string,
    overrides: Partial<KubernetesLeaseOptions> = {},
    registry?: Registry,
    incarnationId = INCARNATION,
  ): Candidate {
    const api = store.api(incarnationId === INCARNATION ? identity : `${identity}_${incarnationId}`);
    const elector = createLeaseElector(
      api,
      { clock, logger: silent, registry, random: () => 0.5, incarnationId },
      { namespace: 'ns', leaseName: 'forge', identity, ...timing, ...overrides },
    );
    const history: LeadershipSnapshot[] = [];
    elector.subscribe((s) => history.push(s));
    const c = { elector, api, history, controller: new AbortController() };
    started.push(c);
    return c;
  }

  async function start(...cs: Candidate[]): Promise<void> {
    for (const c of cs) await c.elector.start(c.controller.signal);
    await clock.advance(0);
  }

  const leads = (c: Candidate): boolean => c.elector.snapshot().leaderUntilMs > clock.monotonicMs();
  /** A lease created from nothing carries a takeover grace; a release is withheld until it passed. */
  const pastGrace = (): Promise<void> => clock.advance(LEASE_DURATION_MS + TAKEOVER_MARGIN_MS);
  /** Leads AND past its takeover grace: what decide() lets forge. */
  const acts = (c: Candidate): boolean =>
    leads(c) && clock.monotonicMs() >= (c.elector.snapshot().actAfterMs ?? 0);

  function setup(): void {
    clock = new FakeClock();
    store = new FakeLeaseStore({ namespace: 'ns', name: 'forge', clock });
  }

  afterEach(async () => {
    for (const c of started.splice(0)) await c.elector.stop();
  });

  it('creates a missing lease and leads, with MicroTime times and leaderUntil = send time + renewDeadline', async () => {
    setup();
    const a = candidate('a');
    const sendMs = clock.monotonicMs();
    await start(a);
    const s = a.elector.snapshot();
    expect(s.holder).toBe(id('a'));
    expect(s.reason).toBe(LeaseReason.Created);
    expect(s.leaderUntilMs).toBe(sendMs + RENEW_DEADLINE_MS);
    // With API latency, leaderUntil still counts from the SEND time, not the answer.
    a.api.latencyMs = 300;
    await clock.advance(500); // the next renewal is sent now
    const renewSentAt = clock.monotonicMs();
    await clock.advance(300);
    expect(a.elector.snapshot().reason).toBe(LeaseReason.Renewed);
    expect(a.elector.snapshot().leaderUntilMs).toBe(renewSentAt + RENEW_DEADLINE_MS);
    const lease = store.lease()!;
    expect(lease.spec?.holderIdentity).toBe(id('a'));
    expect(lease.spec?.leaseDurationSeconds).toBe(3);
    expect(String(lease.spec?.renewTime)).toMatch(/\.\d{6}Z$/);
    expect(a.api.calls.filter((c) => c.op === 'create')).toHaveLength(1);
  });

  it('acquires a vacant (released) lease at once and bumps transitions', async () => {
    setup();
    store.edit((l) => {
      l.spec = {
        holderIdentity: '',
        leaseDurationSeconds: 1,
        leaseTransitions: 4,
        acquireTime: '2026-01-01T00:00:00.000000Z' as never,
      };
    });
    const a = candidate('a');
    await start(a);
    expect(leads(a)).toBe(true);
    const s = a.elector.snapshot();
    expect(s.transitions).toBe(5);
    expect(s.acquiredFromRelease).toBe(true);
    expect(store.lease()!.spec?.leaseTransitions).toBe(5);
  });

  it('actAfterMs: a released lease may be acted on at once; a hand-emptied or missing lease only after observation + leaseDuration + margin', async () => {
    setup();
    store.edit((l) => {
      l.spec = { holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 2 };
    });
    const a = candidate('a');
    const sendA = clock.monotonicMs();
    await start(a);
    expect(a.elector.snapshot().actAfterMs).toBe(sendA);
    await a.elector.stop();

    setup();
    // kubectl edit to an empty holder with the normal duration: not a release, so the old holder
    // (if any) may still forge until its own last renew + leaseDuration.
    store.edit((l) => {
      l.spec = { holderIdentity: '', leaseDurationSeconds: 3, leaseTransitions: 2 };
    });
    const b = candidate('b');
    const seenB = clock.monotonicMs();
    await start(b);
    expect(leads(b)).toBe(true);
    expect(b.elector.snapshot().actAfterMs).toBe(seenB + LEASE_DURATION_MS + TAKEOVER_MARGIN_MS);
    // Renewals keep the original grace point.
    await clock.advance(600);
    expect(b.elector.snapshot().actAfterMs).toBe(seenB + LEASE_DURATION_MS + TAKEOVER_MARGIN_MS);

    setup();
    const c = candidate('c');
    const sendC = clock.monotonicMs();
    await start(c); // the lease did not exist: it may have been deleted under a live leader
    expect(c.elector.snapshot().actAfterMs).toBe(sendC + LEASE_DURATION_MS + TAKEOVER_MARGIN_MS);
  });

  it('withholds a release during its own takeover grace: the next holder must wait its grace too (simulation seed 17613)', async () => {
    setup();
    // A lease that vanished without its holder's release (deleted under a live, cut-off leader).
    const b = candidate('b');
    const seenB = clock.monotonicMs();
    await start(b);
    expect(leads(b)).toBe(true);
    const graceEnd = seenB + LEASE_DURATION_MS + TAKEOVER_MARGIN_MS;
    expect(b.elector.snapshot().actAfterMs).toBe(graceEnd);
    // SIGTERM during the grace: a cleared holder would let the next pod act at once.
    await b.elector.release(new AbortController().signal);
    expect(b.elector.snapshot().reason).toBe(LeaseReason.ReleaseWithheld);
    expect(store.lease()!.spec?.holderIdentity).toBe(id('b'));
    await b.elector.stop();
    const c = candidate('c');
    await start(c);
    expect(leads(c)).toBe(false);
    // c takes the lease only once it expired, and then waits a full grace of its own.
    await clock.advance(LEASE_DURATION_MS + 100);
    expect(leads(c)).toBe(true);
    expect(c.elector.snapshot().acquiredFromRelease).toBe(false);
    expect(acts(c)).toBe(false);
    expect(c.elector.snapshot().actAfterMs).toBeGreaterThan(clock.monotonicMs());
  });

  it('does not release a record naming it that it did not write: the lease expires instead (simulation full seed 1182)', async () => {
    setup();
    const a = candidate('a');
    const b = candidate('b');
    await start(a, b);
    await clock.advance(1000);
    // kubectl edit names b while a's node forges; a stops renewing and begins to fence.
    store.edit((l) => {
      l.spec!.holderIdentity = id('b');
    });
    // a keeps no watch while it leads: its next renewal (409) tells it.
    await clock.advance(RETRY_PERIOD_MS + 10);
    expect(leads(a)).toBe(false);
    // b (shutting down, or told its node is gone) is asked to release what the record says is its.
    await b.elector.release(new AbortController().signal);
    expect(b.elector.snapshot().reason).toBe(LeaseReason.ReleaseWithheld);
    expect(store.lease()!.spec?.holderIdentity).toBe(id('b'));
    expect(store.writes.filter((w) => w.by === 'b')).toEqual([]);
  });

  it('releases normally once its takeover grace has passed', async () => {
    setup();
    const b = candidate('b');
    await start(b);
    await clock.advance(LEASE_DURATION_MS + TAKEOVER_MARGIN_MS + 10);
    expect(acts(b)).toBe(true);
    await b.elector.release(new AbortController().signal);
    expect(b.elector.snapshot().reason).toBe(LeaseReason.Released);
    expect(store.lease()!.spec?.holderIdentity).toBe('');
  });

  it('renews every retryPeriod, keeping acquireTime and transitions (G24), moving leaderUntil with each send', async () => {
    setup();
    const a = candidate('a');
    await start(a);
    const first = store.lease()!.spec!;
    for (let i = 0; i < 6; i++) await clock.advance(500);
    const now = store.lease()!.spec!;
    expect(now.acquireTime).toEqual(first.acquireTime);
    expect(now.leaseTransitions).toBe(first.leaseTransitions);
    expect(now.renewTime).not.toEqual(first.renewTime);
    const renewals = a.api.calls.filter((c) => c.op === 'replace');
    expect(renewals.length).toBeGreaterThanOrEqual(5);
    // Fast path: a renewal is one PUT, not GET + PUT.
    expect(a.api.calls.filter((c) => c.op === 'read')).toHaveLength(1);
    const lastSend = renewals.at(-1)!.atMs;
    expect(a.elector.snapshot().leaderUntilMs).toBe(lastSend + RENEW_DEADLINE_MS);
    expect(a.elector.snapshot().reason).toBe(LeaseReason.Renewed);
  });

  it('does not take a lease that another candidate keeps renewing', async () => {
    setup();
    const a = candidate('a');
    const b = candidate('b');
    await start(a);
    await start(b);
    for (let i = 0; i < 40; i++) {
      await clock.advance(250);
      expect([leads(a), leads(b)]).toEqual([true, false]);
    }
    expect(b.elector.snapshot().holder).toBe(id('a'));
    expect(b.elector.snapshot().reason).toBe(LeaseReason.HeldByOther);
    expect(store.writes.filter((w) => w.by === 'b')).toHaveLength(0);
  });

  it.each([
    ['renewTime far in the future', 3_600_000],
    ['renewTime far in the past', -3_600_000],
  ])('takes a stale lease only after leaseDuration of LOCAL observation (%s)', async (_name, skewMs) => {
    setup();
    // A holder that stopped renewing; its renewTime is skewed relative to our wall clock.
    const renewTime = new Date(clock.wallNow().getTime() + skewMs).toISOString().replace('Z', '000Z');
    store.edit((l) => {
      l.spec = {
        holderIdentity: 'gone',
        leaseDurationSeconds: 3,
        leaseTransitions: 2,
        renewTime: renewTime as never,
        acquireTime: renewTime as never,
      };
    });
    const b = candidate('b');
    const firstSeen = clock.monotonicMs();
    await start(b);
    expect(leads(b)).toBe(false);
    let acquiredAt: number | null = null;
    for (let t = 0; t < 8000 && acquiredAt === null; t += 100) {
      await clock.advance(100);
      if (leads(b)) acquiredAt = clock.monotonicMs();
    }
    expect(acquiredAt).not.toBeNull();
    expect(acquiredAt! - firstSeen).toBeGreaterThanOrEqual(LEASE_DURATION_MS);
    // ...and not much later than the next poll after expiry (jitter 1.2 at random 0.5 → 1.1 s).
    expect(acquiredAt! - firstSeen).toBeLessThanOrEqual(LEASE_DURATION_MS + 1100 + 100);
    const spec = store.lease()!.spec!;
    expect(spec.holderIdentity).toBe(id('b'));
    expect(spec.leaseTransitions).toBe(3);
    expect(spec.acquireTime).not.toBe(renewTime);
    expect(b.elector.snapshot().acquiredFromRelease).toBe(false);
  });

  it('restarts the expiry clock whenever the record changes, regardless of the wall clock', async () => {
    setup();
    store.edit((l) => {
      l.spec = { holderIdentity: 'other', leaseDurationSeconds: 3 };
    });
    const b = candidate('b');
    await start(b);
    clock.skewWall(10 * 60_000);
    // "other" renews every 2 s by hand: b must never take it.
    for (let i = 0; i < 5; i++) {
      await clock.advance(2000);
      store.edit((l) => {
        l.spec!.renewTime = `2020-01-01T00:00:0${i}.000000Z` as never;
      });
      expect(leads(b)).toBe(false);
    }
    await clock.advance(LEASE_DURATION_MS + 2500);
    expect(leads(b)).toBe(true);
  });

  it('loses a create race with 409 AlreadyExists and a replace race with 409 Conflict', async () => {
    setup();
    const a = candidate('a');
    const b = candidate('b');
    // Both start at the same instant and both see 404; only one create can win.
    await a.elector.start(a.controller.signal);
    await b.elector.start(b.controller.signal);
    await clock.advance(0);
    expect([leads(a), leads(b)].filter(Boolean)).toHaveLength(1);
    const loser = leads(a) ? b : a;
    expect(loser.elector.snapshot().reason).toBe(LeaseReason.LostRace);

    // Replace race on a released lease: two standbys wake on the same watch event, both read
    // the free lease before either writes, and exactly one PUT wins.
    const winner = leads(a) ? a : b;
    const c = candidate('c');
    await start(c);
    for (const x of [a, b, c]) x.api.latencyMs = 10;
    await pastGrace();
    const releasedAt = clock.monotonicMs();
    const releasing = winner.elector.release(new AbortController().signal);
    await clock.advance(100);
    await releasing;
    const standbys = [a, b, c].filter((x) => x !== winner);
    expect(standbys.filter(leads)).toHaveLength(1);
    const racers = standbys.map(
      (x) => x.api.calls.filter((k) => k.op === 'replace' && k.atMs >= releasedAt).length,
    );
    expect(racers).toEqual([1, 1]);
    const loserOfRace = standbys.find((x) => !leads(x))!;
    expect(loserOfRace.elector.snapshot().reason).toBe(LeaseReason.LostRace);
  });

  it('gives up leadership by renewDeadline when renewals fail, and notifies subscribers at once', async () => {
    setup();
    const a = candidate('a');
    await start(a);
    await clock.advance(500); // one renewal
    const lastSend = a.api.calls.filter((c) => c.op === 'replace').at(-1)!.atMs;
    const until = a.elector.snapshot().leaderUntilMs;
    expect(until).toBe(lastSend + RENEW_DEADLINE_MS);
    a.api.fault = 'network';
    let lostAt: number | null = null;
    a.elector.subscribe((s) => {
      if (lostAt === null && s.leaderUntilMs === 0) lostAt = clock.monotonicMs();
    });
    const reasons: string[] = [];
    a.elector.subscribe((s) => reasons.push(s.reason));
    await clock.advance(RENEW_DEADLINE_MS + 100);
    expect(lostAt).not.toBeNull();
    expect(lostAt!).toBeLessThanOrEqual(until);
    // (Then its watch opens again, fails, and its next poll reports the API error.)
    expect(reasons).toContain(LeaseReason.RenewDeadlineExceeded);
    // Retried in the meantime, not just waited.
    expect(a.api.calls.filter((c) => c.atMs > lastSend).length).toBeGreaterThanOrEqual(3);
  });

  it('aborts a hanging renewal at leaderUntil: no request outlives the fencing window', async () => {
    setup();
    const a = candidate('a', { requestTimeoutSeconds: 30 });
    await start(a);
    const until = a.elector.snapshot().leaderUntilMs;
    a.api.fault = 'hang';
    await clock.advance(RENEW_DEADLINE_MS);
    expect(clock.monotonicMs()).toBeGreaterThanOrEqual(until);
    expect(leads(a)).toBe(false);
    expect(a.elector.snapshot().leaderUntilMs).toBe(0);
    expect(a.elector.snapshot().reason).toBe(LeaseReason.RenewDeadlineExceeded);
  });

  it('old leader stops leading before a partitioned-away standby can take over', async () => {
    setup();
    const a = candidate('a');
    const b = candidate('b');
    await start(a, b);
    await clock.advance(1000);
    a.api.fault = 'hang';
    let aLostAt: number | null = null;
    let bLedAt: number | null = null;
    const aTransitions = a.elector.snapshot().transitions;
    for (let t = 0; t < 8000; t += 50) {
      await clock.advance(50);
      if (aLostAt === null && !leads(a)) aLostAt = clock.monotonicMs();
      if (bLedAt === null && leads(b)) bLedAt = clock.monotonicMs();
      expect(leads(a) && leads(b)).toBe(false);
    }
    expect(aLostAt).not.toBeNull();
    expect(bLedAt).not.toBeNull();
    expect(bLedAt! - aLostAt!).toBeGreaterThanOrEqual(LEASE_DURATION_MS - RENEW_DEADLINE_MS - 100);
    // (a's own snapshot may already show b's record: its open watch still delivers.)
    expect(b.elector.snapshot().transitions).toBe(aTransitions + 1);
  });

  it('a standby takes over a dead leader exactly leaseDuration after it last saw a change, not at its next jittered poll', async () => {
    setup();
    const a = candidate('a');
    const b = candidate('b');
    await start(a);
    await clock.advance(130); // b's polls are not aligned with a's renewals
    await start(b);
    await clock.advance(1000);
    const lastRenew = a.api.calls.filter((c) => c.op === 'replace').at(-1)!.atMs;
    await a.elector.stop(); // dies without releasing
    let bLedAt: number | null = null;
    for (let t = 0; t < 6000 && bLedAt === null; t += 5) {
      await clock.advance(5);
      if (leads(b)) bLedAt = clock.monotonicMs();
    }
    // b's watch delivered that renewal as it happened (the fake has no latency).
    const seenAt = lastRenew;
    expect(bLedAt).not.toBeNull();
    expect(bLedAt! - seenAt).toBeGreaterThanOrEqual(LEASE_DURATION_MS);
    // random() is 0.5 here: the next jittered poll would be 800 ms away; expiry wins by far.
    expect(bLedAt! - seenAt).toBeLessThan(LEASE_DURATION_MS + 50);
  });

  it('release clears the holder (duration 1, transitions kept) and a watching standby takes over without polling', async () => {
    setup();
    const a = candidate('a');
    const b = candidate('b');
    await start(a, b);
    await pastGrace();
    const before = store.lease()!.spec!;
    const bReadsBefore = b.api.calls.filter((c) => c.op === 'read').length;
    a.elector.setCandidacy(false, 'node unhealthy');
    expect(leads(a)).toBe(false);
    await a.elector.release(new AbortController().signal);
    const releaseWrite = store.writes.find((w) => w.by === 'a' && w.holder === '');
    expect(releaseWrite).toBeDefined();
    expect(a.elector.snapshot().reason).toBe(LeaseReason.Released);
    expect(a.elector.snapshot().leaderUntilMs).toBe(0);
    // No clock advance: only the watch event can have woken b.
    await clock.advance(0);
    expect(leads(b)).toBe(true);
    expect(b.elector.snapshot().acquiredFromRelease).toBe(true);
    expect(b.api.calls.filter((c) => c.op === 'read').length).toBe(bReadsBefore + 1);
    expect(store.lease()!.spec!.leaseTransitions).toBe((before.leaseTransitions ?? 0) + 1);
    const released = store.writes.indexOf(releaseWrite!);
    expect(store.writes[released + 1]?.by).toBe('b');
  });

  it('release writes holder "" with leaseDurationSeconds 1 and keeps transitions', async () => {
    setup();
    const a = candidate('a');
    await start(a);
    const transitions = store.lease()!.spec!.leaseTransitions;
    let released: V1Lease | null = null;
    const watcher = store.api('observer');
    const handle = watcher.watch(
      (_t, l) => {
        if (l.spec?.holderIdentity === '') released = l;
      },
      () => undefined,
    );
    await pastGrace();
    await a.elector.release(new AbortController().signal);
    await clock.advance(0);
    handle.stop();
    expect(released).not.toBeNull();
    expect(released!.spec?.leaseDurationSeconds).toBe(1);
    expect(released!.spec?.leaseTransitions).toBe(transitions);
    expect(released!.spec?.renewTime).toEqual(released!.spec?.acquireTime);
    // release withdraws candidacy: the free lease is not taken back.
    await clock.advance(3000);
    expect(store.lease()!.spec?.holderIdentity).toBe('');
  });

  it('a non-holder release is a no-op; a write between the releaser’s read and its write withholds the release', async () => {
    setup();
    const a = candidate('a');
    const b = candidate('b');
    await start(a, b);
    await pastGrace();
    const writesBefore = store.writes.length;
    await b.elector.release(new AbortController().signal);
    expect(store.writes.length).toBe(writesBefore);
    expect(store.lease()!.spec?.holderIdentity).toBe(id('a'));

    // A concurrent metadata edit between a's read and write forces one 409. The record a reads
    // again names it but is not the one it wrote: someone else wrote since, so its release would
    // vouch for more than its own node. It withholds; the lease expires instead.
    let edited = false;
    const originalReplace = a.api.replace;
    a.api.replace = (lease, options) => {
      if (!edited && lease.spec?.holderIdentity === '') {
        edited = true;
        store.edit((l) => {
          l.metadata = { ...l.metadata, labels: { touched: 'yes' } };
        });
      }
      return originalReplace(lease, options);
    };
    await a.elector.release(new AbortController().signal);
    expect(edited).toBe(true);
    expect(a.elector.snapshot().reason).toBe(LeaseReason.ReleaseWithheld);
    expect(store.lease()!.spec?.holderIdentity).toBe(id('a'));
    // Nobody renews it: b (a candidate again) takes it after leaseDuration, with a takeover grace (not from a release).
    b.elector.setCandidacy(true, 'test: candidate again');
    await clock.advance(LEASE_DURATION_MS + 100);
    expect(leads(b)).toBe(true);
    expect(b.elector.snapshot().acquiredFromRelease).toBe(false);
  });

  it('a non-candidate does not acquire, and withdrawing candidacy stops renewals', async () => {
    setup();
    const a = candidate('a');
    a.elector.setCandidacy(false, 'not at tip');
    await start(a);
    await clock.advance(5000);
    expect(store.lease()).toBeNull();
    expect(a.elector.snapshot().reason).toBe(LeaseReason.Vacant);
    a.elector.setCandidacy(true, 'synced');
    await clock.advance(0);
    expect(leads(a)).toBe(true);
    const replacesBefore = a.api.calls.filter((c) => c.op === 'replace').length;
    a.elector.setCandidacy(false, 'unhealthy');
    expect(a.elector.snapshot().leaderUntilMs).toBe(0);
    expect(a.elector.snapshot().reason).toBe(LeaseReason.CandidacyWithdrawn);
    await clock.advance(5000);
    expect(a.api.calls.filter((c) => c.op === 'replace').length).toBe(replacesBefore);
  });

  it('a leader handed away by a hand edit steps down at its next renewal (409, then the new holder)', async () => {
    setup();
    const a = candidate('a');
    await start(a);
    await clock.advance(100);
    const lastRenewal = a.api.calls.filter((c) => c.op === 'replace' || c.op === 'create').at(-1)!.atMs;
    // An administrator hands the lease to someone else.
    store.edit((l) => {
      l.spec!.holderIdentity = 'intruder';
    });
    await clock.advance(0);
    // The leader keeps no watch (docs/safety.md): nothing tells it before its next renewal.
    expect(leads(a)).toBe(true);
    await clock.advance(lastRenewal + RETRY_PERIOD_MS - clock.monotonicMs() + 10);
    expect(leads(a)).toBe(false);
    expect(a.elector.snapshot().reason).toBe(LeaseReason.LostToOther);
    expect(a.elector.snapshot().holder).toBe('intruder');
  });

  it('closes its watch while it leads and opens it again when leadership ends', async () => {
    setup();
    const a = candidate('a');
    const b = candidate('b');
    await start(a, b);
    await pastGrace();
    expect(leads(a)).toBe(true);
    expect(store.watcherCount).toBe(1); // b's
    const watchesBefore = a.api.calls.filter((c) => c.op === 'watch').length;
    await a.elector.release(new AbortController().signal);
    await clock.advance(100);
    expect(leads(a)).toBe(false);
    expect(a.api.calls.filter((c) => c.op === 'watch').length).toBe(watchesBefore + 1);
    await clock.advance(RETRY_PERIOD_MS * 3);
    expect(leads(b)).toBe(true);
    expect(store.watcherCount).toBe(1); // a's now
  });

  describe('hand-edited nonsense leases', () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      [
        'leaseDurationSeconds 0',
        {
          holderIdentity: 'x',
          leaseDurationSeconds: 0,
          renewTime: '2026-01-01T00:00:00.000000Z',
          acquireTime: '2026-01-01T00:00:00.000000Z',
        },
        /leaseDurationSeconds is not a positive integer/,
      ],
      [
        'leaseDurationSeconds negative',
        {
          holderIdentity: 'x',
          leaseDurationSeconds: -5,
          renewTime: '2026-01-01T00:00:00.000000Z',
          acquireTime: '2026-01-01T00:00:00.000000Z',
        },
        /leaseDurationSeconds is not a positive integer/,
      ],
      [
        'leaseDurationSeconds missing',
        {
          holderIdentity: 'x',
          renewTime: '2026-01-01T00:00:00.000000Z',
          acquireTime: '2026-01-01T00:00:00.000000Z',
        },
        /leaseDurationSeconds is missing/,
      ],
      [
        'renewTime unparsable',
        { holderIdentity: 'x', leaseDurationSeconds: 3, renewTime: 'yesterday-ish', acquireTime: 42 },
        /renewTime is unparsable/,
      ],
      ['holder set, spec fields missing', { holderIdentity: 'x' }, /leaseDurationSeconds is missing/],
      [
        'holder not a string',
        { holderIdentity: 7, leaseDurationSeconds: 'soon', leaseTransitions: -3 },
        /holderIdentity is not a string/,
      ],
    ];

    it.each(cases)(
      '%s: no crash, reported, treated as held for the configured leaseDuration',
      async (_name, spec, problem) => {
        setup();
        store.edit((l) => {
          l.spec = spec as never;
        });
        const b = candidate('b');
        const seenAt = clock.monotonicMs();
        await start(b);
        expect(leads(b)).toBe(false);
        expect(b.elector.snapshot().reason).toBe(LeaseReason.LeaseSpecInvalid);
        expect(b.elector.snapshot().message).toMatch(problem);
        let ledAt: number | null = null;
        for (let t = 0; t < 7000 && ledAt === null; t += 100) {
          await clock.advance(100);
          if (leads(b)) ledAt = clock.monotonicMs();
        }
        expect(ledAt).not.toBeNull();
        expect(ledAt! - seenAt).toBeGreaterThanOrEqual(LEASE_DURATION_MS);
        const written = store.lease()!.spec!;
        expect(written.holderIdentity).toBe(id('b'));
        expect(written.leaseDurationSeconds).toBe(3);
        expect(String(written.renewTime)).toMatch(/\.\d{6}Z$/);
      },
    );

    it('a spec-less lease and a lease edited to our own full identity do not crash the leader', async () => {
      setup();
      store.edit((l) => {
        delete l.spec;
      });
      const a = candidate('a');
      await start(a);
      expect(leads(a)).toBe(true);
      store.edit((l) => {
        l.spec = { holderIdentity: id('a') } as never;
      });
      await clock.advance(600);
      expect(leads(a)).toBe(true);
      expect(store.lease()!.spec?.leaseDurationSeconds).toBe(3);
    });
  });

  describe('a watching standby does not poll (issue 10)', () => {
    const reads = (c: Candidate, fromMs: number): number =>
      c.api.calls.filter((call) => call.op === 'read' && call.atMs >= fromMs).length;

    it('makes no read while its watch delivers the leader’s renewals, and one per resync', async () => {
      setup();
      const a = candidate('a');
      const b = candidate('b');
      const observer = candidate('c');
      observer.elector.setCandidacy(false, 'test: observer only');
      await start(a, b, observer);
      await clock.advance(1000);
      const from = clock.monotonicMs();
      await clock.advance(60_000);
      expect(leads(a)).toBe(true);
      expect(reads(b, from)).toBe(0);
      expect(reads(observer, from)).toBe(0);
      // The standby still knows who holds the lease and when it would expire.
      expect(b.elector.snapshot().holder).toBe(id('a'));
      expect(b.elector.snapshot().reason).toBe(LeaseReason.HeldByOther);
      expect(observer.elector.snapshot().holder).toBe(id('a'));
      await clock.advance(70_000);
      expect(reads(b, from)).toBe(1);
      expect(reads(observer, from)).toBe(1);
    });

    it('polls again as soon as its watch ends, until a new watch delivers', async () => {
      setup();
      const a = candidate('a');
      const b = candidate('b');
      await start(a, b);
      await clock.advance(1000);
      // Every new watch is broken as soon as it opens: no watch delivers for 10 s.
      const from = clock.monotonicMs();
      for (let t = 0; t < 10_000; t += 100) {
        store.breakWatches();
        await clock.advance(100);
      }
      // Jittered polls (0.5 s × [1, 2.2), here 1.1 s) while no watch delivers.
      expect(reads(b, from)).toBeGreaterThanOrEqual(8);
      const quietFrom = clock.monotonicMs();
      await clock.advance(30_000);
      expect(reads(b, quietFrom)).toBeLessThanOrEqual(1);
    });

    it('a watch that stays open but stops delivering: the read at the seen expiry finds a newer record and it polls again', async () => {
      setup();
      const a = candidate('a');
      const b = candidate('b');
      await start(a, b);
      await clock.advance(1000);
      b.api.watchStalled = true;
      const stalledAt = clock.monotonicMs();
      // The last renewal b saw expires LEASE_DURATION_MS later on its clock: it reads then, finds
      // the leader renewed meanwhile, and from then on polls instead of waiting out each new record.
      await clock.advance(LEASE_DURATION_MS + 100);
      expect(reads(b, stalledAt)).toBe(1);
      const pollingFrom = clock.monotonicMs();
      await clock.advance(LEASE_DURATION_MS);
      expect(reads(b, pollingFrom)).toBeGreaterThanOrEqual(2);
      expect(b.elector.snapshot().holder).toBe(id('a'));
      // The leader dies while the watch is still stalled: polling alone finds the expiry.
      await a.elector.stop();
      const deadAt = clock.monotonicMs();
      let bLedAt: number | null = null;
      for (let t = 0; t < 3 * LEASE_DURATION_MS && bLedAt === null; t += 10) {
        await clock.advance(10);
        if (leads(b)) bLedAt = clock.monotonicMs();
      }
      expect(bLedAt).not.toBeNull();
      expect(bLedAt! - deadAt).toBeLessThan(LEASE_DURATION_MS + 1200);
    });

    it('a stalled watch that delivers again: the standby stops polling', async () => {
      setup();
      const a = candidate('a');
      const b = candidate('b');
      await start(a, b);
      await clock.advance(1000);
      b.api.watchStalled = true;
      await clock.advance(LEASE_DURATION_MS + 2000);
      const polledFrom = clock.monotonicMs();
      await clock.advance(2000);
      expect(reads(b, polledFrom)).toBeGreaterThanOrEqual(1);
      b.api.watchStalled = false;
      await clock.advance(2000);
      const quietFrom = clock.monotonicMs();
      await clock.advance(60_000);
      expect(reads(b, quietFrom)).toBe(0);
      expect(leads(a)).toBe(true);
    });

    it('a hand edit naming another holder restarts the expiry clock through the watch alone', async () => {
      setup();
      const a = candidate('a');
      const b = candidate('b');
      await start(a, b);
      await clock.advance(1000);
      await a.elector.stop();
      await clock.advance(1000);
      store.edit((l) => {
        l.spec!.holderIdentity = 'someone-else';
      });
      const editedAt = clock.monotonicMs();
      let bLedAt: number | null = null;
      for (let t = 0; t < 8000 && bLedAt === null; t += 10) {
        await clock.advance(10);
        if (leads(b)) bLedAt = clock.monotonicMs();
      }
      expect(bLedAt).not.toBeNull();
      expect(bLedAt! - editedAt).toBeGreaterThanOrEqual(LEASE_DURATION_MS);
      expect(bLedAt! - editedAt).toBeLessThan(LEASE_DURATION_MS + 100);
      // One read right before the takeover, none while waiting.
      expect(reads(b, editedAt)).toBe(1);
    });

    // The simulation's full seed 223 in miniature. A pod clock that runs at a rate ≠ 1 turns a
    // sleep into true time (ms / rate) and back (× rate), so it can wake a floating-point hair
    // before the instant it slept for. At the resync instant the standby then found "not due yet"
    // (now − lastRead < resync) but computed a wait of 0 (lastRead + resync − now ≤ 0) and went
    // round again without ever yielding to the clock: virtual time stopped. These rates are ones
    // where that happened; the clock below counts rounds at one instant instead of hanging.
    it.each([1.005967477514, 1.0003946684740002, 0.9937072976260001])(
      'a standby on a clock drifting at rate %d passes its resync instant (it always yields to the clock)',
      async (rate) => {
        setup();
        const drifting = new DriftingClock(clock, rate);
        const a = candidate('a');
        const bApi = store.api('b');
        const b = createLeaseElector(
          bApi,
          { clock: drifting, logger: silent, random: () => 0.5, incarnationId: INCARNATION },
          { namespace: 'ns', leaseName: 'forge', identity: 'b', ...timing },
        );
        started.push({ elector: b, api: bApi, history: [], controller: new AbortController() });
        await start(a);
        await b.start(new AbortController().signal);
        await clock.advance(130_000);
        expect(drifting.roundsWithoutTimePassing).toBe(0);
        // Exactly the start-up read and the one resync read (≈ 120 s on its clock).
        expect(bApi.calls.filter((call) => call.op === 'read')).toHaveLength(2);
        expect(b.snapshot().holder).toBe(id('a'));
        expect(leads(a)).toBe(true);
      },
    );

    it('a deleted lease wakes a watching standby at once: it reads and re-creates it', async () => {
      setup();
      const a = candidate('a');
      const b = candidate('b');
      await start(a, b);
      await clock.advance(1000);
      await a.elector.stop(); // dead without releasing
      store.delete();
      await clock.advance(10);
      expect(leads(b)).toBe(true);
      expect(b.elector.snapshot().reason).toBe(LeaseReason.Created);
      // Deleted under a possibly live holder: b acts only after leaseDuration + margin.
      expect(b.elector.snapshot().actAfterMs).toBeGreaterThanOrEqual(
        clock.monotonicMs() - 10 + LEASE_DURATION_MS,
      );
    });
  });

  it('restarts a broken watch with backoff and keeps polling meanwhile', async () => {
    setup();
    const a = candidate('a');
    const b = candidate('b');
    await start(a, b);
    b.api.fault = { kind: 'forbidden', status: 403, message: 'watch forbidden' };
    store.breakWatches();
    await clock.advance(3000);
    const watchesDuringFault = b.api.calls.filter((c) => c.op === 'watch').length;
    expect(watchesDuringFault).toBeGreaterThanOrEqual(3);
    b.api.fault = null;
    await clock.advance(35_000);
    expect(store.watcherCount).toBe(1); // b's; the leader keeps none
    // Polling alone still finds the expiry when the leader dies.
    await a.elector.stop();
    store.breakWatches({ kind: 'network', message: 'reset' });
    b.api.fault = null;
    await clock.advance(LEASE_DURATION_MS + 2500);
    expect(leads(b)).toBe(true);
  });

  it('exports metrics on the given registry', async () => {
    setup();
    const registry = new Registry();
    const a = candidate('a', {}, registry);
    await start(a);
    await clock.advance(500);
    a.api.fault = 'network';
    await clock.advance(RENEW_DEADLINE_MS + 100);
    const text = await registry.metrics();
    expect(text).toMatch(/cardano_forge_lease_renew_duration_seconds_count \d+/);
    expect(text).toMatch(/cardano_forge_lease_request_errors_total\{kind="network"\} [1-9]/);
    expect(text).toMatch(
      /cardano_forge_lease_last_renew_timestamp_seconds 1\.7\d+e\+9|cardano_forge_lease_last_renew_timestamp_seconds 17\d{8}/,
    );
    expect(text).toMatch(/cardano_forge_lease_is_leader 0/);
    // A second elector on the same registry does not throw on duplicate registration.
    expect(() => candidate('b', {}, registry)).not.toThrow();
  });

  describe('identity, hand edits, takeover grace, change detection (issue 8)', () => {
    /** Steps the clock and returns when each candidate first led / acted, asserting no overlap. */
    async function watchRun(
      cs: Candidate[],
      ms: number,
      stepMs = 50,
    ): Promise<{ firstLead: Array<number | null>; firstAct: Array<number | null> }> {
      const firstLead: Array<number | null> = cs.map(() => null);
      const firstAct: Array<number | null> = cs.map(() => null);
      for (let t = 0; t < ms; t += stepMs) {
        await clock.advance(stepMs);
        cs.forEach((c, i) => {
          if (firstLead[i] === null && leads(c)) firstLead[i] = clock.monotonicMs();
          if (firstAct[i] === null && acts(c)) firstAct[i] = clock.monotonicMs();
        });
        expect(cs.filter(acts).length).toBeLessThanOrEqual(1);
      }
      return { firstLead, firstAct };
    }

    it('identity is <pod name>_<incarnation>: two processes with the same pod name never lead together', async () => {
      setup();
      const first = candidate('pod-0', {}, undefined, 'inc-1');
      const second = candidate('pod-0', {}, undefined, 'inc-2');
      await start(first);
      await clock.advance(130);
      await start(second);
      for (let i = 0; i < 20; i++) {
        await clock.advance(250);
        expect([leads(first), leads(second)]).toEqual([true, false]);
      }
      expect(first.elector.identity).toBe('pod-0_inc-1');
      expect(first.elector.snapshot().identity).toBe('pod-0_inc-1');
      expect(store.lease()!.spec?.holderIdentity).toBe('pod-0_inc-1');
      expect(second.elector.snapshot().holder).toBe('pod-0_inc-1');
      expect(second.elector.snapshot().reason).toBe(LeaseReason.HeldByOther);
      // The first dies without releasing: the second waits out the whole lease like anyone else.
      const lastRenew = first.api.calls.filter((c) => c.op === 'replace').at(-1)!.atMs;
      await first.elector.stop();
      const { firstLead, firstAct } = await watchRun([second], 6000);
      expect(firstLead[0]! - lastRenew).toBeGreaterThanOrEqual(LEASE_DURATION_MS);
      expect(firstAct[0]! - lastRenew).toBeGreaterThanOrEqual(LEASE_DURATION_MS + TAKEOVER_MARGIN_MS);
    });

    it('a record naming our pod name but written by another incarnation (e.g. the Python sidecar) is not ours', async () => {
      setup();
      store.edit((l) => {
        l.spec = {
          holderIdentity: 'pod-0',
          leaseDurationSeconds: 3,
          renewTime: '2026-01-01T00:00:00.000000Z' as never,
          acquireTime: '2026-01-01T00:00:00.000000Z' as never,
        };
      });
      const seenAt = clock.monotonicMs();
      const a = candidate('pod-0');
      await start(a);
      expect(leads(a)).toBe(false);
      expect(a.elector.snapshot().holder).toBe('pod-0');
      const { firstLead, firstAct } = await watchRun([a], 5000);
      expect(firstLead[0]! - seenAt).toBeGreaterThanOrEqual(LEASE_DURATION_MS);
      expect(firstAct[0]! - seenAt).toBeGreaterThanOrEqual(LEASE_DURATION_MS + TAKEOVER_MARGIN_MS);
    });

    it('holderIdentity edited by hand to a standby: the standby acts only after the old holder’s last renew + leaseDuration + margin', async () => {
      setup();
      const a = candidate('a');
      const b = candidate('b');
      await start(a, b);
      await clock.advance(1000);
      const aLastRenew = a.api.calls.filter((c) => c.op === 'replace').at(-1)!.atMs;
      store.edit((l) => {
        l.spec!.holderIdentity = b.elector.identity;
      });
      const editedAt = clock.monotonicMs();
      const { firstAct } = await watchRun([a, b], 6000);
      expect(firstAct[0]).toBeNull();
      expect(firstAct[1]).not.toBeNull();
      expect(firstAct[1]! - aLastRenew).toBeGreaterThanOrEqual(LEASE_DURATION_MS + TAKEOVER_MARGIN_MS);
      expect(firstAct[1]! - editedAt).toBeGreaterThanOrEqual(LEASE_DURATION_MS + TAKEOVER_MARGIN_MS);
      expect(a.history.some((h) => h.reason === LeaseReason.LostToOther)).toBe(true);
    });

    it('leaseDurationSeconds shortened by hand: expiry uses the longer of configured and recorded', async () => {
      setup();
      const a = candidate('a');
      const b = candidate('b');
      await start(a, b);
      await clock.advance(1000);
      await a.elector.stop(); // stops renewing (e.g. frozen), lease not released
      store.edit((l) => {
        l.spec!.leaseDurationSeconds = 1;
      });
      const editedAt = clock.monotonicMs();
      const { firstLead, firstAct } = await watchRun([b], 6000);
      expect(firstLead[0]! - editedAt).toBeGreaterThanOrEqual(LEASE_DURATION_MS);
      expect(firstAct[0]! - editedAt).toBeGreaterThanOrEqual(LEASE_DURATION_MS + TAKEOVER_MARGIN_MS);
    });

    it('takeover after expiry: the new leader acts no earlier than the old holder’s last renew + leaseDuration + margin', async () => {
      setup();
      const a = candidate('a');
      const b = candidate('b');
      await start(a);
      await clock.advance(130);
      await start(b);
      await clock.advance(1000);
      const aLastRenew = a.api.calls.filter((c) => c.op === 'replace').at(-1)!.atMs;
      await a.elector.stop();
      const { firstLead, firstAct } = await watchRun([b], 6000, 5);
      expect(firstLead[0]! - aLastRenew).toBeGreaterThanOrEqual(LEASE_DURATION_MS);
      expect(firstAct[0]! - aLastRenew).toBeGreaterThanOrEqual(LEASE_DURATION_MS + TAKEOVER_MARGIN_MS);
      // Liveness: not much later than that.
      expect(firstAct[0]! - aLastRenew).toBeLessThan(LEASE_DURATION_MS + TAKEOVER_MARGIN_MS + 50);
    });

    it('re-taking our own record after losing leadership keeps the grace of the original takeover', async () => {
      setup();
      store.edit((l) => {
        l.spec = { holderIdentity: '', leaseDurationSeconds: 3 }; // emptied by hand: needs grace
      });
      const a = candidate('a');
      await start(a);
      const graceEnd = a.elector.snapshot().actAfterMs!;
      expect(graceEnd).toBeGreaterThan(clock.monotonicMs());
      a.api.fault = 'network';
      await clock.advance(RENEW_DEADLINE_MS + 100);
      expect(leads(a)).toBe(false);
      a.api.fault = null;
      await clock.advance(1200);
      expect(leads(a)).toBe(true);
      expect(clock.monotonicMs()).toBeLessThan(graceEnd);
      expect(a.elector.snapshot().actAfterMs).toBe(graceEnd);
      expect(acts(a)).toBe(false);
    });

    it('renewals are seen through resourceVersion: a holder whose wall clock stands still is not taken over', async () => {
      setup();
      const a = candidate('a');
      const b = candidate('b');
      await start(a, b);
      clock.freezeWall();
      const { firstLead } = await watchRun([a, b], 3 * LEASE_DURATION_MS);
      expect(firstLead[1]).toBeNull();
      expect(leads(a)).toBe(true);
      // Each renewal wrote a later renewTime than the one before, so it was a real write.
      const renewTimes = store.writes.filter((w) => w.by === 'a').map((w) => w.resourceVersion);
      expect(new Set(renewTimes).size).toBe(renewTimes.length);
      expect(renewTimes.length).toBeGreaterThan(10);
    });

    it('any write to the record counts as a renewal, even one that leaves the spec as it was', async () => {
      setup();
      store.edit((l) => {
        l.spec = {
          holderIdentity: 'other',
          leaseDurationSeconds: 3,
          renewTime: '2026-01-01T00:00:00.000000Z' as never,
          acquireTime: '2026-01-01T00:00:00.000000Z' as never,
        };
      });
      const b = candidate('b');
      await start(b);
      for (let i = 0; i < 5; i++) {
        await clock.advance(2000);
        store.edit((l) => {
          l.metadata = { ...l.metadata, annotations: { heartbeat: String(i) } };
        });
        expect(leads(b)).toBe(false);
      }
      await clock.advance(LEASE_DURATION_MS + 2500);
      expect(leads(b)).toBe(true);
    });
  });
});
