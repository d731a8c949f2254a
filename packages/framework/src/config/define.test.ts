import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { HealthProbe } from '../contracts/index.js';
import { definePlugin } from '../plugin/define.js';
import { defineConfig } from './define.js';
import { parseConfig } from './load.js';

describe('defineConfig', () => {
  it('is the identity and accepts imported plugin objects with typed options', () => {
    const probe = definePlugin({
      kind: 'health-probe',
      name: '@acme/typed',
      version: '1.0.0',
      optionsSchema: z.object({ url: z.url() }),
      create: (ctx): HealthProbe => ({
        id: ctx.instanceId,
        check: async () => ({ healthy: true, reason: 'OK', message: '', latencyMs: 0 }),
      }),
    });
    const input = {
      namespace: 'x',
      plugins: { health: [probe, { use: probe, id: 'b', options: { url: 'http://127.0.0.1/' } }] },
    };
    const config = defineConfig(input);
    expect(config).toBe(input);
    const resolved = parseConfig({ podName: 'p', ...config });
    expect(resolved.plugins.health[0]).toBe(probe);
  });
});
