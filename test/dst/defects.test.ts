// The issue-8 defect scenarios, the seeds that once violated the invariant, and the sweep over
// every fault kind of issue 8. Each failed on the main of 2026-12-03 before the issue-8 fixes; some
// still fail until the remaining fixes (the node-state beliefs: items 2, 4, 8, 10, 11) are merged.
// They check the same invariant as the baseline sweep. Replay: npm run sim -- --scenario <id> |
// --replay <seed> --profile <profile>.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFECT_SCENARIOS, runDefect } from './defects.ts';
import { describeFailure, runSeed, type Profile } from './scenario.ts';
import { explainFirst, summarize, sweep } from './sweep.ts';

interface RegressionSeed {
  readonly seed: number;
  readonly profile: Profile;
  readonly note: string;
}

const regression = JSON.parse(readFileSync(new URL('./regression-seeds.json', import.meta.url), 'utf8')) as {
  seeds: RegressionSeed[];
};

describe('issue 8 defects as named scenarios', () => {
  for (const scenario of DEFECT_SCENARIOS) {
    it(`item ${scenario.item} (${scenario.id}): ${scenario.title}`, async () => {
      const result = await runDefect(scenario);
      expect(result.violation, describeFailure(result)).toBeNull();
    });
  }
});

describe('seeds that once violated the invariant', () => {
  for (const entry of regression.seeds) {
    it(`seed ${entry.seed} (${entry.profile}): ${entry.note}`, async () => {
      const result = await runSeed(entry.seed, entry.profile, true);
      expect(result.violation, describeFailure(result)).toBeNull();
    });
  }
});

const FULL_SEEDS = Number(process.env.DST_FULL_SEEDS ?? 2000);

it(`every issue-8 fault kind: the invariant holds (seeds 1..${FULL_SEEDS})`, async () => {
  const report = await sweep(1, FULL_SEEDS, 'full');
  console.log(summarize('full', 1, report));
  expect(
    report.failures.map((f) => f.seed),
    await explainFirst(report, 'full'),
  ).toEqual([]);
}, 1_800_000);
