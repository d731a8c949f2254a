import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin } from '../plugin/define.js';
import { parseConfig } from './load.js';
import { REDACTED, redactConfig } from './redact.js';

describe('redactConfig', () => {
  it('masks secret-looking plugin options, header values and URL passwords; keeps paths', () => {
    const plugin = definePlugin({
      kind: 'health-probe',
      name: '@acme/p',
      version: '1.0.0',
      optionsSchema: z.object({}),
      create: () => ({
        id: 'x',
        check: async () => ({ healthy: true, reason: 'OK', message: '', latencyMs: 0 }),
      }),
    });
    const config = parseConfig({
      podName: 'bp-0',
      node: { metricsUrl: 'http://user:hunter2@127.0.0.1:12798/metrics' },
      plugins: {
        health: [
          {
            use: '@cardano-forge/health-http',
            options: {
              url: 'http://127.0.0.1/h',
              headers: { Authorization: 'Bearer abc', 'X-Trace': 'on' },
              apiKey: 'k',
              bearerToken: 't',
              timeoutMs: 5,
            },
          },
          plugin,
        ],
      },
    });
    const out = redactConfig(config) as {
      plugins: { health: [{ options: Record<string, unknown> }, string] };
      credentials: { source: { kesKey: string } };
      node: { metricsUrl: string };
    };
    const text = JSON.stringify(out);
    for (const secret of ['Bearer abc', '"k"', '"t"', 'hunter2']) expect(text).not.toContain(secret);
    const options = out.plugins.health[0].options;
    expect(options.headers).toEqual({ Authorization: REDACTED, 'X-Trace': REDACTED });
    expect(options.apiKey).toBe(REDACTED);
    expect(options.url).toBe('http://127.0.0.1/h');
    expect(options.timeoutMs).toBe(5);
    expect(out.plugins.health[1]).toBe('@acme/p@1.0.0 (object)');
    expect(out.credentials.source.kesKey).toBe('/secrets/kes.skey');
    expect(out.node.metricsUrl).toContain('REDACTED');
  });
});
