// The Dockerfile cannot drift from the recipe the clean-directory test runs: its stages must run
// deploy/image/recipe.sh with the same steps, copy exactly the installed tree into the runtime
// stage, run as a non-root UID on Node 24, and start the entrypoint the test starts.
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENTRYPOINT_IN_APP, RECIPE, SIDECAR_NODE_FLAGS } from '../support/image-recipe.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const DOCKERFILE = join(REPO, 'deploy/image/Dockerfile');
const APP = '/app';

interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

function parseStages(text: string): { args: Map<string, string>; stages: Stage[] } {
  const dockerfile = DockerfileParser.parse(text);
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    const words = instruction.getArguments().map((a) => a.getValue());
    if (keyword === 'FROM') {
      const as = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({
        name: as >= 0 ? words[as + 1]! : String(stages.length),
        from: words[0]!,
        instructions: [],
      });
    } else if (stages.length === 0 && keyword === 'ARG') {
      const [name, value] = words[0]!.split('=');
      args.set(name!, value ?? '');
    } else stages.at(-1)?.instructions.push(instruction);
  }
  return { args, stages };
}

/** Flags (COPY --from=…) first, then the arguments; dockerfile-ast keeps them apart. */
const words = (i: Instruction): string[] => {
  const flags =
    'getFlags' in i && typeof i.getFlags === 'function'
      ? (i.getFlags() as Array<{ toString(): string }>)
      : [];
  return [...flags.map((f) => f.toString()), ...i.getArguments().map((a) => a.getValue())];
};
const ofKind = (stage: Stage, keyword: string): Instruction[] =>
  stage.instructions.filter((i) => i.getKeyword() === keyword);
/** RUN lines that call the recipe, as [script, ...args]. */
const recipeRuns = (stage: Stage): string[][] =>
  ofKind(stage, 'RUN')
    .map(words)
    .filter((w) => w[0] === 'bash' && w[1]?.endsWith('recipe.sh'))
    .map((w) => w.slice(1));

const { args, stages } = parseStages(readFileSync(DOCKERFILE, 'utf8'));
const stage = (name: string): Stage => {
  const found = stages.find((s) => s.name === name);
  if (!found)
    throw new Error(`Dockerfile has no stage "${name}" (stages: ${stages.map((s) => s.name).join(', ')})`);
  return found;
};

describe('deploy/image/Dockerfile follows deploy/image/recipe.sh', () => {
  it('every stage is Node 24', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'install', 'runtime']);
    for (const s of stages) {
      const image = s.from.replace(/^\$\{(\w+)\}$/, (_, name: string) => args.get(name) ?? '');
      expect(image, `stage ${s.name}`).toMatch(/^node:24([.-]|$)/);
    }
  });

  it('build and install stages run exactly the recipe steps, and nothing else installs', () => {
    const out = '/out';
    const steps = RECIPE.imageSteps(out, APP);
    const ran = [...recipeRuns(stage('build')), ...recipeRuns(stage('install'))].map(([, ...rest]) => rest);
    expect(ran).toEqual(steps);
    expect(recipeRuns(stage('build')).every(([script]) => script === RECIPE.path)).toBe(true);
    // No RUN outside the recipe (an `npm install` there would ship an untested tree).
    for (const s of stages)
      for (const run of ofKind(s, 'RUN'))
        expect(words(run).slice(0, 2), `stage ${s.name}`).toEqual([
          'bash',
          expect.stringMatching(/recipe\.sh$/),
        ]);
    // The install stage gets the packed app and the same script from the build stage.
    const copies = ofKind(stage('install'), 'COPY').map(words);
    expect(copies).toContainEqual(['--from=build', `${out}/app`, APP]);
    expect(copies).toContainEqual(['--from=build', `/src/${RECIPE.path}`, '/recipe.sh']);
  });

  it('runtime stage: only the installed tree, a numeric non-root user, the tested entrypoint', () => {
    const runtime = stage('runtime');
    expect(ofKind(runtime, 'COPY').map(words)).toEqual([['--from=install', APP, APP]]);
    const user = words(ofKind(runtime, 'USER').at(-1)!)[0]!;
    const [uid, gid] = user.split(':').map(Number);
    // Numeric, so Kubernetes runAsNonRoot can verify it without /etc/passwd.
    expect(uid).toBeGreaterThan(0);
    expect(gid).toBeGreaterThan(0);
    const raw = (keyword: string): string =>
      ofKind(runtime, keyword)[0]?.getRawArgumentsContent()?.trim() ?? '';
    // Exec form (JSON): node itself is PID 1 and receives SIGTERM (no shell in between).
    expect(raw('ENTRYPOINT').startsWith('[')).toBe(true);
    // With the Node flags the tests and the benchmark run the sidecar with.
    expect(JSON.parse(raw('ENTRYPOINT'))).toEqual([
      'node',
      ...SIDECAR_NODE_FLAGS,
      `${APP}/${ENTRYPOINT_IN_APP}`,
    ]);
    expect(JSON.parse(raw('CMD'))).toEqual(['run']);
  });

  it("the entrypoint is the framework package's forge-manager bin", () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'packages/framework/package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(`packages/framework/${pkg.bin['forge-manager']!.replace(/^\.\//, '')}`).toBe(ENTRYPOINT_IN_APP);
  });
});
