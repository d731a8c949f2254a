/**
 * The Lease records the elector writes (record.ts reads them). Pure: the holder, the durations and
 * the wall time come in as arguments.
 */
import type { V1Lease, V1LeaseSpec } from '@kubernetes/client-node';
import { MicroTime, parseMicroTime } from '../../kube/time.js';
import type { LeaseView } from './record.js';

/** Which Lease a body is for, when the record read carries no metadata. */
export interface LeaseRef {
  readonly namespace: string;
  readonly name: string;
}

/** What the elector writes as holder. */
export interface Holder {
  readonly identity: string;
  readonly leaseDurationSeconds: number;
}

/**
 * The record read, with a new spec: its metadata (resourceVersion: the compare-and-swap) kept,
 * except managedFields: an update without them keeps the server's, and a renewal every
 * retryPeriod need not send them back.
 */
export function leaseWithSpec(read: V1Lease, spec: V1LeaseSpec, ref: LeaseRef): V1Lease {
  let metadata = read.metadata ?? { name: ref.name, namespace: ref.namespace };
  if (metadata.managedFields !== undefined) {
    const { managedFields: _kept, ...rest } = metadata;
    metadata = rest;
  }
  return {
    apiVersion: read.apiVersion ?? 'coordination.k8s.io/v1',
    kind: read.kind ?? 'Lease',
    metadata,
    spec,
  };
}

/** Fields we do not own (KEP-4355) are written back unchanged. */
export function keptSpecFields(spec: V1LeaseSpec | undefined): Partial<V1LeaseSpec> {
  const kept: Partial<V1LeaseSpec> = {};
  if (typeof spec?.preferredHolder === 'string') kept.preferredHolder = spec.preferredHolder;
  if (typeof spec?.strategy === 'string') kept.strategy = spec.strategy;
  return kept;
}

export function renewSpec(previous: V1LeaseSpec | undefined, holder: Holder, wallMs: number): V1LeaseSpec {
  // Always move renewTime forward, even if our wall clock stood still or stepped back: a renewal
  // that changes nothing is dropped by the API server and looks to standbys like no renewal.
  const previousRenew = parseMicroTime(previous?.renewTime as unknown as string | Date | undefined);
  const now = new MicroTime(
    previousRenew !== null && previousRenew.getTime() >= wallMs ? previousRenew.getTime() + 1 : wallMs,
  );
  const acquire = previous?.acquireTime;
  const acquireOk =
    acquire !== undefined &&
    acquire !== null &&
    !Number.isNaN(new Date(acquire as unknown as string).getTime());
  const transitions = previous?.leaseTransitions;
  return {
    ...keptSpecFields(previous),
    holderIdentity: holder.identity,
    leaseDurationSeconds: holder.leaseDurationSeconds,
    // Kept on renewal; re-stamped in MicroTime form (reads return strings, writes need 6 digits).
    acquireTime: acquireOk ? new MicroTime(new Date(acquire as unknown as string).getTime()) : now,
    renewTime: now,
    leaseTransitions:
      typeof transitions === 'number' && Number.isInteger(transitions) && transitions >= 0 ? transitions : 0,
  };
}

export function acquireSpec(
  previous: V1LeaseSpec | undefined,
  view: LeaseView,
  holder: Holder,
  wallMs: number,
): V1LeaseSpec {
  const now = new MicroTime(wallMs);
  return {
    ...keptSpecFields(previous),
    holderIdentity: holder.identity,
    leaseDurationSeconds: holder.leaseDurationSeconds,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: view.holder === holder.identity ? view.transitions : view.transitions + 1,
  };
}

/** A released lease: holder '' and leaseDurationSeconds 1 (see the elector's takeover grace). */
export function releasedSpec(
  previous: V1LeaseSpec | undefined,
  transitions: number,
  wallMs: number,
): V1LeaseSpec {
  const now = new MicroTime(wallMs);
  return {
    ...keptSpecFields(previous),
    holderIdentity: '',
    leaseDurationSeconds: 1,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: transitions,
  };
}

/** A Lease to create, held by `holder`. */
export function newLease(ref: LeaseRef, holder: Holder, transitions: number, wallMs: number): V1Lease {
  const now = new MicroTime(wallMs);
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: ref.name, namespace: ref.namespace },
    spec: {
      holderIdentity: holder.identity,
      leaseDurationSeconds: holder.leaseDurationSeconds,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: transitions,
    },
  };
}
