// The README's YAML example must stay a valid configuration for this plugin.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { healthPrometheusOptionsSchema } from './options.js';
import { presetChecks } from './preset.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('has a YAML example whose options validate', () => {
    const block = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const config = parse(block as string) as { plugins: { health: { use: string; options: unknown }[] } };
    const entry = config.plugins.health[0];
    expect(entry?.use).toBe('@cardano-forge/health-prometheus');
    const options = healthPrometheusOptionsSchema.parse(entry?.options);
    expect(options.preset?.nodeSelector).toBe('pod="cardano-bp-0"');
    expect(options.checks[0]?.op).toBe('>=');
  });

  it('documents the preset queries exactly as built with the defaults', () => {
    const options = healthPrometheusOptionsSchema.parse({ url: 'http://p', preset: 'cardano-node-basic' });
    for (const check of presetChecks(options.preset as NonNullable<typeof options.preset>)) {
      expect(readme).toContain(`| \`${check.name}\` | \`${check.query}\` |`);
    }
  });
});
