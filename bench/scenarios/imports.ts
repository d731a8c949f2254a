// What each dependency costs when imported, in a fresh Node process: resident memory after a
// full GC above a bare process, and the time the import takes. Measured in child processes run
// from packages/framework (so they resolve what the framework resolves).
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SIDECAR_NODE_FLAGS } from '../../test/support/image-recipe.ts';
import type { Figure } from '../figures.ts';
import type { BenchContext, Scenario } from './types.ts';

const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
const NODE = join(REPO, 'node_modules/.bin/node');
const FRAMEWORK = join(REPO, 'packages/framework');
const SECTION = 'Import cost (fresh Node process, after a full GC)';

/**
 * What `forge-manager run` loads: node:http's lean ES-module view first (cli/main.ts), then the
 * CLI, the built-in plugins and the sidecar.
 */
const SIDECAR_GRAPH = [
  './dist/cli/http-lean.js',
  './dist/cli/commands.js',
  './dist/cli/builtins.js',
  './dist/manager/run.js',
];

/**
 * What the sidecar imports, one line each: label, the specifiers imported together, and Node flags
 * (default none; the first lines show what the image's flags change for the whole graph).
 */
export const IMPORTS: ReadonlyArray<{ label: string; specifiers: string[]; flags?: readonly string[] }> = [
  { label: "the sidecar's whole module graph, plain node", specifiers: SIDECAR_GRAPH },
  {
    label: `the sidecar's whole module graph, with the image's flags (${SIDECAR_NODE_FLAGS.join(' ')})`,
    specifiers: SIDECAR_GRAPH,
    flags: SIDECAR_NODE_FLAGS,
  },
  { label: '@kubernetes/client-node (the package entry)', specifiers: ['@kubernetes/client-node'] },
  {
    label: "the framework's kube/ client (KubeConfig without the generated models)",
    specifiers: ['./dist/kube/client.js'],
  },
  { label: 'undici', specifiers: ['undici'] },
  { label: 'zod', specifiers: ['zod'] },
  { label: 'prom-client', specifiers: ['prom-client'] },
  { label: 'pino', specifiers: ['pino'] },
  { label: 'pino-pretty', specifiers: ['pino-pretty'] },
  { label: 'yaml', specifiers: ['yaml'] },
  { label: 'js-yaml (client-node and cosmiconfig use it)', specifiers: ['js-yaml'] },
  { label: 'cosmiconfig', specifiers: ['cosmiconfig'] },
  { label: 'reflect-metadata + tsyringe', specifiers: ['reflect-metadata', 'tsyringe'] },
  { label: 'semver, cborg, @noble/hashes', specifiers: ['semver', 'cborg', '@noble/hashes/blake2.js'] },
];

const PROBE = `
const specifiers = JSON.parse(process.argv[1]);
const t0 = performance.now();
for (const s of specifiers) {
  const imported = await import(s);
  if (typeof imported.importHttpLean === 'function') await imported.importHttpLean();
}
const ms = performance.now() - t0;
globalThis.gc(); await new Promise((r) => setTimeout(r, 100)); globalThis.gc();
process.stdout.write(JSON.stringify({ ms, rss: process.memoryUsage().rss / 1048576 }));
`;

async function probe(
  specifiers: string[],
  flags: readonly string[] = [],
): Promise<{ ms: number; rss: number }> {
  const { stdout } = await promisify(execFile)(
    NODE,
    [...flags, '--expose-gc', '--input-type=module', '-e', PROBE, JSON.stringify(specifiers)],
    { cwd: FRAMEWORK },
  );
  return JSON.parse(stdout) as { ms: number; rss: number };
}

export const importsScenario: Scenario = {
  id: 'imports',
  title: SECTION,
  method:
    'Each line imports the named modules in a new `node --expose-gc` process started from ' +
    'packages/framework, runs two full GCs and reads its RSS; the figure is that RSS minus a bare ' +
    'process’s (same measurement, nothing imported), with the time the imports took in brackets. ' +
    'Lines overlap (a module several share is counted in each, and part of each figure is V8 heap ' +
    'grown while compiling and pages of the node binary first touched), so they do not add up: ' +
    'what leaving one module out of the whole graph saves is far less than its line.',
  async run(ctx: BenchContext): Promise<Figure[]> {
    const runs = Math.max(3, ctx.runs);
    const bare: number[] = [];
    for (let i = 0; i < runs; i++) bare.push((await probe([])).rss);
    const bareMedian = [...bare].sort((a, b) => a - b)[Math.floor(bare.length / 2)]!;
    const figures: Figure[] = [
      {
        id: 'imports.bareRssMiB',
        section: SECTION,
        label: 'bare Node process (RSS, absolute)',
        unit: 'MiB',
        samples: bare,
        digits: 1,
      },
    ];
    for (const [i, entry] of IMPORTS.entries()) {
      const rss: number[] = [];
      const ms: number[] = [];
      for (let r = 0; r < runs; r++) {
        const p = await probe(entry.specifiers, entry.flags);
        rss.push(p.rss - bareMedian);
        ms.push(p.ms);
      }
      const msSorted = [...ms].sort((a, b) => a - b);
      const msMedian = msSorted[Math.floor(msSorted.length / 2)]!;
      ctx.log(`  ${entry.label}: +${rss.map((x) => x.toFixed(1)).join('/')} MiB`);
      figures.push({
        id: `imports.${i}.rssMiB`,
        section: SECTION,
        label: entry.label,
        unit: 'MiB',
        samples: rss,
        digits: 1,
        note: `import ${msMedian.toFixed(0)} ms, ${msSorted[0]!.toFixed(0)}–${msSorted.at(-1)!.toFixed(0)}`,
        underLoad: 'RSS the same; import time shorter',
      });
    }
    return figures;
  },
};
