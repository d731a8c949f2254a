// A short chaos run in CI: the engine behind `npm run chaos` with a fixed seed and every default fault
// kind, on its own real kube-apiserver (it stops and freezes it), three forge-manager sidecars and three
// simulated cardano-nodes. The invariant is checked continuously from the simulators' event log:
// never two forgers at any instant, and a forger within the liveness bound of every fault-free window.
import { describe, expect, it } from 'vitest';
import { runChaos } from '../chaos/engine.ts';
import { parseFaultList } from '../chaos/faults.ts';

/**
 * Fixed so a failure replays (`npm run chaos -- --seed 20261203 --minutes 1.25 --min-faults 10`). On
 * main 773ae99 its second fault (slow SIGHUP on the forging node + SIGTERM of its sidecar) overlaps:
 * issue 8 item 4; see test/chaos/regression-seeds.json.
 */
const CI_SEED = 20261203;
const CI_DURATION_MS = 75_000;
/**
 * How many faults fit in 75 s depends on the machine (faults and quiet periods last real seconds; a
 * slow CI runner fitted 9): the run goes on until this many have run, for at most 75 s more.
 */
const CI_MIN_FAULTS = 10;

describe('chaos on real processes (short CI run)', () => {
  it(`seed ${CI_SEED}, ${CI_DURATION_MS / 1000} s of random faults: zero overlap, and a forger in every quiet window`, async () => {
    const faults = parseFaultList('default');
    if (!faults.ok) throw new Error(faults.message);
    const result = await runChaos({
      seed: CI_SEED,
      durationMs: CI_DURATION_MS,
      faults: faults.kinds,
      timings: { leaseDuration: 6, renewDeadline: 3, retryPeriod: 1 },
      livenessSlackS: 3,
      concurrency: 2,
      minFaults: CI_MIN_FAULTS,
      keep: false,
      log: () => undefined,
    });
    console.log(result.report);
    expect(result.violation).toBeNull();
    expect(result.stats.forgingIntervals).toBeGreaterThan(0);
    // The final quiet period alone is one window; a run without any proves no liveness.
    expect(result.livenessWindows).toBeGreaterThanOrEqual(1);
    // Can still fail: faults that could not be injected do not count, and the extension is bounded.
    expect(Object.values(result.faultCounts).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(
      CI_MIN_FAULTS,
    );
  }, 480_000);
});
