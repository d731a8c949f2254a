// `npm run bench`: figures, not assertions, on the real apiserver with simulated nodes.
//   npm run bench [-- --write] [--only a,b] [--runs N] [--steady-runs N] [--steady-seconds S] [--steady-warmup S]
// --write regenerates BENCHMARKS.md; results always go to .bench/results.json.
// --report-only regenerates BENCHMARKS.md from .bench/results.json without measuring (after
// editing bench/notes.md or the report's layout).
// BENCH_FORGE_CLI=<path to another build's cli/main.js> measures that build instead.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startControlPlane, type ControlPlane } from '../test/controlplane/index.ts';
import { formatValue, stats } from './figures.ts';
import { load1, machineInfo } from './machine.ts';
import { renderMarkdown, type BenchResults, type ScenarioResult } from './report.ts';
import { decideScenario } from './scenarios/decide.ts';
import { failoverScenario } from './scenarios/failover.ts';
import { importsScenario } from './scenarios/imports.ts';
import { steadyScenario } from './scenarios/steady.ts';
import type { Scenario } from './scenarios/types.ts';

const REPO = resolve(fileURLToPath(import.meta.url), '../..');
/** The defaults: lease timings of the chart and the Python sidecar, loop.intervalSeconds. */
const TIMINGS = { leaseDuration: 15, renewDeadline: 10, retryPeriod: 2, interval: 5 };

const { values } = parseArgs({
  options: {
    write: { type: 'boolean', default: false },
    'report-only': { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string', default: process.env['BENCH_RUNS'] ?? '5' },
    'steady-runs': { type: 'string', default: '3' },
    'steady-seconds': { type: 'string', default: '120' },
    'steady-warmup': { type: 'string', default: '300' },
  },
});

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`bench: --${name} must be a positive integer, got "${text}"`);
  return n;
}

/**
 * With --only, the scenarios not run keep their previous results (each says when it ran), so one
 * scenario can be re-measured without running them all.
 */
async function mergeWithPrevious(
  fresh: ScenarioResult[],
  order: readonly string[],
): Promise<ScenarioResult[]> {
  const previous = await readFile(join(REPO, '.bench/results.json'), 'utf8')
    .then((text) => (JSON.parse(text) as BenchResults).scenarios.filter((s) => typeof s.at === 'string'))
    .catch(() => [] as ScenarioResult[]);
  const byId = new Map<string, ScenarioResult>(previous.map((s) => [s.id, s]));
  for (const s of fresh) byId.set(s.id, s);
  return order.flatMap((id) => byId.get(id) ?? []);
}

async function writeReport(report: BenchResults): Promise<void> {
  const notes = await readFile(join(REPO, 'bench/notes.md'), 'utf8').catch(() => '');
  await writeFile(join(REPO, 'BENCHMARKS.md'), renderMarkdown(report, notes));
  console.log('written BENCHMARKS.md');
}

async function main(): Promise<void> {
  if (values['report-only']) {
    const text = await readFile(join(REPO, '.bench/results.json'), 'utf8').catch(() => {
      throw new Error('bench: no .bench/results.json yet: run npm run bench first');
    });
    return writeReport(JSON.parse(text) as BenchResults);
  }
  const runs = positiveInt('runs', values.runs);
  const scenarios: Scenario[] = [
    decideScenario,
    importsScenario,
    failoverScenario,
    steadyScenario({
      runs: positiveInt('steady-runs', values['steady-runs']),
      seconds: positiveInt('steady-seconds', values['steady-seconds']),
      // Past start-up's one-off work (bench/notes.md: V8's memory reducer runs at ~2 and ~4 min).
      warmupSeconds: positiveInt('steady-warmup', values['steady-warmup']),
    }),
  ];
  const only = values.only?.split(',').filter((s) => s !== '');
  const unknown = only?.filter((id) => !scenarios.some((s) => s.id === id)) ?? [];
  if (unknown.length > 0)
    throw new Error(
      `bench: unknown scenario ${unknown.join(', ')}; known: ${scenarios.map((s) => s.id).join(', ')}`,
    );
  const selected = only ? scenarios.filter((s) => only.includes(s.id)) : scenarios;

  const dir = await mkdtemp(join(tmpdir(), 'forge-bench-'));
  let cp: ControlPlane | null = null;
  const results: ScenarioResult[] = [];
  try {
    const ctx = {
      controlPlane: async () =>
        (cp ??= await startControlPlane({
          name: `bench-${process.pid}`,
          auditNamespaces: selected.flatMap((s) => s.auditNamespaces ?? []),
        })),
      runDir: async (name: string) => {
        const d = join(dir, name);
        await mkdir(d, { recursive: true });
        return d;
      },
      runs,
      timings: TIMINGS,
      log: (line: string) => console.log(line),
    };
    for (const scenario of selected) {
      console.log(`${scenario.title}`);
      const loadStart = load1();
      const at = new Date().toISOString();
      const figures = await scenario.run(ctx);
      results.push({ ...scenario, at, load: [loadStart, load1()], figures });
      for (const f of figures) {
        const s = stats(f.samples);
        console.log(
          `  ${f.label}: median ${formatValue(s.median, f)} ${f.unit} (${formatValue(s.min, f)}–${formatValue(s.max, f)}, n=${s.n})`,
        );
      }
    }
  } finally {
    await (cp as ControlPlane | null)?.stop();
    // BENCH_KEEP=1 keeps the sidecars' logs and the simulators' event logs.
    if (process.env['BENCH_KEEP'] === '1') console.log(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
  const versions: Record<string, string> = {};
  const plane = cp as ControlPlane | null;
  if (plane !== null) {
    versions['kube-apiserver'] = plane.versions.kubeApiserver;
    versions['etcd'] = plane.versions.etcd;
  }
  const report: BenchResults = {
    at: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, ''),
    machine: machineInfo(),
    versions,
    timings: TIMINGS,
    runs,
    ...(process.env['BENCH_FORGE_CLI'] ? { comparedCli: process.env['BENCH_FORGE_CLI'] } : {}),
    scenarios: await mergeWithPrevious(
      results.map(({ at, id, title, method, load, figures }) => ({ at, id, title, method, load, figures })),
      scenarios.map((s) => s.id),
    ),
  };
  await mkdir(join(REPO, '.bench'), { recursive: true });
  await writeFile(join(REPO, '.bench/results.json'), JSON.stringify(report, null, 2));
  console.log('written .bench/results.json');
  if (values.write) await writeReport(report);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
