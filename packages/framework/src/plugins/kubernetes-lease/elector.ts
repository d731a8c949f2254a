/**
 * Leader election on one coordination.k8s.io/v1 Lease, a port of client-go's
 * tools/leaderelection (tryAcquireOrRenew / renew / release) with three additions the forge
 * needs: every request has a timeout, `leaderUntilMs` is a self-fencing deadline derived from the
 * SEND time of the last successful write, and a watch lets standbys react to a release at once
 * and spares them periodic reads (they read before acting and once per resync; #liveHolderSeenByWatch).
 *
 * Safety argument (client-go's, on local clocks only): a standby may take a lease held by someone
 * else only after it has seen the record unchanged for leaseDuration on its own monotonic clock,
 * counted from when it observed the last change. That observation happened after the holder's
 * last successful write was sent (at S), so the takeover is not before S + leaseDuration, while
 * the holder considers itself leader only until S + renewDeadline < S + leaseDuration.
 *
 * Identity. The holderIdentity we write is `<pod name>_<incarnation id>` (client-go: hostname +
 * "_" + UUID), new for every process. A record naming the same pod but another incarnation (a
 * restarted container, the same pool deployed twice, a pod name shared through a config file) is
 * someone else's lease: it is waited out or released like any other.
 *
 * Change detection. "The record changed" means its resourceVersion (or content) changed, never
 * that renewTime moved forward, so a holder whose wall clock stands still is still seen renewing;
 * and our own renewals always move renewTime forward so they are real writes (the API server
 * drops an update that changes nothing, without a new resourceVersion).
 *
 * Takeover grace (actAfterMs, when a new holder may start forging). Let P be any previous holder
 * and S_P the send time of its last successful write. P acts as leader until S_P + RD_P (Rule F),
 * then revokes; revoking, signalling and the node's reaction fit in a budget B_P <= LD_P - RD_P
 * (checked at config time), so P's node has stopped forging by S_P + LD_P. We cannot see S_P, only
 * an upper bound on it: P's last successful write happened before the record we replace was
 * written, so S_P <= O, where O is when we first observed that record (changedAtMs) — every later
 * write by P would have changed the record and failed our compare-and-swap. LD_P is unknown
 * (a hand edit may have shortened the recorded value), so we use LD' = max(our leaseDuration, the
 * recorded one). With m = takeoverMarginMs(LD') = max(500 ms, 2 × 1 % × LD') for clock-rate
 * differences and a late fence tick:
 *   - taking a lease released by its holder (holder '' and leaseDurationSeconds 1, written only
 *     after that holder confirmed its node stopped forging): act at once, actAfter = send time;
 *   - taking anything else (expired holder, holder emptied or changed by hand, a record naming us
 *     that we did not write): actAfter = max(send, O + LD' + m). After an expiry wait this is at
 *     most m later than the write, since the write is sent no earlier than O + LD';
 *   - creating a missing lease (deleted under a live holder?): O is our 404 answer, before the
 *     create is sent, so actAfter = send + LD' + m;
 *   - re-taking a record we wrote ourselves (same resourceVersion) after losing leadership: no
 *     one else wrote since, so the grace of our original acquisition still applies and no more.
 *
 * Files: this one is the state machine; lease-spec.ts builds the records it writes, record.ts
 * reads them, request-deadline.ts bounds each call, lease-watch.ts keeps the watch open.
 */
import { randomUUID } from 'node:crypto';
import type { V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock, LeaderElector, LeadershipSnapshot } from '../../contracts/index.js';
import type { ClassifiedK8sError } from '../../kube/errors.js';
import type { LeaseApi, LeaseCallOptions, LeaseCallResult, LeaseWatchEventType } from './lease-api.js';
import { acquireSpec, leaseWithSpec, newLease, releasedSpec, renewSpec, type Holder } from './lease-spec.js';
import { LeaseWatchGate, runLeaseWatch } from './lease-watch.js';
import { createLeaseMetrics, type LeaseMetrics } from './metrics.js';
import {
  assertValidLeaseTiming,
  defaultRequestTimeoutSeconds,
  LEASE_JITTER_FACTOR,
  takeoverMarginMs,
  type KubernetesLeaseOptions,
} from './options.js';
import { inspectLease, type LeaseView } from './record.js';
import { callWithDeadline, type InFlight } from './request-deadline.js';
import { createMutex } from '../../core/mutex.js';

export interface LeaseElectorDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry?: Registry | undefined;
  /** Source of jitter in [0, 1); injectable for deterministic tests. */
  readonly random?: (() => number) | undefined;
  /**
   * Unique id of this process incarnation, appended to the pod name to form the holder identity.
   * Default: a random UUID. Injectable for deterministic tests; electors of one process that
   * must hold several leases together (MultiLock) share it.
   */
  readonly incarnationId?: string | undefined;
}

/** The holder identity for a candidate name and a process incarnation. */
export function incarnationIdentity(name: string, incarnationId: string): string {
  return `${name}_${incarnationId}`;
}

/** Reasons in snapshots (stable tokens for metrics and status conditions). */
export const LeaseReason = {
  NotStarted: 'NotStarted',
  Acquired: 'Acquired',
  Created: 'Created',
  Renewed: 'Renewed',
  HeldByOther: 'HeldByOther',
  LeaseSpecInvalid: 'LeaseSpecInvalid',
  Vacant: 'Vacant',
  LostRace: 'LostRace',
  LostToOther: 'LostToOther',
  RenewDeadlineExceeded: 'RenewDeadlineExceeded',
  CandidacyWithdrawn: 'CandidacyWithdrawn',
  NotCandidate: 'NotCandidate',
  Released: 'Released',
  ReleaseFailed: 'ReleaseFailed',
  ReleaseWithheld: 'ReleaseWithheld',
  ApiError: 'ApiError',
  InternalError: 'InternalError',
  Stopped: 'Stopped',
} as const;

interface Observation {
  readonly lease: V1Lease;
  readonly view: LeaseView;
  /** Local monotonic time at which the current record content was first seen. */
  readonly changedAtMs: number;
}

/** How we came to hold a record we did not hold before (see "takeover grace" above). */
type Acquisition = 'from-release' | 'own-record' | 'takeover';

interface Leadership {
  readonly leaderUntilMs: number;
  readonly acquiredFromRelease: boolean;
  /** See LeadershipSnapshot.actAfterMs. */
  readonly actAfterMs: number;
}

type AttemptOutcome = 'leading' | 'not-leading' | 'failed';

/**
 * A watching standby still reads the lease this often, in case its watch stopped delivering
 * without ending (it would notice at the holder's expiry anyway: it reads before every takeover).
 */
const STANDBY_RESYNC_MS = 120_000;

export class KubernetesLeaseElector implements LeaderElector {
  /** The holder identity written into the Lease: `<pod name>_<incarnation id>`. */
  readonly identity: string;
  /** The readable candidate name (the pod name) the identity starts with. */
  readonly candidateName: string;
  readonly #api: LeaseApi;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: LeaseMetrics;
  readonly #random: () => number;
  /** When the lease another candidate holds expires by our observation (monotonic), or null. */
  #heldUntilMs: number | null = null;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #requestTimeoutMs: number;
  readonly #leaseDurationSeconds: number;
  readonly #exclusive = createMutex();
  /** What this candidate writes as holder. */
  readonly #holder: Holder;
  readonly #listeners = new Set<(snapshot: LeadershipSnapshot) => void>();

  #eligible = true;
  #observed: Observation | null = null;
  #leading: Leadership | null = null;
  #lastContactMs = 0;
  #snapshot: LeadershipSnapshot;
  #running: { controller: AbortController; loop: Promise<void>; watch: Promise<void> } | null = null;
  /** Set by wake-ups (watch saw a release, candidacy changed) so none is lost mid-iteration. */
  #wakePending = false;
  #sleepWake: AbortController | null = null;
  /** The request in flight from the loop; release() and loss of leadership abort it. */
  readonly #inFlight: InFlight = { current: null };
  /** The last request failure logged at warn level; cleared by a success. */
  #lastErrorKey = '';
  /** resourceVersion of our last successful write: a record naming us with another one is not ours. */
  #lastWrittenResourceVersion: string | undefined = undefined;
  /** actAfterMs of our current or last tenure, kept when we re-take our own record. */
  #lastActAfterMs = 0;
  /** Logged once per distinct problem set, not on every poll. */
  #lastProblemKey = '';
  /**
   * True while the current watch has delivered at least one event and has not ended: the
   * watch then reports every change of the record, so a standby needs no periodic read.
   */
  #watchDelivering = false;
  /** Closes the watch while leading (lease-watch.ts says why that loses nothing). */
  readonly #watchGate = new LeaseWatchGate();
  /** When the loop last read the lease (monotonic): a watching standby still reads once per resync. */
  #lastReadMs = Number.NEGATIVE_INFINITY;
  readonly #resyncMs: number;

  constructor(api: LeaseApi, deps: LeaseElectorDeps, options: KubernetesLeaseOptions) {
    assertValidLeaseTiming(options);
    if (options.identity === '') throw new Error('kubernetes-lease: identity must not be empty');
    const incarnationId = deps.incarnationId ?? randomUUID();
    if (incarnationId === '') throw new Error('kubernetes-lease: incarnationId must not be empty');
    this.candidateName = options.identity;
    this.identity = incarnationIdentity(options.identity, incarnationId);
    this.#api = api;
    this.#clock = deps.clock;
    this.#log = deps.logger.child({ lease: `${api.namespace}/${api.name}`, identity: this.identity });
    this.#metrics = createLeaseMetrics(deps.registry);
    this.#random = deps.random ?? Math.random;
    this.#leaseDurationSeconds = options.leaseDurationSeconds;
    this.#leaseDurationMs = options.leaseDurationSeconds * 1000;
    this.#renewDeadlineMs = options.renewDeadlineSeconds * 1000;
    this.#retryPeriodMs = options.retryPeriodSeconds * 1000;
    this.#resyncMs = Math.max(STANDBY_RESYNC_MS, this.#leaseDurationMs);
    this.#holder = { identity: this.identity, leaseDurationSeconds: this.#leaseDurationSeconds };
    this.#requestTimeoutMs =
      (options.requestTimeoutSeconds ?? defaultRequestTimeoutSeconds(options.renewDeadlineSeconds)) * 1000;
    this.#snapshot = {
      lockName: api.name,
      identity: this.identity,
      holder: null,
      leaderUntilMs: 0,
      transitions: 0,
      observedAtMs: 0,
      reason: LeaseReason.NotStarted,
      message: 'the elector has not started',
    };
    this.#metrics.setLeader(false);
  }

  // -------------------------------------------------------------------------------------------
  // LeaderElector
  // -------------------------------------------------------------------------------------------

  async start(signal: AbortSignal): Promise<void> {
    if (this.#running !== null) return;
    const controller = new AbortController();
    if (signal.aborted) return;
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    this.#log.info(
      {
        leaseDurationMs: this.#leaseDurationMs,
        renewDeadlineMs: this.#renewDeadlineMs,
        retryPeriodMs: this.#retryPeriodMs,
        requestTimeoutMs: this.#requestTimeoutMs,
        candidate: this.#eligible,
      },
      'lease elector starting',
    );
    this.#running = {
      controller,
      loop: this.#runLoop(controller.signal),
      watch: runLeaseWatch(
        {
          api: this.#api,
          clock: this.#clock,
          log: this.#log,
          metrics: this.#metrics,
          random: this.#random,
          retryPeriodMs: this.#retryPeriodMs,
        },
        {
          opening: () => {
            this.#watchDelivering = false;
          },
          event: (type, lease) => {
            this.#watchDelivering = true;
            this.#onWatchEvent(type, lease);
          },
          ended: () => {
            this.#watchDelivering = false;
            // Without the watch, polling takes over from now on: do not sleep past the next poll.
            if (this.#leading === null) this.#wakeLoop();
          },
        },
        controller.signal,
        this.#watchGate,
      ),
    };
  }

  setCandidacy(eligible: boolean, why: string): void {
    if (eligible === this.#eligible) return;
    this.#eligible = eligible;
    this.#log.info({ eligible, why }, eligible ? 'candidacy granted' : 'candidacy withdrawn');
    if (!eligible && this.#leading !== null) {
      // Stop renewing now: the caller revokes and then calls release().
      this.#loseLeadership(LeaseReason.CandidacyWithdrawn, `stopped renewing: ${why}`);
    } else if (!eligible) {
      this.#publish({ reason: LeaseReason.NotCandidate, message: `not a candidate: ${why}` });
    }
    this.#wakeLoop();
  }

  snapshot(): LeadershipSnapshot {
    return this.#snapshot;
  }

  subscribe(listener: (snapshot: LeadershipSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Clears the holder so a standby can take the lease at once. Also withdraws this candidate's
   * candidacy (it would otherwise take the free lease straight back); setCandidacy(true) resumes.
   */
  async release(signal: AbortSignal): Promise<void> {
    if (this.#eligible) {
      this.#eligible = false;
      this.#log.info({ why: 'release' }, 'candidacy withdrawn');
    }
    if (this.#leading !== null) this.#loseLeadership(LeaseReason.CandidacyWithdrawn, 'releasing the lease');
    this.#inFlight.current?.abort(new DOMException('release requested', 'AbortError'));
    await this.#exclusive(() => this.#releaseLocked(signal));
  }

  async stop(): Promise<void> {
    const running = this.#running;
    if (running === null) return;
    this.#running = null;
    running.controller.abort();
    this.#inFlight.current?.abort(new DOMException('elector stopped', 'AbortError'));
    this.#wakeLoop();
    await Promise.allSettled([running.loop, running.watch]);
    this.#leading = null;
    this.#watchGate.set(false);
    this.#metrics.setLeader(false);
    this.#publish({
      reason: LeaseReason.Stopped,
      message: 'the elector was stopped (lease not released)',
      leaderUntilMs: 0,
    });
    this.#log.info('lease elector stopped');
  }

  // -------------------------------------------------------------------------------------------
  // Loop
  // -------------------------------------------------------------------------------------------

  async #runLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let waitMs: number;
      try {
        waitMs = await this.#exclusive(() => this.#iteration(signal));
      } catch (error) {
        // A bug must not leave us believing we lead: fail closed and keep going.
        this.#log.error({ err: error }, 'lease elector iteration failed unexpectedly');
        if (this.#leading !== null)
          this.#loseLeadership(LeaseReason.InternalError, `internal error: ${String(error)}`);
        waitMs = this.#retryPeriodMs;
      }
      if (signal.aborted) break;
      await this.#sleepUnlessWoken(waitMs, signal);
    }
  }

  /** One round. Returns how long to wait before the next one. */
  async #iteration(signal: AbortSignal): Promise<number> {
    if (signal.aborted) return 0;
    if (this.#leading !== null) {
      if (this.#clock.monotonicMs() >= this.#leading.leaderUntilMs) {
        this.#loseLeadership(
          LeaseReason.RenewDeadlineExceeded,
          `no renewal succeeded within renewDeadline (${this.#renewDeadlineMs} ms)`,
        );
        return this.#jittered();
      }
      const outcome = await this.#tryAcquireOrRenew(signal);
      if (outcome === 'leading') return this.#retryPeriodMs;
      const leading = this.#leading as Leadership | null;
      if (leading === null) return this.#jittered();
      const remaining = leading.leaderUntilMs - this.#clock.monotonicMs();
      if (remaining <= 0) {
        this.#loseLeadership(
          LeaseReason.RenewDeadlineExceeded,
          `no renewal succeeded within renewDeadline (${this.#renewDeadlineMs} ms)`,
        );
        return this.#jittered();
      }
      return Math.min(this.#retryPeriodMs, remaining);
    }
    const watched = this.#liveHolderSeenByWatch();
    if (watched !== null) return watched;
    if (this.#eligible) {
      const outcome = await this.#tryAcquireOrRenew(signal);
      return outcome === 'leading' ? this.#retryPeriodMs : this.#untilExpiryOrJittered();
    }
    await this.#observeOnly(signal);
    return this.#jittered();
  }

  /**
   * A standby whose watch is delivering needs no read while the record it last saw is held by
   * someone else and not expired: every renewal arrives as an event (restarting the expiry clock),
   * and a release or deletion wakes the loop at once. It sleeps until that record would expire
   * (then reads and, if still unchanged, takes over: the same path as polling) or until the next
   * resync. Returns null when a read is needed now. Watch observations can only be later than a
   * read's, so the expiry they give is never earlier (safety argument in the header).
   */
  #liveHolderSeenByWatch(): number | null {
    const observed = this.#observed;
    if (!this.#watchDelivering || observed === null) return null;
    const view = observed.view;
    if (view.holder === '' || view.holder === this.identity) return null;
    // Each deadline is computed once and the wait is aimed 1 ms past it, so "not due yet" always
    // means a wait of more than 1 ms, and a clock that wakes a hair early (floating-point time
    // on a drifting clock, a timer counted in whole ms) finds it due on the next round. Checking
    // `now - lastRead >= resync` but waiting `lastRead + resync - now` disagreed in the last bit:
    // "not due" with a wait of 0, and the loop went round without ever yielding to the clock.
    const now = this.#clock.monotonicMs();
    const resyncAtMs = this.#lastReadMs + this.#resyncMs;
    const expiresAtMs = observed.changedAtMs + this.#effectiveDurationMs(view);
    if (now >= resyncAtMs || now >= expiresAtMs) return null;
    this.#heldUntilMs = expiresAtMs;
    if (this.#eligible) this.#publishHeldByOther(view, expiresAtMs - now);
    else this.#publishObservation(view, LeaseReason.NotCandidate, 'not a candidate');
    return Math.min(resyncAtMs, expiresAtMs + this.#random() * 25) - now + 1;
  }

  /**
   * A standby tries again at the next jittered poll, or right when the holder's lease expires if
   * that comes first, so takeover after a dead leader takes leaseDuration, not leaseDuration plus
   * up to 2.2 retry periods. A few ms of spread keep standbys from arriving in lockstep; the
   * compare-and-swap settles any tie.
   */
  #untilExpiryOrJittered(): number {
    const jittered = this.#jittered();
    const now = this.#clock.monotonicMs();
    // An expiry already past (the takeover did not happen: ineligible, a failed read or write)
    // must not make the wait 0 for ever: that spins the loop (the simulation hung on seed 223).
    if (this.#heldUntilMs === null || this.#heldUntilMs <= now) return jittered;
    const untilExpiry = this.#heldUntilMs - now + 1 + this.#random() * 25;
    return Math.max(1, Math.min(jittered, untilExpiry));
  }

  /** client-go wait.Jitter(retryPeriod, 1.2): uniformly in [retryPeriod, 2.2·retryPeriod). */
  #jittered(): number {
    return this.#retryPeriodMs * (1 + this.#random() * LEASE_JITTER_FACTOR);
  }

  async #sleepUnlessWoken(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#wakePending || ms <= 0) {
      this.#wakePending = false;
      return;
    }
    // One controller that the wake-up and `signal` both abort (AbortSignal.any would leave a weak
    // reference on the long-lived `signal` for every sleep until a GC).
    const wake = new AbortController();
    const onStop = (): void => wake.abort(signal.reason);
    if (signal.aborted) wake.abort(signal.reason);
    else signal.addEventListener('abort', onStop, { once: true });
    this.#sleepWake = wake;
    try {
      await this.#clock.sleep(ms, wake.signal);
    } catch {
      // woken or stopped
    } finally {
      signal.removeEventListener('abort', onStop);
      this.#sleepWake = null;
      this.#wakePending = false;
    }
  }

  #wakeLoop(): void {
    this.#wakePending = true;
    this.#sleepWake?.abort('woken'); // a fixed reason: nothing reads it, and the default builds a DOMException
  }

  // -------------------------------------------------------------------------------------------
  // tryAcquireOrRenew (client-go leaderelection.go), with deadlines
  // -------------------------------------------------------------------------------------------

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<AttemptOutcome> {
    const leading = this.#leading;
    const observed = this.#observed;

    // Fast path: the leader renews on the object it last wrote, one request per renewal.
    if (leading !== null && observed !== null && observed.view.holder === this.identity) {
      const body = leaseWithSpec(
        observed.lease,
        renewSpec(observed.lease.spec, this.#holder, this.#wallMs()),
        this.#api,
      );
      const sendMs = this.#clock.monotonicMs();
      const result = await this.#call((o) => this.#api.replace(body, o), this.#writeBudget(sendMs), signal);
      if (result.ok)
        return this.#onWriteSucceeded(
          result.lease,
          sendMs,
          'renew',
          false,
          Math.max(sendMs, this.#lastActAfterMs),
        );
      this.#recordError('renew', result.error);
      if (result.error.kind !== 'conflict' && result.error.kind !== 'not-found') return 'failed';
      // Someone else wrote (or deleted) since: fall through and look again.
    }
    if (signal.aborted) return 'failed';

    this.#lastReadMs = this.#clock.monotonicMs();
    const readResult = await this.#call((o) => this.#api.read(o), this.#readBudget(), signal);
    if (!readResult.ok) {
      if (readResult.error.kind === 'not-found') return this.#createLease(signal);
      this.#recordError('read', readResult.error);
      if (this.#leading === null) this.#publishApiError(readResult.error);
      return 'failed';
    }
    const view = this.#observeRead(readResult.lease);
    const now = this.#clock.monotonicMs();
    this.#heldUntilMs = null;

    // Someone else holds a valid lease: not ours to take (client-go step 4).
    if (view.holder !== '' && view.holder !== this.identity) {
      const expiresAtMs = this.#observed!.changedAtMs + this.#effectiveDurationMs(view);
      if (expiresAtMs > now) {
        this.#heldUntilMs = expiresAtMs;
        if (this.#leading !== null)
          this.#loseLeadership(LeaseReason.LostToOther, `the lease is now held by ${view.holder}`);
        else this.#publishHeldByOther(view, expiresAtMs - now);
        return 'not-leading';
      }
    }
    if (!this.#eligible || signal.aborted) {
      if (!this.#eligible) this.#publishObservation(view, LeaseReason.NotCandidate, 'not a candidate');
      return 'not-leading';
    }

    // Renewal keeps acquireTime and transitions; anything else is an acquisition (fixes G24).
    const renewing = this.#leading !== null && view.holder === this.identity;
    const spec = renewing
      ? renewSpec(readResult.lease.spec, this.#holder, this.#wallMs())
      : acquireSpec(readResult.lease.spec, view, this.#holder, this.#wallMs());
    const acquisition: Acquisition =
      view.holder === '' && view.durationSeconds === 1
        ? 'from-release'
        : view.holder === this.identity &&
            view.resourceVersion !== undefined &&
            view.resourceVersion === this.#lastWrittenResourceVersion
          ? 'own-record'
          : 'takeover';
    const takeoverOf = renewing ? null : view.holder;
    const observedAtMs = this.#observed!.changedAtMs;
    const body = leaseWithSpec(readResult.lease, spec, this.#api);
    const sendMs = this.#clock.monotonicMs();
    const result = await this.#call((o) => this.#api.replace(body, o), this.#writeBudget(sendMs), signal);
    if (result.ok) {
      if (takeoverOf === this.identity && acquisition === 'takeover')
        this.#log.warn('the lease names this candidate but was not written by it (edited by hand?)');
      else if (takeoverOf !== null && takeoverOf !== '' && takeoverOf !== this.identity)
        this.#log.info({ previousHolder: takeoverOf }, 'taking over an expired lease');
      // A renewal keeps the current tenure's grace (also if leadership was lost meanwhile).
      const actAfterMs = renewing
        ? Math.max(sendMs, this.#lastActAfterMs)
        : this.#acquisitionActAfterMs(acquisition, view, observedAtMs, sendMs);
      return this.#onWriteSucceeded(
        result.lease,
        sendMs,
        renewing ? 'renew' : 'acquire',
        !renewing && acquisition === 'from-release',
        actAfterMs,
      );
    }
    this.#recordError(renewing ? 'renew' : 'acquire', result.error);
    if (result.error.kind === 'conflict') {
      if (this.#leading !== null)
        this.#loseLeadership(LeaseReason.LostRace, 'another writer changed the lease first (409)');
      else
        this.#publishObservation(view, LeaseReason.LostRace, 'another candidate wrote the lease first (409)');
      return 'not-leading';
    }
    if (this.#leading === null) this.#publishApiError(result.error);
    return 'failed';
  }

  async #createLease(signal: AbortSignal): Promise<AttemptOutcome> {
    if (!this.#eligible) {
      this.#observed = null;
      this.#publish({
        holder: '',
        reason: LeaseReason.Vacant,
        message: 'the lease does not exist',
        leaderUntilMs: 0,
      });
      return 'not-leading';
    }
    // Keep the epoch monotonic as far as we know it, even if someone deleted the Lease.
    const transitions = this.#observed === null ? 0 : this.#observed.view.transitions + 1;
    const body = newLease(this.#api, this.#holder, transitions, this.#wallMs());
    const sendMs = this.#clock.monotonicMs();
    const durationMs =
      this.#observed === null ? this.#leaseDurationMs : this.#effectiveDurationMs(this.#observed.view);
    const result = await this.#call((o) => this.#api.create(body, o), this.#writeBudget(sendMs), signal);
    // A missing lease may have been deleted under a live leader, whose last renew came before our
    // 404 answer (so before sendMs): wait out its lease duration and the margin too.
    if (result.ok)
      return this.#onWriteSucceeded(
        result.lease,
        sendMs,
        'create',
        false,
        sendMs + durationMs + takeoverMarginMs(durationMs),
      );
    this.#recordError('create', result.error);
    if (result.error.kind === 'already-exists' || result.error.kind === 'conflict') {
      this.#publish({
        reason: LeaseReason.LostRace,
        message: 'another candidate created the lease first (409)',
      });
      return 'not-leading';
    }
    this.#publishApiError(result.error);
    return 'failed';
  }

  #onWriteSucceeded(
    lease: V1Lease,
    sendMs: number,
    kind: 'renew' | 'acquire' | 'create',
    acquiredFromRelease: boolean,
    actAfterMs: number,
  ): AttemptOutcome {
    const now = this.#clock.monotonicMs();
    const view = this.#observe(lease);
    const leaderUntilMs = sendMs + this.#renewDeadlineMs;
    if (view.holder !== this.identity) {
      // Should not happen (we wrote ourselves), but never trust it blindly.
      this.#loseLeadershipOrPublish(LeaseReason.LostToOther, `the written lease names ${view.holder}`);
      return 'not-leading';
    }
    if (now >= leaderUntilMs) {
      // The answer came too late to be useful: the fencing window is already over.
      this.#loseLeadershipOrPublish(
        LeaseReason.RenewDeadlineExceeded,
        `the ${kind} write took ${Math.round(now - sendMs)} ms, longer than renewDeadline`,
      );
      return 'failed';
    }
    const wasLeading = this.#leading !== null;
    this.#leading = {
      leaderUntilMs,
      acquiredFromRelease: wasLeading ? this.#leading!.acquiredFromRelease : acquiredFromRelease,
      actAfterMs: wasLeading ? this.#leading!.actAfterMs : actAfterMs,
    };
    this.#lastWrittenResourceVersion = view.resourceVersion;
    this.#lastActAfterMs = this.#leading.actAfterMs;
    this.#watchGate.set(true);
    this.#metrics.observeRenewDuration((now - sendMs) / 1000);
    this.#metrics.setLastRenew(this.#clock.wallNow());
    this.#metrics.setLeader(true);
    const reason = wasLeading
      ? LeaseReason.Renewed
      : kind === 'create'
        ? LeaseReason.Created
        : LeaseReason.Acquired;
    const message = wasLeading
      ? 'renewed the lease'
      : kind === 'create'
        ? 'created the lease and hold it'
        : acquiredFromRelease
          ? 'acquired the lease after it was released'
          : 'acquired the lease';
    if (wasLeading) this.#log.debug({ leaderUntilMs, latencyMs: now - sendMs }, message);
    else this.#log.info({ leaderUntilMs, transitions: view.transitions, acquiredFromRelease }, message);
    this.#publish({
      holder: view.holder,
      transitions: view.transitions,
      leaderUntilMs,
      reason,
      message,
      acquiredFromRelease: this.#leading.acquiredFromRelease,
    });
    return 'leading';
  }

  async #observeOnly(signal: AbortSignal): Promise<void> {
    this.#lastReadMs = this.#clock.monotonicMs();
    const result = await this.#call((o) => this.#api.read(o), this.#readBudget(), signal);
    if (result.ok) {
      const view = this.#observeRead(result.lease);
      this.#publishObservation(view, LeaseReason.NotCandidate, 'not a candidate');
    } else if (result.error.kind === 'not-found') {
      this.#observed = null;
      this.#publish({
        holder: '',
        reason: LeaseReason.Vacant,
        message: 'the lease does not exist (not a candidate)',
      });
    } else {
      this.#recordError('read', result.error);
      this.#publishApiError(result.error);
    }
  }

  // -------------------------------------------------------------------------------------------
  // release (client-go tryRelease + ReleaseOnCancel retry bounded by renewDeadline)
  // -------------------------------------------------------------------------------------------

  async #releaseLocked(signal: AbortSignal): Promise<void> {
    // A release tells the next holder it may act at once. That vouches for our node only: while our
    // own takeover grace runs, a holder before us may still be forging (it was cut off, the record
    // was edited or deleted), so the lease is left to expire and the next holder waits its grace.
    const graceLeftMs = this.#lastActAfterMs - this.#clock.monotonicMs();
    if (graceLeftMs > 0) {
      const message = `not releasing the lease: it was taken without a release and a previous holder may still be fencing for ${Math.ceil(graceLeftMs)} ms; it expires after leaseDuration instead`;
      this.#log.warn(message);
      this.#publish({ reason: LeaseReason.ReleaseWithheld, message, leaderUntilMs: 0 });
      return;
    }
    const deadlineMs = this.#clock.monotonicMs() + this.#renewDeadlineMs;
    let lastError: ClassifiedK8sError | null = null;
    while (!signal.aborted) {
      const remaining = deadlineMs - this.#clock.monotonicMs();
      if (remaining <= 0) break;
      const read = await this.#call(
        (o) => this.#api.read(o),
        Math.min(this.#requestTimeoutMs, remaining),
        signal,
      );
      if (!read.ok) {
        if (read.error.kind === 'not-found') {
          this.#finishRelease('the lease does not exist; nothing to release', '');
          return;
        }
        lastError = read.error;
        this.#recordError('release', read.error);
        await this.#pause(Math.min(this.#retryPeriodMs, deadlineMs - this.#clock.monotonicMs()), signal);
        continue;
      }
      const view = this.#observe(read.lease);
      if (view.holder === this.identity && view.resourceVersion !== this.#lastWrittenResourceVersion) {
        // A record naming us that we did not write (a hand edit, a write of ours whose answer was
        // lost): our release would vouch for a holder before it that may still be forging.
        const message =
          'not releasing the lease: it names this candidate but is not the record it last wrote (edited by hand?); it expires after leaseDuration instead';
        this.#log.warn({ resourceVersion: view.resourceVersion }, message);
        this.#publish({ reason: LeaseReason.ReleaseWithheld, message, leaderUntilMs: 0 });
        return;
      }
      if (view.holder !== this.identity) {
        this.#finishRelease(
          view.holder === ''
            ? 'the lease was already free'
            : `the lease is held by ${view.holder}; nothing to release`,
          view.holder,
        );
        return;
      }
      const spec = releasedSpec(read.lease.spec, view.transitions, this.#wallMs());
      const write = await this.#call(
        (o) => this.#api.replace(leaseWithSpec(read.lease, spec, this.#api), o),
        Math.min(this.#requestTimeoutMs, Math.max(1, deadlineMs - this.#clock.monotonicMs())),
        signal,
      );
      if (write.ok) {
        this.#observe(write.lease);
        this.#finishRelease('released the lease (holder cleared)', '');
        return;
      }
      lastError = write.error;
      this.#recordError('release', write.error);
      // 409: re-read and try again at once; other errors: pause first.
      if (write.error.kind !== 'conflict')
        await this.#pause(Math.min(this.#retryPeriodMs, deadlineMs - this.#clock.monotonicMs()), signal);
    }
    const message = `could not release the lease within renewDeadline (${this.#renewDeadlineMs} ms)${
      lastError ? `: ${lastError.message}` : ''
    }; it will expire after leaseDuration`;
    this.#log.warn({ error: lastError }, message);
    this.#publish({ reason: LeaseReason.ReleaseFailed, message, leaderUntilMs: 0 });
  }

  #finishRelease(message: string, holder: string): void {
    this.#log.info({ holder }, message);
    this.#publish({
      holder,
      reason: LeaseReason.Released,
      message,
      leaderUntilMs: 0,
      ...(this.#observed ? { transitions: this.#observed.view.transitions } : {}),
    });
  }

  async #pause(ms: number, signal: AbortSignal): Promise<void> {
    if (ms <= 0) return;
    try {
      await this.#clock.sleep(ms, signal);
    } catch {
      // aborted
    }
  }

  // -------------------------------------------------------------------------------------------
  // Watch events (the watch loop itself is lease-watch.ts): standbys react to a release at once
  // -------------------------------------------------------------------------------------------

  #onWatchEvent(type: LeaseWatchEventType, lease: V1Lease): void {
    if (type === 'DELETED') {
      this.#log.info('lease was deleted');
      // The last record seen is gone: read before trusting it again (a candidate then creates).
      this.#lastReadMs = Number.NEGATIVE_INFINITY;
      if (this.#leading === null) this.#wakeLoop();
      return;
    }
    if (
      lease?.metadata?.resourceVersion !== undefined &&
      lease.metadata.resourceVersion === this.#observed?.view.resourceVersion
    )
      return;
    const view = this.#observe(lease);
    // Wake only when there is something to do now; a foreign renewal only moves the expiry the
    // sleeping loop will check when it wakes.
    if (this.#eligible && this.#leading === null && view.holder === '') {
      this.#log.debug({ holder: view.holder }, 'watch saw a free lease; trying at once');
      this.#wakeLoop();
    } else if (this.#leading !== null && view.holder !== this.identity) {
      this.#wakeLoop();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Helpers
  // -------------------------------------------------------------------------------------------

  /** Records a read/watched/written record; the expiry clock restarts only when it changed. */
  #observe(lease: V1Lease): LeaseView {
    const view = inspectLease(lease);
    const now = this.#clock.monotonicMs();
    if (this.#lastErrorKey !== '') {
      this.#log.info('lease API reachable again');
      this.#lastErrorKey = '';
    }
    this.#lastContactMs = now;
    const previous = this.#observed;
    const changedAtMs =
      previous !== null && previous.view.changeKey === view.changeKey ? previous.changedAtMs : now;
    this.#observed = { lease, view, changedAtMs };
    const problemKey = view.problems.join('; ');
    if (problemKey !== this.#lastProblemKey) {
      this.#lastProblemKey = problemKey;
      if (problemKey !== '')
        this.#log.warn(
          {
            problems: view.problems,
            holder: view.holder,
            assumedDurationSeconds: this.#effectiveDurationMs(view) / 1000,
          },
          'the lease holds invalid or missing fields (edited by hand?); treating it conservatively',
        );
    }
    return view;
  }

  /**
   * Records what the loop read. A read that finds a version the delivering watch has not reported
   * means the watch lags or has stalled: poll again until it delivers its next event.
   */
  #observeRead(lease: V1Lease): LeaseView {
    const seenBefore = this.#observed?.view.changeKey;
    const view = this.#observe(lease);
    if (this.#watchDelivering && seenBefore !== undefined && seenBefore !== view.changeKey) {
      this.#watchDelivering = false;
      this.#log.debug('a read found a change the watch had not delivered; polling until it delivers');
    }
    return view;
  }

  /**
   * How long a holder's record stays valid: the LONGER of our leaseDuration and the recorded one,
   * so a record edited to a short duration (or with none) cannot shorten the wait, and a holder
   * configured with a longer duration than ours is waited out fully.
   */
  #effectiveDurationMs(view: LeaseView): number {
    return Math.max(view.durationSeconds ?? 0, this.#leaseDurationSeconds) * 1000;
  }

  /** When a new tenure may start acting; the arithmetic is in the header comment. */
  #acquisitionActAfterMs(
    acquisition: Acquisition,
    view: LeaseView,
    observedAtMs: number,
    sendMs: number,
  ): number {
    if (acquisition === 'from-release') return sendMs;
    if (acquisition === 'own-record') return Math.max(sendMs, this.#lastActAfterMs);
    const durationMs = this.#effectiveDurationMs(view);
    return Math.max(sendMs, observedAtMs + durationMs + takeoverMarginMs(durationMs));
  }

  #readBudget(): number {
    return this.#requestTimeoutMs;
  }

  /** A write must finish before the fencing window it would open has closed. */
  #writeBudget(sendMs: number): number {
    const leading = this.#leading;
    const windowEnd = leading !== null ? leading.leaderUntilMs : sendMs + this.#renewDeadlineMs;
    return Math.max(1, Math.min(this.#requestTimeoutMs, windowEnd - sendMs, this.#renewDeadlineMs));
  }

  /** Runs one API call with a deadline on our clock (request-deadline.ts). */
  #call(
    run: (options: LeaseCallOptions) => Promise<LeaseCallResult>,
    timeoutMs: number,
    outer: AbortSignal,
  ): Promise<LeaseCallResult> {
    return callWithDeadline(this.#clock, run, timeoutMs, outer, this.#inFlight);
  }

  #wallMs(): number {
    return this.#clock.wallNow().getTime();
  }

  #recordError(operation: string, error: ClassifiedK8sError): void {
    // Requests cut short by stop() are not API errors.
    if (this.#running === null && operation !== 'release') return;
    this.#metrics.countError(error.kind);
    const fields = { operation, kind: error.kind, status: error.status, message: error.message };
    if (error.kind === 'conflict' || error.kind === 'already-exists') {
      this.#log.debug(fields, `lease ${operation}: lost a write race`);
      return;
    }
    // During an outage every poll fails the same way: warn once per kind of failure.
    const key = `${operation}:${error.kind}`;
    if (key === this.#lastErrorKey) this.#log.debug(fields, `lease ${operation} failed again`);
    else this.#log.warn(fields, `lease ${operation} failed`);
    this.#lastErrorKey = key;
  }

  #loseLeadership(reason: string, message: string): void {
    if (this.#leading === null) return;
    this.#leading = null;
    this.#watchGate.set(false);
    this.#inFlight.current?.abort(new DOMException(message, 'AbortError'));
    this.#metrics.setLeader(false);
    this.#log.warn({ reason }, `leadership lost: ${message}`);
    const holder = this.#observed?.view.holder;
    this.#publish({ reason, message, leaderUntilMs: 0, ...(holder !== undefined ? { holder } : {}) });
  }

  #loseLeadershipOrPublish(reason: string, message: string): void {
    if (this.#leading !== null) this.#loseLeadership(reason, message);
    else this.#publish({ reason, message, leaderUntilMs: 0 });
  }

  #publishHeldByOther(view: LeaseView, remainingMs: number): void {
    const invalid = view.problems.length > 0;
    this.#publishObservation(
      view,
      invalid ? LeaseReason.LeaseSpecInvalid : LeaseReason.HeldByOther,
      `held by ${view.holder}; may be taken in ${Math.ceil(remainingMs)} ms unless renewed` +
        (invalid
          ? ` (lease spec invalid: ${view.problems.join('; ')}; assuming ${this.#effectiveDurationMs(view) / 1000}s)`
          : ''),
    );
  }

  #publishObservation(view: LeaseView, reason: string, message: string): void {
    const full =
      view.problems.length > 0 && reason !== LeaseReason.LeaseSpecInvalid
        ? `${message} (lease spec: ${view.problems.join('; ')})`
        : message;
    this.#publish({ holder: view.holder, transitions: view.transitions, reason, message: full });
  }

  #publishApiError(error: ClassifiedK8sError): void {
    this.#publish({ reason: LeaseReason.ApiError, message: `lease API ${error.kind}: ${error.message}` });
  }

  #publish(change: Partial<Omit<LeadershipSnapshot, 'lockName' | 'identity'>>): void {
    const previous = this.#snapshot;
    const leading = this.#leading;
    const next: LeadershipSnapshot = {
      lockName: previous.lockName,
      identity: previous.identity,
      holder: change.holder !== undefined ? change.holder : previous.holder,
      leaderUntilMs: leading === null ? 0 : (change.leaderUntilMs ?? leading.leaderUntilMs),
      transitions: change.transitions ?? previous.transitions,
      observedAtMs: this.#lastContactMs,
      reason: change.reason ?? previous.reason,
      message: change.message ?? previous.message,
      ...(leading !== null
        ? { acquiredFromRelease: leading.acquiredFromRelease, actAfterMs: leading.actAfterMs }
        : {}),
    };
    if (
      next.holder === previous.holder &&
      next.leaderUntilMs === previous.leaderUntilMs &&
      next.transitions === previous.transitions &&
      next.observedAtMs === previous.observedAtMs &&
      next.reason === previous.reason &&
      next.message === previous.message &&
      next.acquiredFromRelease === previous.acquiredFromRelease &&
      next.actAfterMs === previous.actAfterMs
    )
      return;
    this.#snapshot = Object.freeze(next);
    for (const listener of [...this.#listeners]) {
      try {
        listener(this.#snapshot);
      } catch (error) {
        this.#log.error({ err: error }, 'a leadership listener threw');
      }
    }
  }
}

export function createLeaseElector(
  api: LeaseApi,
  deps: LeaseElectorDeps,
  options: KubernetesLeaseOptions,
): LeaderElector {
  return new KubernetesLeaseElector(api, deps, options);
}
