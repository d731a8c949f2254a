// The production install recipe as the tests run it and as the Dockerfile must run it: one script
// (deploy/image/recipe.sh), the same steps, the same entrypoint. test/unit/dockerfile.test.ts
// checks the Dockerfile against this; test/integration/image.test.ts runs it.
import { join } from 'node:path';

/** The entrypoint inside an installed tree (the framework package's `forge-manager` bin). */
export const ENTRYPOINT_IN_APP = 'packages/framework/dist/cli/main.js';

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
