// `npm run sim -- --seeds N [--from S] [--profile baseline|full|regions]`: runs N seeds and reports
// every violation; `npm run sim -- --replay S [--profile ...]`: replays one seed with its full timeline.
// `regions`: 2–3 regions on the etcd model with the real arbiter (test/dst/regions.ts).
import { parseArgs } from 'node:util';
import { describeRegionsFailure, runRegionsProfileSeed } from './regions.ts';
import { describeFailure, runSeed, type Profile, type RunResult } from './scenario.ts';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1000' },
    from: { type: 'string', default: '1' },
    replay: { type: 'string' },
    profile: { type: 'string', default: 'baseline' },
    scenario: { type: 'string' },
    scenarios: { type: 'boolean', default: false },
  },
});
const profile = values.profile as Profile | 'regions';
if (profile !== 'baseline' && profile !== 'full' && profile !== 'regions') {
  console.error(`--profile must be baseline, full or regions (got ${values.profile})`);
  process.exit(2);
}
const run = (seed: number, verbose = false): Promise<RunResult> =>
  profile === 'regions' ? runRegionsProfileSeed(seed, verbose) : runSeed(seed, profile, verbose);
const describe = (result: RunResult): string =>
  profile === 'regions' ? describeRegionsFailure(result) : describeFailure(result);

if (values.scenarios || values.scenario !== undefined) {
  const { DEFECT_SCENARIOS, runDefect } = await import('./defects.ts');
  let failed = 0;
  for (const scenario of DEFECT_SCENARIOS) {
    if (values.scenario !== undefined && scenario.id !== values.scenario) continue;
    const result = await runDefect(scenario);
    if (result.violation !== null) failed += 1;
    if (values.scenario !== undefined) console.log(describeFailure(result));
    else
      console.log(
        `${result.violation === null ? 'ok  ' : 'FAIL'} item ${scenario.item.padEnd(3)} ${scenario.id}${result.violation ? `: ${result.violation.kind} at ${(result.violation.atMs / 1000).toFixed(3)} s: ${result.violation.message}` : ''}`,
      );
  }
  process.exit(failed === 0 ? 0 : 1);
}

if (values.replay !== undefined) {
  const seed = Number(values.replay);
  const result = await run(seed, true);
  console.log(describe(result));
  process.exit(result.violation === null ? 0 : 1);
}

const count = Number(values.seeds);
const from = Number(values.from);
const began = performance.now();
const cpuBefore = process.cpuUsage();
const failures: number[] = [];
let virtualMs = 0;
for (let seed = from; seed < from + count; seed++) {
  const result = await run(seed);
  virtualMs += result.virtualMs;
  if (result.violation !== null) {
    failures.push(seed);
    console.log(
      `seed ${seed}: ${result.violation.kind} at ${(result.violation.atMs / 1000).toFixed(3)} s: ${result.violation.message}`,
    );
    console.log(`  faults: ${result.faults.join(' | ')}`);
  }
}
const wallS = (performance.now() - began) / 1000;
const cpu = process.cpuUsage(cpuBefore);
console.log(
  `dst ${profile}: ${count} seeds (${from}..${from + count - 1}) in ${wallS.toFixed(1)} s wall (${(count / wallS).toFixed(0)} seeds/s, ${((cpu.user + cpu.system) / 1000 / count).toFixed(0)} ms CPU per seed, ${(virtualMs / 1000 / 3600).toFixed(1)} h simulated), ${failures.length} violation(s)${failures.length ? `: ${failures.join(', ')}` : ''}`,
);
process.exit(failures.length === 0 ? 0 : 1);
