/**
 * Reading a Lease defensively. A Lease can be edited by hand into anything; the elector must
 * never crash on it and must stay conservative: a foreign holder with an unusable duration is
 * treated as holding for the configured leaseDuration. Times in the record are never used for
 * expiry (expiry is measured on the local monotonic clock from when a change was observed), so
 * unparsable times only produce a note.
 */
import type { V1Lease } from '@kubernetes/client-node';
import { parseMicroTime } from '../../kube/time.js';

export interface LeaseView {
  /** '' when released, vacant or missing. */
  readonly holder: string;
  /** spec.leaseDurationSeconds when it is a positive integer, else null. */
  readonly durationSeconds: number | null;
  /** spec.leaseTransitions when it is a non-negative integer, else 0. */
  readonly transitions: number;
  readonly resourceVersion: string | undefined;
  /**
   * Identifies this version of the record: its resourceVersion together with the spec as the API
   * server holds it. A different key = the record changed, which restarts the expiry clock. The
   * resourceVersion makes every write count, so a holder whose wall clock stands still (the same
   * renewTime written again) or a write that changes only metadata is still seen as a renewal.
   */
  readonly changeKey: string;
  /** Human-readable notes about fields that are missing or nonsensical. Empty when sane. */
  readonly problems: readonly string[];
}

function rawTime(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  return value === undefined || value === null ? '' : String(value);
}

export function inspectLease(lease: V1Lease): LeaseView {
  const problems: string[] = [];
  const spec = (lease.spec ?? undefined) as Record<string, unknown> | undefined;
  if (spec === undefined || typeof spec !== 'object') problems.push('spec is missing');
  const rawHolder = spec?.holderIdentity;
  let holder = '';
  if (typeof rawHolder === 'string') holder = rawHolder;
  else if (rawHolder !== undefined && rawHolder !== null) {
    holder = String(rawHolder);
    problems.push(`holderIdentity is not a string (${JSON.stringify(rawHolder)})`);
  }

  const rawDuration = spec?.leaseDurationSeconds;
  let durationSeconds: number | null = null;
  if (typeof rawDuration === 'number' && Number.isInteger(rawDuration) && rawDuration > 0)
    durationSeconds = rawDuration;
  else if (holder !== '')
    problems.push(
      rawDuration === undefined || rawDuration === null
        ? 'leaseDurationSeconds is missing'
        : `leaseDurationSeconds is not a positive integer (${JSON.stringify(rawDuration)})`,
    );

  const rawTransitions = spec?.leaseTransitions;
  let transitions = 0;
  if (typeof rawTransitions === 'number' && Number.isInteger(rawTransitions) && rawTransitions >= 0)
    transitions = rawTransitions;
  else if (rawTransitions !== undefined && rawTransitions !== null)
    problems.push(`leaseTransitions is not a non-negative integer (${JSON.stringify(rawTransitions)})`);

  if (holder !== '') {
    for (const field of ['renewTime', 'acquireTime'] as const) {
      const value = spec?.[field];
      if (value === undefined || value === null) problems.push(`${field} is missing`);
      else if (parseMicroTime(value as string | Date) === null)
        problems.push(`${field} is unparsable (${JSON.stringify(value)})`);
    }
  }

  const changeKey = JSON.stringify([
    lease.metadata?.resourceVersion ?? null,
    holder,
    rawDuration ?? null,
    rawTime(spec?.acquireTime),
    rawTime(spec?.renewTime),
    rawTransitions ?? null,
    spec?.preferredHolder ?? null,
    spec?.strategy ?? null,
  ]);
  return {
    holder,
    durationSeconds,
    transitions,
    resourceVersion: lease.metadata?.resourceVersion,
    changeKey,
    problems,
  };
}
