/**
 * The arbiter's decisions, as pure functions of what it has seen (docs/coordination.md,
 * "Protocol"). The component (arbiter.ts) runs rounds — keepalive, read, write — and feeds each
 * result through these functions; nothing here does I/O or reads a clock.
 *
 *  - foldRead: what a read of the prefix teaches about the forger entry's history (who held it,
 *    when its holder last showed life, how it went away) and how long a better candidate has
 *    been present;
 *  - decideArbiter: this round's record, whether to create the forger key, whether to hand over;
 *  - takeoverActAfterMs: when a new holder may start forging;
 *  - confirmRound / afterCreate: the holder's fencing deadline from the send time of the round's
 *    acknowledged keepalive.
 */
import { takeoverMarginMs } from '../kubernetes-lease/options.js';
import type { EtcdLeaseId } from './etcd-kv.js';
import {
  PROTOCOL_VERSION,
  rankEligible,
  type ArbiterView,
  type CandidateRecord,
  type SeenCandidate,
} from './protocol.js';

/** How a forger entry we saw went away. */
export type GoneHow =
  /** The release marker names it: its holder's node was confirmed not forging before the delete. */
  | 'released'
  /** The key went while its holder's record (same lease) stayed: deleted by hand, or a release without its marker. */
  | 'deleted'
  /** The key went with its lease (expiry, or a revocation). */
  | 'lease-ended'
  /** It was replaced between two reads: we know nothing about how. */
  | 'unknown';

/** A forger entry we have seen, and the latest evidence that its holder was alive. */
export interface KnownEntry {
  readonly createRevision: number;
  readonly lease: EtcdLeaseId;
  readonly region: string | null;
  readonly ttlSeconds: number | null;
  /**
   * Receive time of the read that first showed the holder region's latest record version while
   * the entry existed: its last confirmed round was sent before that (the round's record write
   * committed before the read). Null when no record of that region was seen.
   */
  readonly holderSeenAtMs: number | null;
  readonly holderModRevision: number | null;
  /**
   * Receive time of the first read that showed this entry: it was created before that, so a
   * holder before it (if any) had stopped by then + TTL − E (its own takeover rule).
   */
  readonly firstSeenAtMs: number;
  readonly gone: { readonly atMs: number; readonly how: GoneHow } | null;
}

export interface Tenure {
  /** Null until a read shows the entry we created (createIfAbsent does not return it). */
  readonly createRevision: number | null;
  readonly lease: EtcdLeaseId;
  /** 'possible': a create whose outcome is unknown (it may have committed). */
  readonly status: 'held' | 'possible';
  /** Monotonic ms before which the holder must not start forging (takeover grace). */
  readonly actAfterMs: number;
  /** The fencing deadline: send time of the last confirming round + renew deadline; 0 = none. */
  readonly validUntilMs: number;
  readonly acquiredFromRelease: boolean;
  readonly sinceMs: number;
}

/** What the arbiter remembers between rounds; changed only by the functions in this file. */
export interface ArbiterMemory {
  /** The latest forger entry seen (present or gone); null = none seen since start or since a gap. */
  readonly entry: KnownEntry | null;
  /** Receive time of the first read of the current run of reads without a forger entry. */
  readonly absentSinceMs: number | null;
  /** Since when (receive time) some eligible candidate has been strictly better than us. */
  readonly betterSinceMs: number | null;
  readonly tenure: Tenure | null;
  /** Receive time of the last successful read. */
  readonly lastReadAtMs: number | null;
  /** The entry we handed over: it is never adopted again (a delete whose outcome is unknown). */
  readonly releasedRevision: number | null;
}

export const INITIAL_MEMORY: ArbiterMemory = Object.freeze({
  entry: null,
  absentSinceMs: null,
  betterSinceMs: null,
  tenure: null,
  lastReadAtMs: null,
  releasedRevision: null,
});

/** This region's candidacy as the local policy and decision loop see it now. */
export interface OwnCandidacy {
  readonly region: string;
  readonly identity: string;
  readonly ttlSeconds: number;
  /** This pod holds the region's local lease (and may act on it). */
  readonly localLeader: boolean;
  /** Policy allows forging and the decision loop keeps this pod a candidate. */
  readonly eligible: boolean;
  readonly priority: number;
  readonly demoted: boolean;
  readonly manual: boolean;
  readonly reason: string;
  readonly message: string;
  /** Wall-clock ISO time since this candidacy has looked like this. */
  readonly since: string;
}

export interface ArbiterSettings {
  readonly holdDownMs: number;
  readonly ttlSeconds: number;
}

// ---------------------------------------------------------------------------------------------
// foldRead
// ---------------------------------------------------------------------------------------------

function recordOf(view: ArbiterView, region: string | null): SeenCandidate | undefined {
  if (region === null) return undefined;
  return view.candidates.find((c) => c.record.region === region);
}

/**
 * When a record version was first seen by a watch (its event's arrival), if it was: a moment
 * after its write was committed, so after it was sent. Never later than a read showing it.
 */
export type RecordSighting = (region: string, modRevision: number) => number | undefined;

function holderEvidence(
  previous: KnownEntry | null,
  view: ArbiterView,
  region: string | null,
  atMs: number,
  sighted: RecordSighting | undefined,
): { holderSeenAtMs: number | null; holderModRevision: number | null } {
  const record = recordOf(view, region);
  if (record === undefined)
    return {
      holderSeenAtMs: previous?.holderSeenAtMs ?? null,
      holderModRevision: previous?.holderModRevision ?? null,
    };
  if (previous !== null && previous.holderModRevision === record.modRevision)
    return { holderSeenAtMs: previous.holderSeenAtMs, holderModRevision: record.modRevision };
  // The watch may have delivered this very write before the read did: the earlier sight counts
  // (both come after the write was committed, hence after the holder's round sent it).
  const watched = region === null ? undefined : sighted?.(region, record.modRevision);
  return {
    holderSeenAtMs: watched === undefined ? atMs : Math.min(atMs, watched),
    holderModRevision: record.modRevision,
  };
}

function classifyGone(entry: KnownEntry, view: ArbiterView): GoneHow {
  if (view.released?.createRevision === entry.createRevision) return 'released';
  const record = recordOf(view, entry.region);
  if (record === undefined || record.lease !== entry.lease) return 'lease-ended';
  return 'deleted';
}

/**
 * Folds one successful read (received at `atMs`) into the memory. `gapMs`: when the previous read
 * is older than this, what happened in between is unknown and the entry history is forgotten
 * (a candidate record can appear and expire unseen only over a gap of at least one TTL).
 */
export function foldRead(
  memory: ArbiterMemory,
  view: ArbiterView,
  own: { priority: number; region: string },
  atMs: number,
  gapMs: number,
  sighted?: RecordSighting,
): ArbiterMemory {
  const continuous = memory.lastReadAtMs !== null && atMs - memory.lastReadAtMs <= gapMs;
  const previous = continuous ? memory.entry : null;
  const forger = view.forger;
  let entry: KnownEntry | null;
  if (forger !== null) {
    if (previous !== null && previous.createRevision === forger.createRevision) {
      entry = { ...previous, ...holderEvidence(previous, view, previous.region, atMs, sighted) };
    } else {
      // A different entry: the one we knew (if any) was replaced between two reads. Only an
      // adoption of the new one cares how the old one went (applyRead: 'unknown').
      const region = forger.record?.region ?? null;
      entry = {
        createRevision: forger.createRevision,
        lease: forger.lease,
        region,
        ttlSeconds: forger.record?.ttlSeconds ?? null,
        ...holderEvidence(null, view, region, atMs, sighted),
        firstSeenAtMs: atMs,
        gone: null,
      };
    }
  } else if (previous !== null && previous.gone === null) {
    const evidence = holderEvidence(previous, view, previous.region, atMs, sighted);
    entry = { ...previous, ...evidence, gone: { atMs, how: classifyGone(previous, view) } };
  } else {
    entry = previous;
  }
  const absentSinceMs = forger !== null ? null : continuous ? (memory.absentSinceMs ?? atMs) : atMs;
  const better = bestBetterThan(view.candidates, own);
  const betterSinceMs = better === undefined ? null : continuous ? (memory.betterSinceMs ?? atMs) : atMs;
  return { ...memory, entry, absentSinceMs, betterSinceMs, lastReadAtMs: atMs };
}

/** The best eligible other candidate with a strictly lower (better) effective priority. */
export function bestBetterThan(
  candidates: readonly SeenCandidate[],
  own: { priority: number; region: string },
): CandidateRecord | undefined {
  return rankEligible(candidates.map((c) => c.record)).find(
    (r) => r.region !== own.region && r.priority < own.priority,
  );
}

// ---------------------------------------------------------------------------------------------
// Takeover grace
// ---------------------------------------------------------------------------------------------

export interface ActAfter {
  readonly actAfterMs: number;
  readonly clean: boolean;
  readonly why: string;
}

/**
 * When a new holder may start forging (docs/coordination.md, "Takeover grace"). `ackMs` is when
 * the acquisition was confirmed (the create's reply, or the read showing the key ours). The
 * previous holder P fenced at s + RD and stopped its node by s + TTL − E − drift (the margin
 * check), where s is the send time of its last confirming round; what we wait for is a moment
 * that is certainly after s, plus TTL' and the clock-rate margin:
 *  - released (the release marker names the entry): its node was confirmed off: at once;
 *  - deleted while its lease lived (by hand): s ≤ deletion ≤ the read that saw it gone;
 *  - gone with its lease: s ≤ the first sight of its region's last record version (every
 *    confirming round re-writes the record before it counts), and not before the first sight
 *    of the entry itself (which covers whoever held the key before it);
 *  - anything unknown (no entry seen, a gap, replaced between reads): s ≤ ackMs.
 */
export function takeoverActAfterMs(memory: ArbiterMemory, ackMs: number, ownTtlSeconds: number): ActAfter {
  const entry = memory.entry;
  const ttlMs = Math.max(ownTtlSeconds, entry?.ttlSeconds ?? 0) * 1000;
  const wait = ttlMs + takeoverMarginMs(ttlMs);
  if (entry === null || entry.gone === null)
    return {
      actAfterMs: ackMs + wait,
      clean: false,
      why: 'no previous holder known: waiting out a full TTL in case one was forging',
    };
  switch (entry.gone.how) {
    case 'released':
      return {
        actAfterMs: ackMs,
        clean: true,
        why: `region ${entry.region ?? '?'} handed over cleanly (its node confirmed not forging)`,
      };
    case 'deleted':
      return {
        actAfterMs: Math.max(ackMs, entry.gone.atMs + wait),
        clean: false,
        why: `the forger key of ${entry.region ?? '?'} was deleted while its lease was alive (by hand?): waiting out its TTL`,
      };
    case 'lease-ended':
      // Its last record version, but never before the entry itself was seen: a holder released
      // within its own grace (no marker) may have written its record before it created the key.
      return {
        actAfterMs: Math.max(
          ackMs,
          Math.max(entry.holderSeenAtMs ?? entry.gone.atMs, entry.firstSeenAtMs) + wait,
        ),
        clean: false,
        why: `the lease of ${entry.region ?? '?'} ended: waiting a TTL from its last sign of life`,
      };
    case 'unknown':
      return {
        actAfterMs: ackMs + wait,
        clean: false,
        why: 'the previous entry went unobserved: waiting out a full TTL',
      };
  }
}

// ---------------------------------------------------------------------------------------------
// Tenure transitions
// ---------------------------------------------------------------------------------------------

/** After createIfAbsent. `keepAliveSendMs`: send time of the acknowledged keepalive of this round. */
export function afterCreate(
  memory: ArbiterMemory,
  outcome: 'created' | 'exists' | 'unknown',
  lease: EtcdLeaseId,
  keepAliveSendMs: number,
  ackMs: number,
  settings: { ttlSeconds: number; renewDeadlineMs: number },
): ArbiterMemory {
  if (outcome === 'exists') return memory;
  if (outcome === 'unknown')
    return {
      ...memory,
      tenure: {
        createRevision: null,
        lease,
        status: 'possible',
        actAfterMs: Number.POSITIVE_INFINITY,
        validUntilMs: 0,
        acquiredFromRelease: false,
        sinceMs: ackMs,
      },
    };
  const act = takeoverActAfterMs(memory, ackMs, settings.ttlSeconds);
  return {
    ...memory,
    tenure: {
      createRevision: null,
      lease,
      status: 'held',
      actAfterMs: act.actAfterMs,
      validUntilMs: keepAliveSendMs + settings.renewDeadlineMs,
      acquiredFromRelease: act.clean,
      sinceMs: ackMs,
    },
  };
}

/**
 * Folds a read into the memory and reconciles the tenure with it: the key names our lease → we
 * hold it (a possible create that committed, or a late one, is adopted with the takeover grace
 * the entry before it calls for); otherwise we do not. An entry we handed over is never adopted.
 */
export function applyRead(
  memory: ArbiterMemory,
  view: ArbiterView,
  ctx: {
    own: { priority: number; region: string };
    lease: EtcdLeaseId | null;
    atMs: number;
    gapMs: number;
    ttlSeconds: number;
    /** Watch sightings of record versions (optional: without a watch, reads date everything). */
    sighted?: RecordSighting;
  },
): ArbiterMemory {
  const folded = foldRead(memory, view, ctx.own, ctx.atMs, ctx.gapMs, ctx.sighted);
  const forger = view.forger;
  const lease = ctx.lease;
  const ours =
    forger !== null &&
    lease !== null &&
    forger.lease === lease &&
    forger.createRevision !== memory.releasedRevision;
  const tenure = memory.tenure;
  if (!ours) return tenure === null ? folded : { ...folded, tenure: null };
  if (tenure !== null && tenure.status === 'held' && tenure.lease === lease) {
    if (tenure.createRevision === null)
      return { ...folded, tenure: { ...tenure, createRevision: forger.createRevision } };
    if (tenure.createRevision === forger.createRevision) return folded;
  }
  // Adoption. The takeover rule needs the entry before this one, as this read classifies it.
  const prev =
    memory.lastReadAtMs !== null && ctx.atMs - memory.lastReadAtMs <= ctx.gapMs ? memory.entry : null;
  const before =
    prev === null || prev.createRevision === forger.createRevision
      ? null
      : prev.gone === null
        ? { ...prev, gone: { atMs: ctx.atMs, how: 'unknown' as const } }
        : prev;
  const act = takeoverActAfterMs({ ...folded, entry: before }, ctx.atMs, ctx.ttlSeconds);
  return {
    ...folded,
    tenure: {
      createRevision: forger.createRevision,
      lease,
      status: 'held',
      actAfterMs: act.actAfterMs,
      validUntilMs: 0,
      acquiredFromRelease: act.clean,
      sinceMs: ctx.atMs,
    },
  };
}

/**
 * A round confirms the hold when its keepalive was acknowledged (sent at `keepAliveSendMs`), its
 * read showed the key ours and its record write (the heartbeat) was acknowledged.
 */
export function confirmRound(
  memory: ArbiterMemory,
  round: { keepAliveSendMs: number | null; readShowedOurs: boolean; heartbeatAcked: boolean },
  renewDeadlineMs: number,
): ArbiterMemory {
  const tenure = memory.tenure;
  if (tenure === null || tenure.status !== 'held') return memory;
  if (round.keepAliveSendMs === null || !round.readShowedOurs || !round.heartbeatAcked) return memory;
  const validUntilMs = Math.max(tenure.validUntilMs, round.keepAliveSendMs + renewDeadlineMs);
  return { ...memory, tenure: { ...tenure, validUntilMs } };
}

/** The lease is gone (keepalive says TTL ≤ 0, or we revoked it): so is anything bound to it. */
export function afterLeaseLost(memory: ArbiterMemory): ArbiterMemory {
  return memory.tenure === null ? memory : { ...memory, tenure: null };
}

/** After our clean handover (release marker written, then the key deleted or its lease revoked). */
export function afterRelease(memory: ArbiterMemory, createRevision: number | null): ArbiterMemory {
  return { ...memory, tenure: null, releasedRevision: createRevision ?? memory.releasedRevision };
}

// ---------------------------------------------------------------------------------------------
// decideArbiter
// ---------------------------------------------------------------------------------------------

export interface Handover {
  readonly reason: string;
  readonly message: string;
}

export interface ArbiterStatus {
  /** Region named by the forger key; null = none; '?' = a value we cannot read. */
  readonly forgerRegion: string | null;
  /** 1-based rank among eligible candidates (null when not eligible or not yet known). */
  readonly rank: number | null;
  readonly eligibleCandidates: number;
  readonly role: 'forger' | 'possible-forger' | 'standby' | 'not-candidate';
  readonly reason: string;
  readonly message: string;
}

export interface ArbiterDecision {
  /** Keep a lease (and so a record): a candidate, or a possible holder that must release. */
  readonly wantLease: boolean;
  /** This round's record (null: none to write). `lease` is filled in by the caller. */
  readonly record: Omit<CandidateRecord, 'lease'> | null;
  readonly create: boolean;
  /** We hold, or may hold, the key and must give it up (revoke, confirm, then release). */
  readonly handover: Handover | null;
  readonly status: ArbiterStatus;
}

export interface ArbiterInput {
  readonly nowMs: number;
  readonly memory: ArbiterMemory;
  /** The latest successful read, or null before the first. */
  readonly view: ArbiterView | null;
  readonly own: OwnCandidacy;
  /** Our lease id, or null when we have none. */
  readonly lease: EtcdLeaseId | null;
  readonly settings: ArbiterSettings;
}

/** We hold the key, or may: a tenure (held or possible), or a read showing it bound to our lease. */
export function holdsOrMayHold(input: Pick<ArbiterInput, 'view' | 'lease' | 'memory'>): boolean {
  const { view, lease, memory } = input;
  if (memory.tenure !== null) return true;
  const forger = view?.forger ?? null;
  return (
    forger !== null &&
    lease !== null &&
    forger.lease === lease &&
    forger.createRevision !== memory.releasedRevision
  );
}

function handoverFor(input: ArbiterInput): Handover | null {
  const { own, view, memory, nowMs, settings } = input;
  if (!own.localLeader)
    return { reason: 'NotRegionLeader', message: "this pod no longer holds its region's lease" };
  if (!own.eligible) return { reason: 'NotEligible', message: `not eligible: ${own.message}` };
  if (view === null) return null;
  const better = bestBetterThan(view.candidates, own);
  if (better === undefined) return null;
  const against = `region ${better.region} (priority ${better.priority}) is better than ours (${own.priority})`;
  if (own.manual || better.manual)
    return { reason: 'ManualOverride', message: `${against} by a manual override: handing over now` };
  if (own.demoted)
    return { reason: 'HealthDemoted', message: `${against} and our health demoted us: handing over now` };
  const sinceMs = memory.betterSinceMs ?? nowMs;
  if (nowMs - sinceMs >= settings.holdDownMs)
    return {
      reason: 'BetterCandidate',
      message: `${against} for ${Math.round((nowMs - sinceMs) / 1000)} s (hold-down ${settings.holdDownMs / 1000} s): handing over`,
    };
  return null;
}

export function decideArbiter(input: ArbiterInput): ArbiterDecision {
  const { own, view, memory, lease, nowMs, settings } = input;
  const holding = holdsOrMayHold(input);
  const candidate = own.localLeader && own.eligible;
  const handover = holding ? handoverFor(input) : null;
  const tenure = memory.tenure;
  const record: Omit<CandidateRecord, 'lease'> | null =
    own.localLeader && (candidate || holding)
      ? {
          v: PROTOCOL_VERSION,
          region: own.region,
          identity: own.identity,
          ttlSeconds: own.ttlSeconds,
          priority: own.priority,
          eligible: own.eligible,
          demoted: own.demoted,
          manual: own.manual,
          reason: own.reason,
          since: own.since,
          holding:
            tenure?.status === 'held' && tenure.createRevision !== null && handover === null
              ? tenure.createRevision
              : null,
        }
      : null;

  // Create only when the key is absent, we are a candidate with a live lease, our record is
  // visible to everyone as it is, and we are the best eligible candidate — or the best has left
  // the key absent for a whole TTL (it may be unable to write).
  let create = false;
  let createWhy = '';
  const ownVisible =
    view !== null &&
    lease !== null &&
    view.candidates.some(
      (c) =>
        c.record.region === own.region &&
        c.lease === lease &&
        c.record.priority === own.priority &&
        c.record.eligible === own.eligible,
    );
  const ranked = view === null ? [] : rankEligible(view.candidates.map((c) => c.record));
  const rankIndex = ranked.findIndex((r) => r.region === own.region);
  if (
    view !== null &&
    view.forger === null &&
    candidate &&
    (!holding || tenure?.status === 'possible') &&
    ownVisible
  ) {
    const best = ranked[0];
    const absentForMs = memory.absentSinceMs === null ? 0 : nowMs - memory.absentSinceMs;
    if (best !== undefined && best.region === own.region) {
      create = true;
      createWhy = 'the forger key is absent and this region is the best eligible candidate';
    } else if (absentForMs >= settings.ttlSeconds * 1000) {
      create = true;
      createWhy = `the forger key has been absent for ${Math.round(absentForMs / 1000)} s although ${best?.region ?? '?'} is better: taking it`;
    }
  }

  const forgerRegion = view?.forger ? (view.forger.record?.region ?? '?') : null;
  const rank = candidate && rankIndex >= 0 ? rankIndex + 1 : null;
  const eligibleCandidates = ranked.length;
  let status: ArbiterStatus;
  if (holding && tenure?.status === 'possible')
    status = {
      forgerRegion,
      rank,
      eligibleCandidates,
      role: 'possible-forger',
      reason: 'CreateOutcomeUnknown',
      message:
        'a create of the forger key timed out and may have committed: not forging until a read shows who holds it',
    };
  else if (holding)
    status = {
      forgerRegion: own.region,
      rank,
      eligibleCandidates,
      role: 'forger',
      reason: handover?.reason ?? 'Holder',
      message:
        handover?.message ??
        (tenure !== null && nowMs < tenure.actAfterMs
          ? `holds the forger key; waiting ${Math.ceil((tenure.actAfterMs - nowMs) / 1000)} s for a previous holder to fence`
          : 'this region holds the forger key'),
    };
  else if (!candidate)
    status = {
      forgerRegion,
      rank: null,
      eligibleCandidates,
      role: 'not-candidate',
      reason: own.localLeader ? 'NotEligible' : 'NotRegionLeader',
      message: own.localLeader ? own.message : "only the region's lease holder takes part",
    };
  else if (create)
    status = {
      forgerRegion,
      rank,
      eligibleCandidates,
      role: 'standby',
      reason: 'Creating',
      message: createWhy,
    };
  else
    status = {
      forgerRegion,
      rank,
      eligibleCandidates,
      role: 'standby',
      reason: forgerRegion === null ? (ownVisible ? 'WaitingForBetter' : 'Registering') : 'Standby',
      message:
        forgerRegion === null
          ? ownVisible
            ? `the forger key is absent; ${ranked[0]?.region ?? '?'} is the best candidate`
            : "writing this region's candidate record"
          : `region ${forgerRegion} forges; this region ranks ${rank ?? '?'} of ${eligibleCandidates}`,
    };

  return { wantLease: candidate || holding, record, create, handover, status };
}

/** The global part of this pod's leadership: may it forge now, from when, and until when. */
export function globalLeadership(
  memory: ArbiterMemory,
  nowMs: number,
): { held: boolean; leaderUntilMs: number; actAfterMs: number; acquiredFromRelease: boolean } {
  const t = memory.tenure;
  if (t === null || t.status !== 'held' || nowMs >= t.validUntilMs)
    return { held: t !== null, leaderUntilMs: 0, actAfterMs: t?.actAfterMs ?? 0, acquiredFromRelease: false };
  return {
    held: true,
    leaderUntilMs: t.validUntilMs,
    actAfterMs: t.actAfterMs,
    acquiredFromRelease: t.acquiredFromRelease,
  };
}

/** Rank of a region among eligible records (1-based), for status; null when not eligible. */
export function rankOf(view: ArbiterView, region: string): number | null {
  const ranked = rankEligible(view.candidates.map((c) => c.record));
  const i = ranked.findIndex((r) => r.region === region);
  return i < 0 ? null : i + 1;
}
