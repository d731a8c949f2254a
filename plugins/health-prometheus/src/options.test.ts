import { describe, expect, it } from 'vitest';
import { healthPrometheusOptionsSchema } from './options.js';
import plugin from './index.js';
import { pluginShapeProblems } from '@cardano-forge/framework';

const parse = (input: unknown) => healthPrometheusOptionsSchema.safeParse(input);
const messages = (input: unknown) => {
  const result = parse(input);
  return result.success ? [] : result.error.issues.map((i) => i.message);
};

describe('health-prometheus options', () => {
  it('is a branded health-probe plugin the loader accepts', () => {
    expect(pluginShapeProblems(plugin)).toEqual([]);
    expect(plugin.kind).toBe('health-probe');
    expect(plugin.name).toBe('@cardano-forge/health-prometheus');
  });

  it('applies defaults to a custom check', () => {
    const result = parse({
      url: 'http://prom:9090',
      checks: [{ name: 'up', query: 'up', op: '==', threshold: 1 }],
    });
    expect(result.success).toBe(true);
    if (!result.success) return;
    expect(result.data.timeoutMs).toBe(5000);
    expect(result.data.checks[0]).toEqual({
      name: 'up',
      query: 'up',
      op: '==',
      threshold: 1,
      aggregate: 'all',
      onNoData: 'fail',
    });
    expect(result.data.preset).toBeUndefined();
  });

  it('expands the preset shorthand with the seed defaults', () => {
    const result = parse({ url: 'http://prom:9090', preset: 'cardano-node-basic' });
    expect(result.success).toBe(true);
    if (!result.success) return;
    expect(result.data.preset).toMatchObject({
      name: 'cardano-node-basic',
      job: 'cardano-node',
      nodeExporterJob: 'node-exporter',
      maxCpuPercent: 90,
      maxMemoryPercent: 90,
      minDiskFreeGb: 10,
      nodeOnNoData: 'fail',
      systemOnNoData: 'fail',
      skip: [],
    });
    expect(result.data.checks).toEqual([]);
  });

  it('goes through the Standard Schema interface the host uses', async () => {
    const ok = await plugin.optionsSchema['~standard'].validate({
      url: 'https://prom.example/prefix',
      preset: { name: 'cardano-node-basic', job: 'relay' },
    });
    expect('value' in ok && ok.value?.preset?.job).toBe('relay');
    const bad = await plugin.optionsSchema['~standard'].validate({ url: 'https://prom.example' });
    expect(bad.issues?.length).toBeGreaterThan(0);
  });

  it('requires a preset or at least one check', () => {
    expect(messages({ url: 'http://prom:9090' })).toContain('configure a preset, checks, or both');
    expect(messages({ url: 'http://prom:9090', checks: [] })).toContain(
      'configure a preset, checks, or both',
    );
  });

  it.each([
    ['a non-http url', { url: 'ftp://prom', preset: 'cardano-node-basic' }],
    ['a missing url', { preset: 'cardano-node-basic' }],
    ['an unknown preset', { url: 'http://p', preset: 'cardano-node-fancy' }],
    ['an unknown operator', { url: 'http://p', checks: [{ name: 'a', query: 'up', op: '=', threshold: 1 }] }],
    [
      'a non-numeric threshold',
      { url: 'http://p', checks: [{ name: 'a', query: 'up', op: '==', threshold: '1' }] },
    ],
    [
      'an infinite threshold',
      { url: 'http://p', checks: [{ name: 'a', query: 'up', op: '<', threshold: Infinity }] },
    ],
    ['an empty query', { url: 'http://p', checks: [{ name: 'a', query: '  ', op: '==', threshold: 1 }] }],
    [
      'an unknown aggregate',
      { url: 'http://p', checks: [{ name: 'a', query: 'up', op: '==', threshold: 1, aggregate: 'most' }] },
    ],
    [
      'onNoData skip (only fail|pass)',
      { url: 'http://p', checks: [{ name: 'a', query: 'up', op: '==', threshold: 1, onNoData: 'skip' }] },
    ],
    ['a misspelt option', { url: 'http://p', preset: 'cardano-node-basic', timeout: 3000 }],
    [
      'a misspelt check field',
      { url: 'http://p', checks: [{ name: 'a', query: 'up', op: '==', threshold: 1, treshold: 2 }] },
    ],
    ['a zero timeout', { url: 'http://p', preset: 'cardano-node-basic', timeoutMs: 0 }],
    ['a fractional timeout', { url: 'http://p', preset: 'cardano-node-basic', timeoutMs: 1.5 }],
    [
      'a selector with braces',
      { url: 'http://p', preset: { name: 'cardano-node-basic', selector: '{cluster="a"}' } },
    ],
    [
      'a bad sync window',
      { url: 'http://p', preset: { name: 'cardano-node-basic', syncWindow: '5 minutes' } },
    ],
    [
      'a CPU limit above 100 %',
      { url: 'http://p', preset: { name: 'cardano-node-basic', maxCpuPercent: 120 } },
    ],
    [
      'an unknown preset check to skip',
      { url: 'http://p', preset: { name: 'cardano-node-basic', skip: ['gpu'] } },
    ],
  ])('rejects %s', (_label, input) => {
    expect(parse(input).success).toBe(false);
  });

  it('rejects duplicate check names, also against preset checks', () => {
    const check = { name: 'cpu', query: 'up', op: '==', threshold: 1 };
    expect(messages({ url: 'http://p', checks: [check, { ...check }] })).toContain(
      'duplicate check name "cpu"',
    );
    expect(messages({ url: 'http://p', preset: 'cardano-node-basic', checks: [check] })).toContain(
      'duplicate check name "cpu"',
    );
    // Skipping the preset's cpu check frees the name.
    expect(
      parse({ url: 'http://p', preset: { name: 'cardano-node-basic', skip: ['cpu'] }, checks: [check] })
        .success,
    ).toBe(true);
  });

  it('refuses a bearer token file together with an Authorization header', () => {
    expect(
      messages({
        url: 'http://p',
        preset: 'cardano-node-basic',
        bearerTokenFile: '/t',
        headers: { Authorization: 'Basic x' },
      }),
    ).toContain('set either bearerTokenFile or an Authorization header, not both');
    expect(
      parse({
        url: 'http://p',
        preset: 'cardano-node-basic',
        bearerTokenFile: '/t',
        headers: { 'X-Scope-OrgID': 'a' },
      }).success,
    ).toBe(true);
  });
});
