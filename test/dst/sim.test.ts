import { describe, expect, it } from 'vitest';
import { scripted } from './defects.ts';
import { describeFailure, runScenario, runSeed } from './scenario.ts';
import { World } from './world.ts';
import { Owner, podClock, Sim } from './sim.ts';

describe('simulation kernel', () => {
  it('advances virtual time only when every task is idle, and fires timers in order', async () => {
    const sim = new Sim(1);
    const owner = new Owner('t');
    const clock = podClock(sim, () => owner, 1, 0);
    const seen: string[] = [];
    void (async () => {
      for (let i = 0; i < 1000; i++) await Promise.resolve();
      seen.push(`chain done at ${sim.now}`);
    })();
    void clock.sleep(10).then(() => seen.push(`10 ms at ${sim.now}`));
    void clock.sleep(5).then(() => seen.push(`5 ms at ${sim.now}`));
    await sim.run(100);
    expect(seen).toEqual(['chain done at 0', '5 ms at 5', '10 ms at 10']);
    expect(sim.now).toBe(100);
  });

  it('rejects a sleep when its signal aborts and never fires it', async () => {
    const sim = new Sim(1);
    const owner = new Owner('t');
    const clock = podClock(sim, () => owner, 1, 0);
    const abort = new AbortController();
    const outcome = clock.sleep(50, abort.signal).then(
      () => 'fired',
      () => `aborted at ${sim.now}`,
    );
    sim.at(owner, 20, () => abort.abort());
    await sim.run(100);
    expect(await outcome).toBe('aborted at 20');
  });

  it("holds a frozen owner's timers until it thaws and drops a killed owner's", async () => {
    const sim = new Sim(1);
    const frozen = new Owner('frozen');
    const killed = new Owner('killed');
    const fired: string[] = [];
    sim.at(frozen, 10, () => fired.push(`frozen timer at ${sim.now}`));
    sim.at(killed, 10, () => fired.push('killed timer'));
    sim.freeze(frozen);
    sim.kill(killed);
    sim.at(sim.world, 30, () => sim.thaw(frozen));
    await sim.run(100);
    expect(fired).toEqual(['frozen timer at 30']);
  });

  it('runs a pod clock at its drift rate', async () => {
    const sim = new Sim(1);
    const owner = new Owner('t');
    const fast = podClock(sim, () => owner, 1.001, 0);
    const start = fast.monotonicMs();
    let woke = -1;
    void fast.sleep(1001).then(() => (woke = sim.now));
    await sim.run(2000);
    expect(fast.monotonicMs() - start).toBeCloseTo(2002, 6);
    expect(woke).toBeCloseTo(1000, 6);
  });
});

describe('a seed is a deterministic run of the real sidecar code', () => {
  it('replays the same seed to the same timeline, event by event', async () => {
    for (const seed of [4242, 7, 36]) {
      const first = await runSeed(seed, 'full', true);
      const second = await runSeed(seed, 'full', true);
      expect(second.timeline.length).toBeGreaterThan(100);
      expect(second.timeline).toEqual(first.timeline);
      expect(second.violation).toEqual(first.violation);
    }
  });

  it('a quiet pool elects one leader whose node forges, checked on the node model', async () => {
    const result = await runSeed(1, 'baseline', true);
    const on = result.timeline.filter((e) => e.what.startsWith('NODE FORGING ON'));
    expect(on.length).toBeGreaterThan(0);
    expect(result.violation).toBeNull();
  });
});

describe('the cluster manager in the loop', () => {
  it('Disabled stops forging on the nodes and Priority-based brings one back within the bound', async () => {
    const world = new World(77, true);
    const scenario = scripted(
      world,
      'cluster-disable-enable',
      [
        { atMs: 25_000, what: 'Disabled', run: (w) => w.cluster?.setForgeState('Disabled') },
        { atMs: 45_000, what: 'Priority-based', run: (w) => w.cluster?.setForgeState('Priority-based') },
      ],
      {
        quietFromMs: 45_000,
        setup: (w) => {
          w.enableClusterManagement();
          w.sim.at(w.sim.world, 27_000, () => {
            if (w.forgers().length > 0)
              w.requirementBroken(`${w.forgers().join(', ')} still forges 2 s after Disabled`);
            w.forgingListeners.push((who, forging) => {
              if (forging && w.sim.now < 45_000) w.requirementBroken(`${who} forges while Disabled`);
            });
          });
        },
      },
    );
    const result = await runScenario(world, scenario, 77);
    expect(result.violation, describeFailure(result)).toBeNull();
    expect(result.timeline.filter((e) => e.what.startsWith('NODE FORGING ON')).length).toBeGreaterThanOrEqual(
      2,
    );
  });
});
