import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  LEGACY_CLUSTER_NAME,
  LEGACY_LEASE_NAME,
  computeNames,
  isDns1123Label,
  poolShortId,
  toDns1123Label,
  validateNetwork,
} from './naming.js';

const BECH32 = 'pool1abcdefghjkmnpqrstuvwxyz023456789acdefghjkmnpqrstuvw';

describe('poolShortId (Python §8.7 rules)', () => {
  it.each([
    [BECH32, 'pool1abcde'],
    ['0123456789abcdef', '01234567'],
    ['short', 'short'],
    ['POOL1XYZWVQ', 'pool1xyzwv'],
  ])('%s → %s', (id, short) => expect(poolShortId(id)).toBe(short));
});

describe('computeNames', () => {
  it('uses the Python multi-tenant scheme for valid lower-case inputs', () => {
    const names = computeNames({ network: 'mainnet', poolId: BECH32, region: 'us-east-1' });
    expect(names).toMatchObject({
      clusterName: 'mainnet-pool1abcde-us-east-1',
      leaseName: 'cardano-leader-mainnet-pool1abcde',
      leaderName: 'cardano-leader-mainnet-pool1abcde',
      poolShort: 'pool1abcde',
      multiTenant: true,
      adjustments: [],
    });
  });

  it('lower-cases the names Python would have sent to the API server unmodified (G11)', () => {
    const names = computeNames({ network: 'mainnet', poolId: 'MYPOOL', region: 'us-east-1' });
    expect(names.clusterName).toBe('mainnet-mypool-us-east-1');
    expect(names.leaseName).toBe('cardano-leader-mainnet-mypool');
  });

  it('sanitises and hashes names with invalid characters', () => {
    const names = computeNames({ network: 'preprod', poolId: 'STAKE_PO', region: 'eu.west.1' });
    expect(isDns1123Label(names.clusterName)).toBe(true);
    expect(names.clusterName).toMatch(/^preprod-stake-po-eu-west-1-[0-9a-f]{8}$/);
    expect(names.adjustments.length).toBeGreaterThan(0);
  });

  it('shortens long names to 63 characters with a stable hash suffix', () => {
    const region = 'a-very-long-region-name-that-goes-on-and-on-and-on-forever-and-ever';
    const a = computeNames({ network: 'mainnet', poolId: BECH32, region });
    const b = computeNames({ network: 'mainnet', poolId: BECH32, region: `${region}x` });
    expect(a.clusterName.length).toBeLessThanOrEqual(63);
    expect(a.clusterName).toMatch(/-[0-9a-f]{8}$/);
    expect(computeNames({ network: 'mainnet', poolId: BECH32, region }).clusterName).toBe(a.clusterName);
    expect(b.clusterName).not.toBe(a.clusterName);
  });

  it('falls back to the legacy names when POOL_ID is empty', () => {
    expect(computeNames({ network: 'mainnet', poolId: '', region: 'us' })).toMatchObject({
      clusterName: LEGACY_CLUSTER_NAME,
      leaseName: LEGACY_LEASE_NAME,
      leaderName: LEGACY_LEASE_NAME,
      poolShort: '',
      multiTenant: false,
    });
    expect(
      computeNames({ network: 'mainnet', poolId: '  ', region: 'us', identifier: 'My-Cluster' }).clusterName,
    ).toBe('my-cluster');
  });

  it('honours overrides; the CardanoLeader name follows the lease name unless set', () => {
    const names = computeNames({
      network: 'mainnet',
      poolId: BECH32,
      region: 'x1',
      leaseNameOverride: 'forge-lease',
    });
    expect(names.leaseName).toBe('forge-lease');
    expect(names.leaderName).toBe('forge-lease');
    expect(
      computeNames({ network: 'mainnet', poolId: BECH32, region: 'x1', leaderNameOverride: 'my-leader' })
        .leaderName,
    ).toBe('my-leader');
  });

  const anyText = fc.string({ minLength: 0, maxLength: 90 });
  const input = fc.record({
    network: anyText,
    poolId: anyText,
    region: anyText,
    identifier: fc.option(anyText, { nil: undefined }),
  });

  it('property: every name is a DNS-1123 label of at most 63 characters, deterministically', () => {
    fc.assert(
      fc.property(input, (i) => {
        const names = computeNames(i);
        for (const n of [names.clusterName, names.leaseName, names.leaderName]) {
          expect(isDns1123Label(n)).toBe(true);
          expect(n.length).toBeLessThanOrEqual(63);
        }
        expect(computeNames(i)).toEqual(names);
      }),
      { numRuns: 500 },
    );
  });

  it('property: pools with different short ids never share a lease or cluster name', () => {
    const pool = fc.string({ minLength: 1, maxLength: 60 }).filter((s) => s.trim() !== '');
    fc.assert(
      fc.property(pool, pool, anyText, anyText, (p1, p2, network, region) => {
        fc.pre(poolShortId(p1) !== poolShortId(p2));
        const a = computeNames({ network, poolId: p1, region });
        const b = computeNames({ network, poolId: p2, region });
        expect(a.leaseName).not.toBe(b.leaseName);
        expect(a.clusterName).not.toBe(b.clusterName);
      }),
      { numRuns: 500 },
    );
  });

  it('property: toDns1123Label keeps distinct case-insensitive inputs distinct', () => {
    fc.assert(
      fc.property(anyText, anyText, (x, y) => {
        fc.pre(x.trim().toLowerCase() !== y.trim().toLowerCase());
        expect(toDns1123Label(x)).not.toBe(toDns1123Label(y));
      }),
      { numRuns: 500 },
    );
  });
});

describe('validateNetwork', () => {
  it.each([
    ['mainnet', 764824073, true],
    ['preprod', 1, true],
    ['preview', 2, true],
    ['Mainnet', 764824073, true],
    ['custom', 42, true],
    ['sanchonet', 4, true],
  ])('%s/%d is accepted', (network, magic, ok) => expect(validateNetwork(network, magic).ok).toBe(ok));

  it('reports a magic mismatch like Python does', () => {
    expect(validateNetwork('mainnet', 1)).toEqual({
      ok: false,
      reason: 'network_magic_mismatch',
      message: 'network_magic_mismatch: mainnet expects 764824073, got 1',
    });
    expect(validateNetwork('preview', 1).ok).toBe(false);
  });

  it('rejects an empty network and a non-integer magic', () => {
    expect(validateNetwork('', 1)).toMatchObject({ ok: false, reason: 'invalid_network' });
    expect(validateNetwork('custom', 1.5)).toMatchObject({ ok: false, reason: 'invalid_network_magic' });
    expect(validateNetwork('custom', -1)).toMatchObject({ ok: false, reason: 'invalid_network_magic' });
  });
});

describe('legacyLeaseName (upgrade from the Python sidecar, issue 8 item 9)', () => {
  const base = { network: 'mainnet', poolId: BECH32, region: 'eu' };
  it('is the Python lease exactly when POOL_ID is set and LEASE_NAME is not', () => {
    expect(computeNames(base).legacyLeaseName).toBe(LEGACY_LEASE_NAME);
    expect(computeNames({ ...base, poolId: '' }).legacyLeaseName).toBeNull();
    expect(computeNames({ ...base, leaseNameOverride: 'my-lease' }).legacyLeaseName).toBeNull();
  });
  it('can be turned off, or set to another name, and is never the primary lease itself', () => {
    expect(computeNames({ ...base, legacyLeaseNameOverride: false }).legacyLeaseName).toBeNull();
    expect(computeNames({ ...base, legacyLeaseNameOverride: 'old-lease' }).legacyLeaseName).toBe('old-lease');
    expect(
      computeNames({ ...base, leaseNameOverride: 'same', legacyLeaseNameOverride: 'same' }).legacyLeaseName,
    ).toBeNull();
  });
});
