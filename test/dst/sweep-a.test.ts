// Half of the baseline sweep (two files so vitest runs them on two workers).
import { expect, it } from 'vitest';
import { explainFirst, summarize, sweep } from './sweep.ts';

const FROM = 1;
const SEEDS = Number(process.env.DST_SEEDS ?? 10_000) / 2;

it(`baseline faults: at most one node forges at every instant and one forges after the faults (seeds ${FROM}..${FROM + SEEDS - 1})`, async () => {
  const report = await sweep(FROM, SEEDS, 'baseline');
  console.log(summarize('baseline', FROM, report));
  expect(
    report.failures.map((f) => f.seed),
    await explainFirst(report, 'baseline'),
  ).toEqual([]);
}, 1_800_000);
