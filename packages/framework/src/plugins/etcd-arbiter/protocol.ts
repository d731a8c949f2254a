/**
 * The cross-region protocol's data: where things live in etcd, what the records say, how
 * candidates are ranked, and the timing rules every arbiter checks before it starts. Pure; the
 * full protocol is written down in docs/coordination.md ("Protocol").
 *
 * Keys (one prefix per pool, from the naming rules):
 *   <prefix>/forger               which region forges: created only if absent, bound to the holder's lease
 *   <prefix>/candidates/<region>  one record per region, written by the region's local leader, bound to its lease
 *   <prefix>/released             the last forger entry handed over cleanly (no lease: it outlives its writer)
 */
import { CLOCK_RATE_BOUND } from '../../core/timing.js';
import type { EtcdEntry, EtcdLeaseId } from './etcd-kv.js';

/** Bumped when a record changes incompatibly; a record of another version is not trusted. */
export const PROTOCOL_VERSION = 1;

export interface ArbiterKeys {
  readonly prefix: string;
  readonly forger: string;
  readonly released: string;
  readonly candidatesPrefix: string;
  candidate(region: string): string;
}

export function arbiterKeys(prefix: string): ArbiterKeys {
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return {
    prefix: base,
    forger: `${base}forger`,
    released: `${base}released`,
    candidatesPrefix: `${base}candidates/`,
    candidate: (region) => `${base}candidates/${region}`,
  };
}

/**
 * A region's candidacy, kept by its local leader and bound to that leader's etcd lease (so it
 * disappears with the lease). Every round re-writes it: while `holding` names the forger entry,
 * each write is a heartbeat other regions use to bound when the holder last confirmed its hold.
 */
export interface CandidateRecord {
  readonly v: number;
  readonly region: string;
  /** The local leader's identity (`<pod>_<incarnation>`). */
  readonly identity: string;
  /** The etcd lease this record (and the forger key, when held) is bound to. */
  readonly lease: EtcdLeaseId;
  /** This arbiter's lease TTL; a new holder waits out the longest TTL it knows of. */
  readonly ttlSeconds: number;
  /** Effective priority (lower is preferred), after health and overrides. */
  readonly priority: number;
  /** May forge at all (policy allows, the local leader is a candidate). */
  readonly eligible: boolean;
  /** The health probes are failing past their threshold (the priority carries the penalty). */
  readonly demoted: boolean;
  /** The priority or state comes from a manual override (moves forging without the hold-down). */
  readonly manual: boolean;
  /** Why the record says what it says (policy reason). */
  readonly reason: string;
  /** Wall-clock time (ISO) since this candidacy has had its current priority and eligibility. */
  readonly since: string;
  /** createRevision of the forger entry this region confirmed holding in this round, or null. */
  readonly holding: number | null;
}

/**
 * The clean-handover marker: the forger entry (by createRevision) whose holder confirmed its node
 * not forging before deleting it. Written before the delete, with no lease (a new leader of the
 * same region, or the old one revoking its lease, must not erase it), so a new holder may act at once.
 */
export interface ReleaseRecord {
  readonly v: number;
  readonly createRevision: number;
  readonly region: string;
  readonly identity: string;
  readonly at: string;
}

/** The value of the forger key. Only the key's lease decides who holds it; the rest is for people. */
export interface ForgerRecord {
  readonly v: number;
  readonly region: string;
  readonly identity: string;
  readonly lease: EtcdLeaseId;
  readonly ttlSeconds: number;
  /** Wall-clock time (ISO) of the creation. */
  readonly at: string;
}

/** A record read back, with the entry metadata the protocol needs. */
export interface SeenCandidate {
  readonly record: CandidateRecord;
  readonly modRevision: number;
  /** The lease the key is actually attached to (what etcd says, not what the value claims). */
  readonly lease: EtcdLeaseId;
}

export interface SeenForger {
  /** Null when the value cannot be parsed (a hand edit): the key still blocks, the lease still decides. */
  readonly record: ForgerRecord | null;
  readonly lease: EtcdLeaseId;
  readonly createRevision: number;
  readonly modRevision: number;
}

export interface ArbiterView {
  readonly forger: SeenForger | null;
  /** The clean-handover marker, or null. */
  readonly released: ReleaseRecord | null;
  /** Parsed candidate records, one per region, in key order. */
  readonly candidates: readonly SeenCandidate[];
  /** Keys under the prefix that could not be understood (shown, never trusted). */
  readonly problems: readonly string[];
  readonly revision: number;
}

export function encodeCandidate(record: CandidateRecord): string {
  return JSON.stringify(record);
}

export function encodeForger(record: ForgerRecord): string {
  return JSON.stringify(record);
}

export function encodeRelease(record: ReleaseRecord): string {
  return JSON.stringify(record);
}

export function parseRelease(value: string): ReleaseRecord | null {
  try {
    const raw: unknown = JSON.parse(value);
    if (
      isObject(raw) &&
      raw.v === PROTOCOL_VERSION &&
      typeof raw.createRevision === 'number' &&
      Number.isSafeInteger(raw.createRevision) &&
      raw.createRevision > 0 &&
      typeof raw.region === 'string' &&
      typeof raw.identity === 'string' &&
      typeof raw.at === 'string'
    )
      return raw as unknown as ReleaseRecord;
  } catch {
    // not ours
  }
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isRevision = (v: unknown): v is number | null =>
  v === null || (typeof v === 'number' && Number.isSafeInteger(v) && v > 0);

/** Parses an untrusted candidate value; null with a problem when it is not a valid record. */
export function parseCandidate(value: string): { record: CandidateRecord } | { problem: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    return { problem: 'not JSON' };
  }
  if (!isObject(raw)) return { problem: 'not an object' };
  if (raw.v !== PROTOCOL_VERSION) return { problem: `protocol version ${String(raw.v)}` };
  const ok =
    typeof raw.region === 'string' &&
    raw.region !== '' &&
    typeof raw.identity === 'string' &&
    typeof raw.lease === 'string' &&
    typeof raw.ttlSeconds === 'number' &&
    Number.isFinite(raw.ttlSeconds) &&
    raw.ttlSeconds > 0 &&
    typeof raw.priority === 'number' &&
    Number.isFinite(raw.priority) &&
    typeof raw.eligible === 'boolean' &&
    typeof raw.demoted === 'boolean' &&
    typeof raw.manual === 'boolean' &&
    typeof raw.reason === 'string' &&
    typeof raw.since === 'string' &&
    isRevision(raw.holding);
  if (!ok) return { problem: 'missing or invalid fields' };
  return { record: raw as unknown as CandidateRecord };
}

export function parseForger(value: string): ForgerRecord | null {
  try {
    const raw: unknown = JSON.parse(value);
    if (
      isObject(raw) &&
      raw.v === PROTOCOL_VERSION &&
      typeof raw.region === 'string' &&
      typeof raw.identity === 'string' &&
      typeof raw.lease === 'string' &&
      typeof raw.ttlSeconds === 'number' &&
      Number.isFinite(raw.ttlSeconds) &&
      raw.ttlSeconds > 0 &&
      typeof raw.at === 'string'
    )
      return raw as unknown as ForgerRecord;
  } catch {
    // a hand-written value: unreadable, still a holder
  }
  return null;
}

/** Turns a prefix read into a view. Records whose key region and value region differ are refused. */
export function viewFromEntries(
  keys: ArbiterKeys,
  entries: readonly EtcdEntry[],
  revision: number,
): ArbiterView {
  let forger: SeenForger | null = null;
  let released: ReleaseRecord | null = null;
  const candidates: SeenCandidate[] = [];
  const problems: string[] = [];
  for (const entry of entries) {
    if (entry.key === keys.forger) {
      forger = {
        record: parseForger(entry.value),
        lease: entry.lease,
        createRevision: entry.createRevision,
        modRevision: entry.modRevision,
      };
      if (forger.record === null) problems.push(`${entry.key}: value not understood (edited by hand?)`);
      continue;
    }
    if (entry.key === keys.released) {
      released = parseRelease(entry.value);
      if (released === null) problems.push(`${entry.key}: value not understood; ignored`);
      continue;
    }
    if (!entry.key.startsWith(keys.candidatesPrefix)) continue;
    const region = entry.key.slice(keys.candidatesPrefix.length);
    const parsed = parseCandidate(entry.value);
    if ('problem' in parsed) {
      problems.push(`${entry.key}: ${parsed.problem}; ignored`);
      continue;
    }
    if (parsed.record.region !== region) {
      problems.push(`${entry.key}: names region ${parsed.record.region}; ignored`);
      continue;
    }
    candidates.push({ record: parsed.record, modRevision: entry.modRevision, lease: entry.lease });
  }
  return { forger, released, candidates, problems, revision };
}

/** Lower is better: effective priority, then region name (the deterministic tie-break). */
export function compareCandidates(
  a: { priority: number; region: string },
  b: { priority: number; region: string },
): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  return a.region < b.region ? -1 : a.region > b.region ? 1 : 0;
}

/** Eligible candidates, best first. */
export function rankEligible<T extends { priority: number; region: string; eligible: boolean }>(
  candidates: readonly T[],
): T[] {
  return candidates.filter((c) => c.eligible).sort(compareCandidates);
}

// ---------------------------------------------------------------------------------------------
// Timing
// ---------------------------------------------------------------------------------------------

export interface ArbiterTimingInput {
  readonly leaseTtlSeconds: number;
  /** A holder may act until (send time of its last confirming round) + this. */
  readonly renewDeadlineSeconds: number;
  readonly retryPeriodSeconds: number;
  /** etcd's --election-timeout (ms): how much longer an isolated ex-leader may ack keepalives. */
  readonly etcdElectionTimeoutMs: number;
  /** The local revocation chain (core/timing.ts revocationBudget().chainMs). */
  readonly revocationChainMs: number;
}

export interface ArbiterTiming {
  readonly ttlMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  /** TTL − renew deadline: what is left after the fencing deadline before etcd can free the key. */
  readonly marginMs: number;
  /** The part of the margin the revocation chain, the ex-leader window and clock drift need. */
  readonly neededMs: number;
  readonly driftAllowanceMs: number;
  /** Each etcd call of a round is bounded by this. */
  readonly callTimeoutMs: number;
}

export type ArbiterTimingCheck =
  | { readonly ok: true; readonly timing: ArbiterTiming }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * The fencing arithmetic (docs/coordination.md, "Timing"): a holder acts until s + RD, where s is
 * the send time of its last confirming round; it has stopped its node by s + RD + chain. etcd
 * cannot free the key before s + TTL − E on any leader (an isolated ex-leader acknowledges at most
 * one election timeout E past the new leader's election; the new leader's one-E extension is
 * spare). Clocks differ in rate by at most ρ, over at most TTL on each side. So:
 *   TTL − RD ≥ chain + E + 2ρ·TTL.
 */
/** The shortest bound on one etcd call that still survives a cross-region round trip and a fsync. */
const MIN_CALL_TIMEOUT_MS = 250;

export function arbiterTiming(input: ArbiterTimingInput): ArbiterTimingCheck {
  const problems: string[] = [];
  const positive: Array<[string, number]> = [
    ['leaseTtlSeconds', input.leaseTtlSeconds],
    ['renewDeadlineSeconds', input.renewDeadlineSeconds],
    ['retryPeriodSeconds', input.retryPeriodSeconds],
    ['etcdElectionTimeoutMs', input.etcdElectionTimeoutMs],
  ];
  for (const [name, value] of positive)
    if (!(Number.isFinite(value) && value > 0))
      problems.push(`etcdArbiter.${name} must be > 0 (got ${value})`);
  if (problems.length > 0) return { ok: false, problems };
  const ttlMs = input.leaseTtlSeconds * 1000;
  const renewDeadlineMs = input.renewDeadlineSeconds * 1000;
  const retryPeriodMs = input.retryPeriodSeconds * 1000;
  const driftAllowanceMs = Math.ceil(2 * CLOCK_RATE_BOUND * ttlMs);
  const marginMs = ttlMs - renewDeadlineMs;
  const neededMs = input.revocationChainMs + input.etcdElectionTimeoutMs + driftAllowanceMs;
  if (!(input.renewDeadlineSeconds > 1.2 * input.retryPeriodSeconds))
    problems.push(
      `etcdArbiter.renewDeadlineSeconds (${input.renewDeadlineSeconds}) must be greater than 1.2 × etcdArbiter.retryPeriodSeconds (${1.2 * input.retryPeriodSeconds}): a holder must get more than one round in before its deadline`,
    );
  if (marginMs < neededMs)
    problems.push(
      `etcdArbiter.leaseTtlSeconds − etcdArbiter.renewDeadlineSeconds = ${marginMs} ms leaves no time to revoke before etcd can free the forger key: ` +
        `it must cover the revocation chain (${input.revocationChainMs} ms, from election.* and node.sighupLatencyBoundMs) + ` +
        `etcd's election timeout (${input.etcdElectionTimeoutMs} ms, etcdArbiter.etcdElectionTimeoutMs) + clock drift (${driftAllowanceMs} ms) = ${neededMs} ms; ` +
        `raise etcdArbiter.leaseTtlSeconds or lower etcdArbiter.renewDeadlineSeconds`,
    );
  // A round starts one retry period after the previous round STARTED and makes three calls in turn
  // (keepalive, read, record write); it confirms the holder in time when they fit in what the renew
  // deadline leaves after the retry period (found by the simulation: rounds paced from their end,
  // each 3 × ~200 ms, confirmed just after the deadline and the holder flapped).
  const callTimeoutMs = Math.min(2000, Math.floor((renewDeadlineMs - retryPeriodMs) / 3));
  if (problems.length === 0 && callTimeoutMs < MIN_CALL_TIMEOUT_MS)
    problems.push(
      `etcdArbiter.renewDeadlineSeconds − etcdArbiter.retryPeriodSeconds = ${renewDeadlineMs - retryPeriodMs} ms leaves ${callTimeoutMs} ms per etcd call (a round makes three in turn); it needs at least ${3 * MIN_CALL_TIMEOUT_MS} ms: raise renewDeadlineSeconds or lower retryPeriodSeconds`,
    );
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    timing: { ttlMs, renewDeadlineMs, retryPeriodMs, marginMs, neededMs, driftAllowanceMs, callTimeoutMs },
  };
}
