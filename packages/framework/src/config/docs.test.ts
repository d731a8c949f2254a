import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_DESCRIPTIONS } from './descriptions.js';
import { configKeys, renderConfigurationDoc } from './docs.js';
import { ENV_BINDINGS } from './env.js';

const checkedIn = fileURLToPath(new URL('../../../../docs/configuration.md', import.meta.url));

describe('docs/configuration.md', () => {
  it('is current (run `npm run docs:config` after changing the config schema)', () => {
    expect(readFileSync(checkedIn, 'utf8')).toBe(renderConfigurationDoc());
  });

  it('describes every key, and only existing keys', () => {
    const paths = configKeys().map((k) => k.path);
    expect(paths.filter((p) => CONFIG_DESCRIPTIONS[p] === undefined)).toEqual([]);
    expect(Object.keys(CONFIG_DESCRIPTIONS).filter((p) => !paths.includes(p))).toEqual([]);
  });

  it('lists every environment variable next to its key', () => {
    const listed = configKeys().flatMap((k) => (k.env ? [k.env] : []));
    expect(listed.sort()).toEqual(ENV_BINDINGS.map((b) => b.env).sort());
  });

  it('shows defaults, including computed ones', () => {
    const byPath = new Map(configKeys().map((k) => [k.path, k]));
    expect(byPath.get('election.leaseDurationSeconds')).toMatchObject({
      defaultValue: '`15`',
      env: 'LEASE_DURATION',
    });
    expect(byPath.get('election.renewDeadlineSeconds')?.defaultValue).toBe('`10`');
    expect(byPath.get('node.pidDiscovery')?.type).toBe('"socket" \\| "name"');
    expect(byPath.get('plugins.health')?.type).toBe('list of plugin ref');
  });
});
