// The multi-region world itself: the checker spans regions and reads the nodes, a seed replays.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  REGIONS_LIVENESS_BOUND_MS,
  RegionsWorld,
  runRegionsProfileSeed,
  runRegionsScenario,
  describeRegionsFailure,
  type RegionsScenario,
} from './regions.ts';
import { Sim } from './sim.ts';

const QUIET: RegionsScenario = {
  name: 'two-regions-uncoordinated',
  layout: {
    regions: [
      { name: 'eu', priority: 1, replicas: 2 },
      { name: 'us', priority: 2, replicas: 1 },
    ],
  },
  quietFromMs: 0,
  endMs: 60_000,
  faults: [],
  checkLiveness: false,
};

describe('multi-region world', () => {
  it('without cross-region coordination each region elects its own forger, and the pool-wide check on the nodes catches it', async () => {
    const world = new RegionsWorld(new Sim(5, true), QUIET.layout, null);
    const result = await runRegionsScenario(world, QUIET, 5, 60_000);
    expect(result.violation?.kind).toBe('safety');
    expect(result.violation?.message).toMatch(
      /2 nodes of the pool forge at once: (eu\/pool-\d, us\/pool-0|us\/pool-0, eu\/pool-\d)/,
    );
    // Each region's own lease let exactly one of its pods forge: the overlap is across regions.
    const on = result.timeline
      .filter((e) => e.what.startsWith('NODE FORGING ON'))
      .map((e) => e.who.split('/')[0]);
    expect(new Set(on)).toEqual(new Set(['eu', 'us']));
  });

  it('assembles one apiserver, CardanoForgeCluster and etcd member per region (two regions: plus a witness)', () => {
    const world = new RegionsWorld(new Sim(5), QUIET.layout, null);
    expect(world.regions.map((r) => [r.name, r.pods.map((p) => p.spec.label)])).toEqual([
      ['eu', ['eu/pool-0', 'eu/pool-1']],
      ['us', ['us/pool-0']],
    ]);
    expect(world.etcd.members.map((m) => m.name)).toEqual(['etcd-eu', 'etcd-us', 'etcd-witness']);
    expect(world.regions[0]!.world.api).not.toBe(world.regions[1]!.world.api);
  });

  it('a regions seed is a deterministic run of the real arbiter: same seed, same timeline', async () => {
    const first = await runRegionsProfileSeed(12, true);
    const second = await runRegionsProfileSeed(12, true);
    expect(second.timeline.length).toBeGreaterThan(500);
    expect(second.timeline).toEqual(first.timeline);
    // The arbiter is in the loop: it created the forger key in etcd, and a node forged.
    expect(first.timeline.some((e) => e.who === 'etcd' && /forger created/.test(e.what))).toBe(true);
    expect(first.timeline.some((e) => e.what.startsWith('NODE FORGING ON'))).toBe(true);
    expect(first.violation).toBeNull();
    expect(REGIONS_LIVENESS_BOUND_MS).toBe(47_799);
  });
});

const regression = JSON.parse(
  readFileSync(new URL('./regions-regression-seeds.json', import.meta.url), 'utf8'),
) as { seeds: { seed: number; note: string }[] };

describe('regions seeds that once violated the invariant', () => {
  for (const entry of regression.seeds) {
    it(`seed ${entry.seed}: ${entry.note}`, async () => {
      const result = await runRegionsProfileSeed(entry.seed, true);
      expect(result.violation, describeRegionsFailure(result)).toBeNull();
    });
  }
});
