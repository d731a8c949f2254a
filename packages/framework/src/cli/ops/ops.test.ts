import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseDuration } from './failover.js';
import type { Located } from './find.js';
import type { ClusterObject, Target } from './kube.js';
import { MAINTENANCE_ANNOTATION, maintenancePatch } from './maintenance.js';
import { renderStatus, statusView } from './status.js';

const target = (context: string): Target => ({
  context,
  namespace: 'pools',
  server: 'https://example.invalid',
  kubeConfig: new KubeConfig(),
  group: 'cardano.io',
});

const cluster = (name: string, extra: Partial<ClusterObject> = {}): ClusterObject => ({
  metadata: { name, resourceVersion: '7', ...extra.metadata },
  spec: {
    network: { name: 'mainnet' },
    pool: { id: 'pool1x' },
    region: name.split('-').at(-1)!,
    ...extra.spec,
  },
  ...(extra.status ? { status: extra.status } : {}),
});

const NOW = new Date('2026-03-01T12:00:00Z');

describe('maintenancePatch', () => {
  it('on: Disabled, previous state in an annotation, guarded by resourceVersion', () => {
    const plan = maintenancePatch(cluster('c-eu', { spec: { forgeState: 'Enabled' } }), 'on', NOW);
    expect(plan?.patch).toEqual({
      metadata: {
        resourceVersion: '7',
        annotations: {
          [MAINTENANCE_ANNOTATION]: 'Enabled',
          'cardano.io/maintenance-since': '2026-03-01T12:00:00.000Z',
        },
      },
      spec: { forgeState: 'Disabled' },
    });
  });

  it('off restores the recorded state; repeated on/off are no-ops', () => {
    const inMaintenance = cluster('c-eu', {
      metadata: { name: 'c-eu', annotations: { [MAINTENANCE_ANNOTATION]: 'Priority-based' } },
      spec: { forgeState: 'Disabled' },
    });
    expect(maintenancePatch(inMaintenance, 'on', NOW)).toBeNull();
    expect(maintenancePatch(inMaintenance, 'off', NOW)?.patch).toMatchObject({
      spec: { forgeState: 'Priority-based' },
      metadata: { annotations: { [MAINTENANCE_ANNOTATION]: null } },
    });
    expect(maintenancePatch(cluster('c-eu'), 'off', NOW)).toBeNull();
  });

  it('refuses what it cannot do correctly', () => {
    expect(() =>
      maintenancePatch(
        cluster('c-eu', { spec: { override: { enabled: true, forceState: 'Enabled' } } }),
        'on',
        NOW,
      ),
    ).toThrow(/an override forces state Enabled, which beats maintenance/);
    expect(() => maintenancePatch(cluster('c-eu', { spec: { forgeState: 'Disabled' } }), 'off', NOW)).toThrow(
      /not by forge-manager maintenance/,
    );
  });
});

describe('parseDuration', () => {
  it.each([
    ['2h', 7_200_000],
    ['90m', 5_400_000],
    ['1h30m', 5_400_000],
    ['45s', 45_000],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', '2', '2 hours', '0m', '-1h'])('rejects %j', (text) =>
    expect(() => parseDuration(text)).toThrow(/--for/),
  );
});

describe('status view', () => {
  const located: Located[] = [
    {
      target: target('eu'),
      cluster: cluster('c-eu', {
        status: {
          effectiveState: 'Priority-based',
          effectivePriority: 100,
          activeLeader: 'bp-0',
          forgingEnabled: true,
          lastTransition: '2026-01-01T00:00:00Z',
          healthStatus: { healthy: true },
        },
      }),
    },
    {
      target: target('us'),
      cluster: cluster('c-us', {
        spec: { override: { enabled: true, forcePriority: 1 } },
        status: {
          effectivePriority: 1,
          forgingEnabled: true,
          override: { active: true, message: 'manual override (priority 1)' },
          conditions: [{ type: 'HealthCheckPassing', status: 'Unknown', reason: 'NoProbesConfigured' }],
        },
      }),
    },
  ];

  it('renders one row per cluster and warns when two clusters of a pool forge', () => {
    const text = renderStatus(statusView(located, []));
    const lines = text.split('\n');
    expect(lines[1]).toMatch(
      /^eu\s+c-eu\s+eu\s+Priority-based → Priority-based\s+100 → 100\s+healthy\s+bp-0\s+yes/,
    );
    expect(lines[2]).toMatch(
      /^us\s+c-us\s+us\s+Priority-based → \? \(override\)\s+100 → 1\s+no probes\s+-\s+yes/,
    );
    expect(text).toContain('us/c-us: manual override (priority 1)');
    expect(text).toContain('WARNING: 2 clusters of pool mainnet/pool1x report forging (eu/c-eu, us/c-us)');
  });

  it('matches leases to CardanoLeaders of the same name', () => {
    const view = statusView(
      [],
      [
        {
          context: 'eu',
          namespace: 'pools',
          leaders: [
            {
              metadata: { name: 'cardano-leader-mainnet-pool1x' },
              status: { leaderPod: 'bp-0', forgingEnabled: true },
            },
          ],
          leases: [
            {
              metadata: { name: 'cardano-leader-mainnet-pool1x' },
              spec: { holderIdentity: 'bp-0', leaseTransitions: 2 },
            },
            { metadata: { name: 'kube-scheduler' }, spec: { holderIdentity: 'x' } },
          ],
        },
      ],
    );
    expect(view.leases).toEqual([
      {
        context: 'eu',
        namespace: 'pools',
        lease: 'cardano-leader-mainnet-pool1x',
        holder: 'bp-0',
        renewed: null,
        transitions: 2,
        leaderPod: 'bp-0',
        forging: true,
      },
    ]);
  });
});
