// The production install recipe as the tests run it and as the Dockerfile must run it: one script
// (deploy/image/recipe.sh), the same steps, the same entrypoint. test/unit/dockerfile.test.ts
// checks the Dockerfile against this; test/integration/image.test.ts runs it.
import { join } from 'node:path';

/** The entrypoint inside an installed tree (the framework package's `forge-manager` bin). */
export const ENTRYPOINT_IN_APP = 'packages/framework/dist/cli/main.js';

/**
 * The Node flags the image starts the sidecar with (Dockerfile ENTRYPOINT; the integration tests
 * and the benchmark start it with the same ones). A sidecar's work is a few small calls a second,
 * so they trade peak JavaScript speed for memory; none changes what the sidecar does or when:
 *  - `--max-semi-space-size=1`: a 1 MiB young generation instead of growing to 16 MiB (x2) under
 *    start-up's allocation and staying there; costs more, smaller minor GCs.
 *  - `--no-opt --no-maglev`: no optimizing compilers, so their code and compiled output are never
 *    paged in (~10 MiB RSS) and no CPU goes to compiling; JavaScript runs in the interpreter and
 *    the baseline compiler (start-up and the loop measured in BENCHMARKS.md with them).
 *  - `--liftoff-only --wasm-wrapper-tiering-budget=2147483647`: WebAssembly (the sidecar's only
 *    module is undici's HTTP/1 parser, llhttp) stays in V8's baseline compiler, and the calls into
 *    it keep the generic wrapper. Otherwise V8 recompiles llhttp with its optimizing compiler on
 *    background threads once responses flow (that compiler's code paged in and a ~10 MiB malloc
 *    arena left behind), and after 1000 calls compiles a wrapper with it (+2.5 MiB of the node
 *    binary's code, minutes into steady state): ~15 MiB RSS in all (bench/notes.md), for parsing a
 *    few small responses a second a little faster. (In a process that only watched a Lease, those
 *    background compiles were most of its CPU: 0.15 s/min against 0.02 with the flags.)
 *  - `--memory-saver-mode`: after a full GC, V8 lets the old generation grow by ~2 MiB before the
 *    next one instead of at least 8 MiB. A sidecar's young generation promotes a little on every
 *    scavenge, so without it the heap climbed from ≈ 80 to ≈ 86 MiB RSS over the first 20 minutes and
 *    stayed there; with it, it stays at ≈ 79 (30-minute runs in bench/notes.md). The price is a
 *    full GC every few minutes, ~10-20 ms of CPU each.
 */
export const SIDECAR_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=1',
  '--no-opt',
  '--no-maglev',
  '--liftoff-only',
  '--wasm-wrapper-tiering-budget=2147483647',
  '--memory-saver-mode',
];

export function imageEntrypoint(app: string): string {
  return join(app, ENTRYPOINT_IN_APP);
}

export const RECIPE = {
  /** Relative to the repository root. */
  path: 'deploy/image/recipe.sh',
  script: (repo: string): string => join(repo, RECIPE.path),
  /** What the image's build and install stages run, in order (args after the script). */
  imageSteps: (out: string, app: string): string[][] => [['build'], ['pack', out], ['install', app]],
  /**
   * What the clean-directory test runs: the image's steps minus `build`, which `npm test` has
   * already done in the repository (pretest: npm run build) and which the image does from scratch.
   */
  localSteps: ({ out, app }: { out: string; app: string }): string[][] =>
    RECIPE.imageSteps(out, app).filter(([step]) => step !== 'build'),
} as const;
