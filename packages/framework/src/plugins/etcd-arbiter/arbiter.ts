/**
 * The arbiter component: runs the protocol's rounds against EtcdKv on the injected Clock and
 * keeps the memory the pure functions in decide.ts fold. Every call is bounded by its own
 * deadline; a call that fails or times out is an unknown outcome (decide.ts says what each
 * means). Every decision that changes something is logged with its reason.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../contracts/index.js';
import { clockTimeout } from '../../core/deadline.js';
import type { EtcdChange, EtcdKv, EtcdLeaseId, EtcdWatch } from './etcd-kv.js';
import {
  afterCreate,
  afterLeaseLost,
  afterRelease,
  applyRead,
  confirmRound,
  decideArbiter,
  globalLeadership,
  holdsOrMayHold,
  INITIAL_MEMORY,
  type ArbiterDecision,
  type ArbiterMemory,
  type ArbiterStatus,
  type Handover,
  type OwnCandidacy,
} from './decide.js';
import {
  arbiterKeys,
  encodeCandidate,
  encodeForger,
  encodeRelease,
  PROTOCOL_VERSION,
  viewFromEntries,
  type ArbiterKeys,
  type ArbiterTiming,
  type ArbiterView,
  type CandidateRecord,
} from './protocol.js';
import type { ArbiterMetrics } from './metrics.js';
import { createMutex } from '../../core/mutex.js';

export interface EtcdArbiterOptions {
  readonly prefix: string;
  readonly region: string;
  readonly identity: string;
  readonly ttlSeconds: number;
  readonly holdDownMs: number;
  readonly timing: ArbiterTiming;
}

export interface EtcdArbiterDeps {
  readonly kv: EtcdKv;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: ArbiterMetrics | undefined;
  /** This pod's candidacy now (read at every round and decision; call wake() when it changes). */
  readonly candidacy: () => CandidacyInput;
}

/** What the composition tells the arbiter about this pod each time something changes. */
export type CandidacyInput = Omit<OwnCandidacy, 'region' | 'identity' | 'ttlSeconds'>;

export interface ArbiterSnapshot {
  /** We hold the key (confirmed or possibly). */
  readonly held: boolean;
  /** Global fencing deadline (0 = may not act). */
  readonly leaderUntilMs: number;
  readonly actAfterMs: number;
  readonly acquiredFromRelease: boolean;
  /** Give the key up (the composition makes the reconciler withdraw, then calls release()). */
  readonly handover: Handover | null;
  readonly status: ArbiterStatus;
  /** Monotonic time of the last successful read (0 = none). */
  readonly observedAtMs: number;
  /** Whether the last round reached etcd (keepalive and read both answered). */
  readonly connected: boolean;
  readonly lease: EtcdLeaseId | null;
  readonly createRevision: number | null;
}

const NOT_STARTED_STATUS: ArbiterStatus = {
  forgerRegion: null,
  rank: null,
  eligibleCandidates: 0,
  role: 'not-candidate',
  reason: 'NotStarted',
  message: 'the arbiter has not run a round yet',
};

/** Watch sightings kept (record versions of every region, newest last): a few rounds' worth. */
const MAX_SIGHTINGS = 256;

type CallResult<T> =
  { ok: true; value: T; sentAtMs: number; atMs: number } | { ok: false; error: string; sentAtMs: number };

export class EtcdArbiter {
  readonly #kv: EtcdKv;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ArbiterMetrics | undefined;
  readonly #options: EtcdArbiterOptions;
  readonly #keys: ArbiterKeys;
  readonly #exclusive = createMutex();
  readonly #listeners = new Set<(s: ArbiterSnapshot) => void>();

  #memory: ArbiterMemory = INITIAL_MEMORY;
  #view: ArbiterView | null = null;
  #lease: EtcdLeaseId | null = null;
  /** Send time of the last acknowledged keepalive (or grant) of #lease. */
  #lastAckSendMs = 0;
  readonly #candidacy: () => CandidacyInput;
  #lastCandidacyKey = '';
  /** The record as last acknowledged by etcd (to skip unchanged writes of a non-holder). */
  #written: string | null = null;
  #decision: ArbiterDecision | null = null;
  #connected = false;
  #snapshot: ArbiterSnapshot;
  #running: { controller: AbortController; loop: Promise<void> } | null = null;
  #wake: AbortController | null = null;
  #wakePending = false;
  #lastLogKey = '';
  #watch: Promise<EtcdWatch | null> | null = null;
  /** Arrival time of each watched record write, by `key@modRevision` (insertion order = age). */
  readonly #sightings = new Map<string, number>();

  constructor(deps: EtcdArbiterDeps, options: EtcdArbiterOptions) {
    if (options.region === '') throw new Error('etcd-arbiter: region must not be empty');
    if (options.identity === '') throw new Error('etcd-arbiter: identity must not be empty');
    this.#kv = deps.kv;
    this.#clock = deps.clock;
    this.#metrics = deps.metrics;
    this.#candidacy = deps.candidacy;
    this.#options = options;
    this.#keys = arbiterKeys(options.prefix);
    this.#log = deps.logger.child({ component: 'etcd-arbiter', region: options.region });
    this.#snapshot = this.#compose();
  }

  get keys(): ArbiterKeys {
    return this.#keys;
  }

  snapshot(): ArbiterSnapshot {
    // The deadline is checked against now even if no round ran since: self-fencing.
    const now = this.#clock.monotonicMs();
    if (this.#snapshot.leaderUntilMs > 0 && now >= this.#snapshot.leaderUntilMs) this.#publish();
    return this.#snapshot;
  }

  /** The latest view of the prefix (for status), or null before the first read. */
  view(): ArbiterView | null {
    return this.#view;
  }

  subscribe(listener: (s: ArbiterSnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  wake(): void {
    this.#wakePending = true;
    this.#wake?.abort();
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.#running !== null || signal.aborted) return;
    const controller = new AbortController();
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    const t = this.#options.timing;
    this.#log.info(
      {
        prefix: this.#keys.prefix,
        ttlMs: t.ttlMs,
        renewDeadlineMs: t.renewDeadlineMs,
        retryPeriodMs: t.retryPeriodMs,
        marginMs: t.marginMs,
        neededMs: t.neededMs,
        callTimeoutMs: t.callTimeoutMs,
        holdDownMs: this.#options.holdDownMs,
      },
      'etcd arbiter starting',
    );
    this.#watch = this.#openWatch();
    this.#running = { controller, loop: this.#loop(controller.signal) };
  }

  /**
   * A watch on the prefix, when the client has one: a change of the forger key (gone, or taken)
   * starts a round at once instead of at the next retry period, and a record write's arrival
   * dates it (decide.ts, RecordSighting). Rounds and their reads stay the only source of decisions.
   */
  async #openWatch(): Promise<EtcdWatch | null> {
    if (this.#kv.watchPrefix === undefined) return null;
    try {
      return await this.#kv.watchPrefix(
        this.#keys.prefix,
        (change) => this.#onChange(change),
        (error) =>
          this.#logOnce(`watch:${error.message}`, () =>
            this.#log.warn({ error: error.message }, 'etcd watch broken; rounds go on every retry period'),
          ),
      );
    } catch (error) {
      this.#log.warn(
        { error: error instanceof Error ? error.message : String(error) },
        'etcd watch not opened; rounds go on every retry period',
      );
      return null;
    }
  }

  #onChange(change: EtcdChange): void {
    if (change.type === 'put' && change.key.startsWith(this.#keys.candidatesPrefix)) {
      this.#sightings.set(`${change.key}@${change.modRevision}`, this.#clock.monotonicMs());
      if (this.#sightings.size > MAX_SIGHTINGS) {
        const oldest = this.#sightings.keys().next().value;
        if (oldest !== undefined) this.#sightings.delete(oldest);
      }
    }
    if (change.key === this.#keys.forger && this.#running !== null) {
      this.#log.debug(
        { type: change.type, modRevision: change.modRevision },
        'forger key changed (watch): a round now',
      );
      this.wake();
    }
  }

  /**
   * Stops the loop. When nothing is held, the lease is revoked so other regions stop seeing this
   * record at once; a holder's lease is left to expire (its node may still forge: the fence and
   * etcd's expiry take care of it).
   */
  async stop(): Promise<void> {
    const running = this.#running;
    if (running === null) return;
    this.#running = null;
    running.controller.abort();
    this.#wake?.abort();
    await running.loop.catch(() => undefined);
    const watch = await this.#watch;
    this.#watch = null;
    if (watch !== null) {
      // Cancelling waits for etcd's answer, which a cut-off region never gets: bounded.
      const bound = new AbortController();
      await Promise.race([
        watch.close().catch(() => undefined),
        this.#clock.sleep(this.#options.timing.callTimeoutMs, bound.signal).catch(() => undefined),
      ]);
      bound.abort();
    }
    await this.#exclusive(async () => {
      if (
        this.#lease !== null &&
        !holdsOrMayHold({ view: this.#view, lease: this.#lease, memory: this.#memory })
      )
        await this.#revokeOwnLease('stopping');
    });
    this.#publish();
    this.#log.info('etcd arbiter stopped');
  }

  /**
   * Gives the key up; the caller confirmed the node is not forging (revoke → SIGHUP → confirmed).
   * Writes the release marker into this region's record first, so a new holder may act at once,
   * then deletes the key if it is still on our lease. An unknown outcome is re-read; a key still
   * ours is removed by revoking the lease; failing that the lease is abandoned to expire.
   */
  async release(signal: AbortSignal): Promise<void> {
    await this.#exclusive(async () => {
      const lease = this.#lease;
      const forger = this.#view?.forger ?? null;
      const createRevision =
        this.#memory.tenure?.createRevision ??
        (forger !== null && lease !== null && forger.lease === lease ? forger.createRevision : null);
      if (lease === null) {
        this.#memory = afterRelease(this.#memory, createRevision);
        this.#publish();
        return;
      }
      let removed = false;
      if (createRevision !== null) {
        // The marker vouches only for our own node. While our takeover grace runs, a previous
        // holder may still be forging: then no marker, and the next holder waits out its grace
        // too (the key goes as "deleted": from when it is seen gone, + TTL). Simulation finding L1.
        const tenure = this.#memory.tenure;
        const vouch =
          tenure !== null && tenure.status === 'held' && tenure.actAfterMs <= this.#clock.monotonicMs();
        if (vouch) {
          const marker = encodeRelease({
            v: PROTOCOL_VERSION,
            createRevision,
            region: this.#options.region,
            identity: this.#options.identity,
            at: this.#clock.wallNow().toISOString(),
          });
          // No lease: the marker must outlive this lease and a new record of this region.
          const put = await this.#call('put release marker', signal, (s) =>
            this.#kv.put(this.#keys.released, marker, '0', s),
          );
          if (!put.ok)
            this.#log.warn(
              { error: put.error },
              'release marker not written; the next holder waits out its grace',
            );
        } else
          this.#log.info(
            { createRevision },
            'releasing within our own takeover grace (or an unconfirmed hold): no clean-handover marker; the next holder waits out its grace',
          );
        const del = await this.#call('delete forger key', signal, (s) =>
          this.#kv.deleteIfLease(this.#keys.forger, lease, s),
        );
        if (del.ok) removed = true;
        else {
          const check = await this.#call('re-read forger key', signal, (s) =>
            this.#kv.get(this.#keys.forger, s),
          );
          removed = check.ok && (check.value === null || check.value.lease !== lease);
        }
      }
      // Possible holder (revision unknown) or the delete could not be confirmed: the lease goes.
      if (!removed) await this.#revokeOwnLease('releasing the forger key');
      this.#memory = afterRelease(this.#memory, createRevision);
      this.#log.info(
        { createRevision, lease, byDelete: removed },
        'released the forger key (node confirmed not forging)',
      );
      this.#publish();
    });
    this.wake();
  }

  // -------------------------------------------------------------------------------------------

  async #loop(signal: AbortSignal): Promise<void> {
    let failedReadsInARow = 0;
    // The immediate retry keeps the pace of the round it repeats: it must not push the next
    // regular round (and the holder's confirmation) later.
    let retryOfRoundAtMs: number | null = null;
    while (!signal.aborted) {
      this.#wakePending = false;
      const roundStartMs: number = retryOfRoundAtMs ?? this.#clock.monotonicMs();
      retryOfRoundAtMs = null;
      try {
        const readFailed = await this.#exclusive(() => this.#round(signal));
        failedReadsInARow = readFailed ? failedReadsInARow + 1 : 0;
      } catch (error) {
        // A bug must not leave us believing we hold the key: fail closed.
        failedReadsInARow = 0;
        this.#log.error({ err: error }, 'arbiter round failed unexpectedly; fencing');
        this.#memory = afterLeaseLost(this.#memory);
        this.#publish();
      }
      // A read that failed is tried again at once, once per run of failures: the client has set
      // the member that failed aside, so the retry goes to another (a takeover must not wait a
      // retry period because one call met a dead or cut-off member).
      if (signal.aborted || this.#wakePending) continue;
      if (failedReadsInARow === 1) {
        retryOfRoundAtMs = roundStartMs;
        continue;
      }
      await this.#sleep(this.#nextWaitMs(roundStartMs), signal);
    }
  }

  /** Rounds are paced from their start, so a slow round does not push the next past the deadline. */
  #nextWaitMs(roundStartMs: number): number {
    const now = this.#clock.monotonicMs();
    let wait = roundStartMs + this.#options.timing.retryPeriodMs - now;
    const t = this.#memory.tenure;
    if (t !== null && t.actAfterMs > now && Number.isFinite(t.actAfterMs))
      wait = Math.min(wait, t.actAfterMs - now + 1);
    if (t !== null && t.validUntilMs > now) wait = Math.min(wait, t.validUntilMs - now + 1);
    return Math.max(1, wait);
  }

  async #sleep(ms: number, signal: AbortSignal): Promise<void> {
    const wake = new AbortController();
    this.#wake = wake;
    const onAbort = (): void => wake.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.#clock.sleep(ms, wake.signal);
    } catch {
      // woken
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (this.#wake === wake) this.#wake = null;
    }
  }

  /** One round; returns whether its read of the prefix failed (false when it read nothing). */
  async #round(signal: AbortSignal): Promise<boolean> {
    const own = this.#ownCandidacy();
    const wantLease = decideArbiter(this.#decisionInput(own)).wantLease;
    if (!wantLease) {
      if (this.#lease !== null)
        await this.#revokeOwnLease(own.localLeader ? own.message : 'not the region leader');
      this.#connected = false;
      const decision = decideArbiter(this.#decisionInput(own));
      this.#decision = decision;
      this.#logDecision(decision);
      this.#publish();
      return false;
    }
    // A lease without an acknowledged keepalive for a whole TTL is dead by our own account; if etcd
    // still keeps it (our keepalives arrive but the answers are lost), it would hold our record and
    // key for ever. Stop feeding it: it expires, and the fence already stopped our node.
    if (
      this.#lease !== null &&
      this.#clock.monotonicMs() >= this.#lastAckSendMs + this.#options.timing.ttlMs
    ) {
      this.#log.warn(
        { lease: this.#lease },
        'no keepalive acknowledged for a whole TTL: abandoning the etcd lease (it expires) and starting afresh',
      );
      this.#lease = null;
      this.#written = null;
      this.#memory = afterLeaseLost(this.#memory);
    }
    // 1. The lease: grant, or one keepalive; its send time is what the fence counts from.
    let keepAliveSendMs: number | null = null;
    if (this.#lease === null) {
      const grant = await this.#call('grant lease', signal, (s) =>
        this.#kv.grantLease(this.#options.ttlSeconds, s),
      );
      if (grant.ok) {
        this.#lease = grant.value.id;
        this.#written = null;
        keepAliveSendMs = grant.sentAtMs;
        this.#lastAckSendMs = grant.sentAtMs;
        this.#log.info({ lease: grant.value.id, ttlSeconds: grant.value.ttlSeconds }, 'etcd lease granted');
        if (grant.value.ttlSeconds > this.#options.ttlSeconds)
          this.#log.warn(
            { requested: this.#options.ttlSeconds, granted: grant.value.ttlSeconds },
            'etcd raised the lease TTL (its minimum); other regions wait out the longer TTL from the records',
          );
      }
    } else {
      const lease = this.#lease;
      const ka = await this.#call('keepalive', signal, (s) => this.#kv.keepAliveOnce(lease, s));
      if (ka.ok && ka.value.ttlSeconds > 0) {
        keepAliveSendMs = ka.sentAtMs;
        this.#lastAckSendMs = ka.sentAtMs;
        this.#metrics?.observeKeepAlive((ka.atMs - ka.sentAtMs) / 1000);
      } else if (ka.ok) {
        this.#log.warn({ lease }, 'etcd lease expired or revoked: everything bound to it is gone; fencing');
        this.#lease = null;
        this.#written = null;
        this.#memory = afterLeaseLost(this.#memory);
      }
    }
    const lease = this.#lease;
    // The fence counts from the send time of the latest acknowledged keepalive of this lease, this
    // round's or an earlier one (an older one only gives an earlier deadline): one keepalive lost
    // to a slow member does not cost the round.
    const ackedSendMs = keepAliveSendMs ?? (lease !== null ? this.#lastAckSendMs : null);
    // 2. One linearizable read of the forger key and every record.
    const read = await this.#call('read prefix', signal, (s) => this.#kv.getPrefix(this.#keys.prefix, s));
    let fresh = false;
    if (read.ok) {
      const view = viewFromEntries(this.#keys, read.value.entries, read.value.revision);
      this.#memory = applyRead(this.#memory, view, {
        own: { priority: own.priority, region: own.region },
        lease,
        atMs: read.atMs,
        gapMs: this.#options.timing.ttlMs,
        ttlSeconds: this.#options.ttlSeconds,
        sighted: (region, modRevision) =>
          this.#sightings.get(`${this.#keys.candidate(region)}@${modRevision}`),
      });
      this.#view = view;
      fresh = true;
      for (const problem of view.problems) this.#logOnce(`problem:${problem}`, () => this.#log.warn(problem));
    }
    const readFailed = !read.ok;
    this.#connected = read.ok && keepAliveSendMs !== null;
    // 3. Decide.
    const decision = decideArbiter({ ...this.#decisionInput(own), view: fresh ? this.#view : null });
    this.#decision = decision;
    this.#logDecision(decision);
    // 4. The record (a heartbeat while holding).
    let heartbeatAcked = false;
    if (lease !== null && decision.record !== null) {
      const record: CandidateRecord = { ...decision.record, lease };
      const encoded = encodeCandidate(record);
      const heartbeat = record.holding !== null;
      if (heartbeat || encoded !== this.#written) {
        const put = await this.#call('write record', signal, (s) =>
          this.#kv.put(this.#keys.candidate(own.region), encoded, lease, s),
        );
        if (put.ok) {
          this.#written = encoded;
          heartbeatAcked = heartbeat;
        } else this.#written = null;
      }
    }
    const view = this.#view;
    this.#memory = confirmRound(
      this.#memory,
      {
        keepAliveSendMs: ackedSendMs,
        readShowedOurs:
          fresh && view?.forger !== null && view?.forger !== undefined && view.forger.lease === lease,
        heartbeatAcked,
      },
      this.#options.timing.renewDeadlineMs,
    );
    // 5. Create the forger key when decided (only on this round's read and a live lease).
    if (decision.create && fresh && lease !== null && ackedSendMs !== null) {
      const value = encodeForger({
        v: PROTOCOL_VERSION,
        region: own.region,
        identity: this.#options.identity,
        lease,
        ttlSeconds: this.#options.ttlSeconds,
        at: this.#clock.wallNow().toISOString(),
      });
      const created = await this.#call('create forger key', signal, (s) =>
        this.#kv.createIfAbsent(this.#keys.forger, value, lease, s),
      );
      // A create the client retried may answer "exists" with our own entry: it is ours.
      const outcome = !created.ok
        ? 'unknown'
        : created.value.created || created.value.existing.lease === lease
          ? 'created'
          : 'exists';
      const ackMs = created.ok ? created.atMs : this.#clock.monotonicMs();
      this.#memory = afterCreate(this.#memory, outcome, lease, ackedSendMs, ackMs, {
        ttlSeconds: this.#options.ttlSeconds,
        renewDeadlineMs: this.#options.timing.renewDeadlineMs,
      });
      const tenure = this.#memory.tenure;
      // The status (and any handover) as the new tenure makes it.
      this.#decision = decideArbiter({ ...this.#decisionInput(own), view: this.#view });
      this.#logDecision(this.#decision);
      if (outcome === 'created')
        this.#log.info(
          {
            lease,
            actAfterInMs: tenure ? Math.max(0, tenure.actAfterMs - ackMs) : null,
            clean: tenure?.acquiredFromRelease ?? false,
          },
          `forger key created: this region forges${tenure && tenure.actAfterMs > ackMs ? ' after the takeover grace' : ''}`,
        );
      else if (outcome === 'unknown')
        this.#log.warn(
          { error: created.ok ? '' : created.error },
          'create of the forger key has an unknown outcome: possible holder, not forging until a read shows who holds it',
        );
      else
        this.#log.info(
          { holder: created.ok && !created.value.created ? created.value.existing.value : '' },
          'forger key already held',
        );
    }
    // Clean-up of an entry we handed over whose delete could not be confirmed.
    if (
      fresh &&
      lease !== null &&
      view?.forger?.lease === lease &&
      view.forger.createRevision === this.#memory.releasedRevision
    )
      await this.#call('delete released forger key', signal, (s) =>
        this.#kv.deleteIfLease(this.#keys.forger, lease, s),
      );
    this.#publish();
    return readFailed;
  }

  #ownCandidacy(): OwnCandidacy {
    const input = this.#candidacy();
    const key = `${input.localLeader}|${input.eligible}|${input.priority}|${input.demoted}|${input.manual}`;
    if (key !== this.#lastCandidacyKey) {
      this.#lastCandidacyKey = key;
      this.#log.info(
        {
          localLeader: input.localLeader,
          eligible: input.eligible,
          priority: input.priority,
          demoted: input.demoted,
          manual: input.manual,
          reason: input.reason,
        },
        `candidacy: ${input.message}`,
      );
    }
    return {
      ...input,
      region: this.#options.region,
      identity: this.#options.identity,
      ttlSeconds: this.#options.ttlSeconds,
    };
  }

  #decisionInput(own: OwnCandidacy) {
    return {
      nowMs: this.#clock.monotonicMs(),
      memory: this.#memory,
      view: this.#view,
      own,
      lease: this.#lease,
      settings: { holdDownMs: this.#options.holdDownMs, ttlSeconds: this.#options.ttlSeconds },
    };
  }

  async #revokeOwnLease(why: string): Promise<void> {
    const lease = this.#lease;
    if (lease === null) return;
    // Revoking deletes our record (and the key, if a create of ours landed unseen): the node is
    // not forging on it (no confirmed tenure, or the caller confirmed the withdrawal).
    const controller = new AbortController();
    const revoked = await this.#call('revoke lease', controller.signal, (s) =>
      this.#kv.revokeLease(lease, s),
    );
    this.#lease = null;
    this.#written = null;
    this.#memory = afterLeaseLost(this.#memory);
    if (revoked.ok) this.#log.info({ lease, why }, 'etcd lease revoked');
    else
      this.#log.warn(
        { lease, why, error: revoked.error },
        'etcd lease revoke failed; abandoned (no more keepalives): it expires after its TTL',
      );
  }

  /** One etcd call, bounded by the round's call timeout on our clock; never throws. */
  async #call<T>(
    what: string,
    outer: AbortSignal,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<CallResult<T>> {
    const sentAtMs = this.#clock.monotonicMs();
    const timeout = clockTimeout(this.#clock, this.#options.timing.callTimeoutMs, outer);
    const signal = timeout.signal;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () =>
        reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const value = await Promise.race([run(signal), aborted]);
      this.#metrics?.countCall(what, 'ok');
      return { ok: true, value, sentAtMs, atMs: this.#clock.monotonicMs() };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const timedOut = signal.aborted;
      this.#metrics?.countCall(what, timedOut ? 'timeout' : 'error');
      this.#logOnce(`call:${what}:${timedOut ? 'timeout' : message}`, () =>
        this.#log.warn({ call: what, timedOut, error: message }, `etcd ${what} failed (outcome unknown)`),
      );
      return { ok: false, error: message, sentAtMs };
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
      timeout.cancel();
    }
  }

  #logOnce(key: string, log: () => void): void {
    if (key === this.#lastLogKey) return;
    this.#lastLogKey = key;
    log();
  }

  #lastDecisionKey = '';
  #logDecision(decision: ArbiterDecision): void {
    const key = `${decision.status.role}|${decision.status.reason}|${decision.status.forgerRegion}|${decision.status.rank}|${decision.handover?.reason ?? ''}|${decision.create}`;
    if (key === this.#lastDecisionKey) return;
    this.#lastDecisionKey = key;
    this.#log.info(
      {
        role: decision.status.role,
        reason: decision.status.reason,
        forger: decision.status.forgerRegion,
        rank: decision.status.rank,
        candidates: decision.status.eligibleCandidates,
        handover: decision.handover?.reason ?? null,
        create: decision.create,
      },
      decision.handover?.message ?? decision.status.message,
    );
  }

  #compose(): ArbiterSnapshot {
    const now = this.#clock.monotonicMs();
    const g = globalLeadership(this.#memory, now);
    const decision = this.#decision;
    return {
      held: g.held,
      leaderUntilMs: g.leaderUntilMs,
      actAfterMs: g.actAfterMs,
      acquiredFromRelease: g.acquiredFromRelease,
      handover: g.held ? (decision?.handover ?? null) : null,
      status: decision?.status ?? NOT_STARTED_STATUS,
      observedAtMs: this.#memory.lastReadAtMs ?? 0,
      connected: this.#connected,
      lease: this.#lease,
      createRevision: this.#memory.tenure?.createRevision ?? null,
    };
  }

  #publish(): void {
    const next = this.#compose();
    const previous = this.#snapshot;
    this.#snapshot = Object.freeze(next);
    this.#metrics?.update(next, this.#options.region);
    if (previous !== undefined && JSON.stringify(previous) === JSON.stringify(next)) return;
    for (const listener of [...this.#listeners]) {
      try {
        listener(this.#snapshot);
      } catch (error) {
        this.#log.error({ err: error }, 'an arbiter listener threw');
      }
    }
  }
}
