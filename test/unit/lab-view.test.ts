import { describe, expect, it } from 'vitest';
import {
  forgingPods,
  forgingPodsAcrossRegions,
  podState,
  renderLabView,
  renderRegionsView,
  type LabSnapshot,
  type PodObservation,
  type RegionObservation,
  type RegionsSnapshot,
} from '../lab/view.ts';

function pod(name: string, overrides: Partial<PodObservation> = {}): PodObservation {
  return {
    name,
    sidecarPid: 100,
    nodePid: 200,
    nodeRunning: true,
    nodeForging: false,
    sidecar: { forge: false, leader: false, reason: 'NotLeader' },
    ...overrides,
  };
}

function snapshot(overrides: Partial<LabSnapshot> = {}): LabSnapshot {
  return {
    pods: [
      pod('cardano-bp-0'),
      pod('cardano-bp-1', { nodeForging: true, sidecar: { forge: true, leader: true, reason: 'Forging' } }),
      pod('cardano-bp-2'),
    ],
    lease: { holder: 'cardano-bp-1_uid', acquiredAt: '2026-12-03T06:53:26.000Z' },
    clusters: [
      {
        name: 'lab-cluster',
        basePriority: 100,
        effectivePriority: 90,
        effectiveState: 'Priority-based',
        healthy: true,
        activeLeader: 'cardano-bp-1',
        reason: null,
      },
    ],
    forgersSince: '2026-12-03T06:53:27.000Z',
    activity: null,
    keys: 'keys: h q',
    ...overrides,
  };
}

function rowOf(lines: string[], name: string): string {
  const row = lines.find((l) => l.startsWith(name));
  if (row === undefined) throw new Error(`no row for ${name} in\n${lines.join('\n')}`);
  return row;
}

describe('the lab view', () => {
  it('names the one forger, since when, the leader, the lease holder, priorities and health', () => {
    const lines = renderLabView(snapshot());
    expect(lines).toContain('forger: cardano-bp-1 since 06:53:27');
    expect(lines).toContain('leader: cardano-bp-1 (sidecars that say they lead)');
    expect(lines).toContain('lease:  held by cardano-bp-1_uid since 06:53:26');
    expect(lines).toContain('cluster lab-cluster: priority 100 base → 90 effective, health healthy');
    expect(rowOf(lines, 'cardano-bp-1')).toMatch(/^cardano-bp-1\s+FORGING\s+forge L\s+100\/200\s+Forging$/);
    expect(rowOf(lines, 'cardano-bp-0')).toMatch(/^cardano-bp-0\s+standby\s+standby\s+100\/200\s+NotLeader$/);
    expect(lines.filter((l) => l.includes(' FORGING '))).toHaveLength(1);
  });

  it("takes who forges from the node's metric, not from what the sidecar believes", () => {
    const s = snapshot({
      pods: [
        pod('a', { nodeForging: false, sidecar: { forge: true, leader: true, reason: 'Forging' } }),
        pod('b', { nodeForging: true, sidecar: { forge: false, leader: false, reason: 'NotLeader' } }),
      ],
    });
    expect(forgingPods(s)).toEqual(['b']);
    expect(renderLabView(s)).toContain('forger: b since 06:53:27');
  });

  it('shows a node whose metric did not answer as UNKNOWN (may be forging), never as standby', () => {
    const silent = pod('a', { nodeForging: null });
    expect(podState(silent)).toBe('UNKNOWN');
    expect(podState(pod('b', { nodeRunning: false, nodeForging: null }))).toBe('node down');
    const lines = renderLabView(snapshot({ pods: [silent, pod('b')] }));
    expect(lines).toContain('forger: none since 06:53:27; may be forging (metric unanswered): a');
  });

  it('calls out two forgers at once as a broken invariant', () => {
    const s = snapshot({ pods: [pod('a', { nodeForging: true }), pod('b', { nodeForging: true })] });
    expect(forgingPods(s)).toEqual(['a', 'b']);
    expect(renderLabView(s)[2]).toMatch(/^forger: 2 PODS AT ONCE \(a, b\) — invariant broken/);
  });

  it('says when cluster management is off, when there is no lease yet, and when health has no probe', () => {
    expect(renderLabView(snapshot({ clusters: null, lease: null }))).toEqual(
      expect.arrayContaining(['cluster management: off', 'lease:  not created yet']),
    );
    const cluster = snapshot().clusters?.[0];
    if (cluster === undefined) throw new Error('fixture has a cluster');
    const lines = renderLabView(snapshot({ clusters: [{ ...cluster, healthy: false }] }));
    expect(lines.some((l) => l.endsWith('health UNHEALTHY'))).toBe(true);
    expect(
      renderLabView(snapshot({ clusters: [{ ...cluster, healthy: null }] })).some((l) =>
        l.endsWith('health no probe'),
      ),
    ).toBe(true);
  });

  it('fits a 100×30 terminal, even with long reasons, and is the same for the same snapshot', () => {
    const long = 'x'.repeat(300);
    const s = snapshot({
      pods: [0, 1, 2].map((i) =>
        pod(`cardano-bp-${i}`, { sidecar: { forge: false, leader: false, reason: long } }),
      ),
      lease: { holder: long, acquiredAt: null },
      activity: long,
    });
    const lines = renderLabView(s, 100);
    expect(lines.length).toBeLessThanOrEqual(29); // one row left for the cursor
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100);
    expect(rowOf(lines, 'cardano-bp-0').endsWith('…')).toBe(true);
    expect(renderLabView(s, 100)).toEqual(lines);
    expect(renderLabView(s, 60).every((l) => l.length <= 60)).toBe(true);
  });

  it('shows the running step and the keys', () => {
    const lines = renderLabView(snapshot({ activity: 'handoff: SIGTERM a' }));
    expect(lines.slice(-2)).toEqual(['> handoff: SIGTERM a', 'keys: h q']);
  });
});

function region(name: string, priority: number, forgingPod: number | null): RegionObservation {
  return {
    name,
    priority,
    cluster: {
      name: `preprod-pool1rgns0-${name}`,
      basePriority: priority,
      effectivePriority: priority,
      effectiveState: 'Priority-based',
      healthy: true,
      activeLeader: `${name}-bp-0`,
      reason: null,
    },
    healthEndpoint: 'healthy',
    pods: [0, 1].map((i) =>
      pod(`${name}-bp-${i}`, {
        nodeForging: forgingPod === i,
        sidecar: {
          forge: forgingPod === i,
          leader: i === 0,
          reason: forgingPod === i ? 'Forging' : 'NotLeader',
        },
      }),
    ),
  };
}

function regionsSnapshot(overrides: Partial<RegionsSnapshot> = {}): RegionsSnapshot {
  return {
    regions: [region('eu', 1, 0), region('us', 2, null), region('ap', 3, null)],
    forgersSince: '2026-12-03T06:53:27.000Z',
    activity: null,
    keys: 'keys: m q',
    ...overrides,
  };
}

describe('the lab view, regions mode', () => {
  it('names the forging region and pod from the nodes’ metrics, and each region’s policy', () => {
    const lines = renderRegionsView(regionsSnapshot());
    expect(lines).toContain('forging region: eu (pod eu-bp-0) since 06:53:27');
    expect(lines).toContain('region eu, priority 1 ◀ FORGING');
    expect(lines).toContain(
      '  state Priority-based, effective priority 1, health healthy (endpoint: healthy)',
    );
    expect(lines.find((l) => l.startsWith('region us'))).not.toContain('FORGING');
    expect(lines.filter((l) => / FORGING /.test(l))).toHaveLength(1);
  });

  it('calls out forgers in two regions as a broken invariant, and unanswered metrics as maybe forging', () => {
    const two = regionsSnapshot({ regions: [region('eu', 1, 0), region('us', 2, 1)] });
    expect(forgingPodsAcrossRegions(two)).toEqual(['eu/eu-bp-0', 'us/us-bp-1']);
    expect(renderRegionsView(two)[2]).toMatch(
      /^forging: 2 PODS AT ONCE \(eu\/eu-bp-0, us\/us-bp-1\) — invariant broken/,
    );
    const silent = region('us', 2, null);
    const unknown = regionsSnapshot({
      regions: [region('eu', 1, null), { ...silent, pods: [pod('us-bp-0', { nodeForging: null })] }],
    });
    expect(renderRegionsView(unknown)[2]).toBe(
      'forging region: none since 06:53:27; may be forging (metric unanswered): us/us-bp-0',
    );
  });

  it('shows what the arbiter wrote into the CardanoForgeCluster status (global mode)', () => {
    const us = region('us', 2, null);
    const withArbiter: RegionObservation = {
      ...us,
      cluster: {
        ...us.cluster!,
        arbiter: { forgingRegion: 'eu', rank: 2, role: 'candidate', reason: 'BetterRegionForging' },
      },
    };
    const lines = renderRegionsView(regionsSnapshot({ regions: [region('eu', 1, 0), withArbiter] }));
    expect(lines).toContain('  arbiter: forging region eu, rank 2, candidate (BetterRegionForging)');
  });

  it('shows a region whose apiserver does not answer, and fits a 100×30 terminal with three regions', () => {
    const lost = { ...region('eu', 1, null), cluster: null };
    const lines = renderRegionsView(
      regionsSnapshot({
        regions: [lost, region('us', 2, 0), region('ap', 3, null)],
        activity: 'x'.repeat(300),
      }),
      100,
    );
    expect(lines[lines.indexOf('region eu, priority 1') + 1]).toBe('  CardanoForgeCluster: no answer');
    expect(lines.length).toBeLessThanOrEqual(29);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100);
  });
});
