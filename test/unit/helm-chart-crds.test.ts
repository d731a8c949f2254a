// The chart ships the CRDs in its crds/ folder (Helm installs them before the templates); they must
// be byte-identical to deploy/crds, which the tests install into the real apiserver.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE = join(REPO, 'deploy/crds');
const CHART = join(REPO, 'deploy/helm/cardano-forge/crds');

describe('deploy/helm/cardano-forge/crds', () => {
  it('holds exactly the files of deploy/crds, byte for byte (copy them over after a CRD change)', () => {
    const source = readdirSync(SOURCE).sort();
    expect(source.length).toBeGreaterThan(0);
    expect(readdirSync(CHART).sort()).toEqual(source);
    for (const file of source)
      expect(
        readFileSync(join(CHART, file), 'utf8'),
        `${file} drifted: cp deploy/crds/*.yaml deploy/helm/cardano-forge/crds/`,
      ).toBe(readFileSync(join(SOURCE, file), 'utf8'));
  });
});
