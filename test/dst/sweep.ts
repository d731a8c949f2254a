/** A sweep of consecutive seeds: the figures `npm test` prints and the failures with their timelines. */
import { describeFailure, runSeed, type Profile, type RunResult } from './scenario.ts';
import { expect, it } from 'vitest';

export interface SweepReport {
  readonly seeds: number;
  readonly wallMs: number;
  readonly virtualMs: number;
  readonly failures: readonly RunResult[];
}

export async function sweep(from: number, count: number, profile: Profile): Promise<SweepReport> {
  const began = performance.now();
  const failures: RunResult[] = [];
  let virtualMs = 0;
  for (let seed = from; seed < from + count; seed++) {
    const result = await runSeed(seed, profile);
    virtualMs += result.virtualMs;
    // Keep only what the report needs: a failure is replayed from its seed for the timeline.
    if (result.violation !== null) failures.push({ ...result, timeline: [] });
  }
  return { seeds: count, wallMs: performance.now() - began, virtualMs, failures };
}

export function summarize(profile: Profile, from: number, report: SweepReport): string {
  const seconds = report.wallMs / 1000;
  return `deterministic simulation (${profile}): ${report.seeds} seeds ${from}..${from + report.seeds - 1} in ${seconds.toFixed(1)} s wall (${(report.seeds / seconds).toFixed(0)} seeds/s, ${(report.virtualMs / 3_600_000).toFixed(1)} h simulated), ${report.failures.length} violation(s)${report.failures.length > 0 ? `: seeds ${report.failures.map((f) => f.seed).join(', ')}` : ''}`;
}

/** The first failure replayed with the real code's log lines, for the test output. */
export async function explainFirst(report: SweepReport, profile: Profile): Promise<string> {
  const first = report.failures[0];
  if (first === undefined) return '';
  const replay = await runSeed(first.seed, profile, true);
  return `${describeFailure(replay)}\n(replay: npm run sim -- --replay ${first.seed} --profile ${profile})`;
}

/** One vitest case for the baseline half starting at `from` (two files so vitest uses two workers). */
export function baselineHalf(from: number): void {
  const seeds = Number(process.env.DST_SEEDS ?? 10_000) / 2;
  it(`baseline faults: at most one node forges at every instant and one forges after the faults (seeds ${from}..${from + seeds - 1})`, async () => {
    const report = await sweep(from, seeds, 'baseline');
    console.log(summarize('baseline', from, report));
    expect(
      report.failures.map((f) => f.seed),
      await explainFirst(report, 'baseline'),
    ).toEqual([]);
  }, 1_800_000);
}
