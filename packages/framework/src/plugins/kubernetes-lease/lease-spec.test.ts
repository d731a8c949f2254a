import type { V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { leaseWithSpec, renewSpec } from './lease-spec.js';

const holder = { identity: 'pod-0_inc', leaseDurationSeconds: 15 };

describe('leaseWithSpec (the body of a compare-and-swap write)', () => {
  const read: V1Lease = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: 'pool',
      namespace: 'cardano',
      resourceVersion: '4711',
      labels: { app: 'forge' },
      managedFields: [
        { manager: 'forge-manager', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: {} },
      ],
    },
    spec: { holderIdentity: 'pod-0_inc', leaseDurationSeconds: 15 },
  };

  it('keeps resourceVersion and the rest of the metadata, and leaves managedFields to the server', () => {
    const body = leaseWithSpec(read, renewSpec(read.spec, holder, Date.UTC(2026, 11, 3)), {
      name: 'x',
      namespace: 'y',
    });
    expect(body.metadata).toEqual({
      name: 'pool',
      namespace: 'cardano',
      resourceVersion: '4711',
      labels: { app: 'forge' },
    });
    expect(read.metadata?.managedFields).toHaveLength(1); // the record read is not changed
    expect(body.spec?.holderIdentity).toBe('pod-0_inc');
  });

  it('names the lease from the reference when the record read has no metadata', () => {
    const body = leaseWithSpec({ spec: {} }, {}, { name: 'pool', namespace: 'cardano' });
    expect(body.metadata).toEqual({ name: 'pool', namespace: 'cardano' });
    expect(body.apiVersion).toBe('coordination.k8s.io/v1');
    expect(body.kind).toBe('Lease');
  });
});
