import { createRequire } from 'node:module';
import type * as PerfHooks from 'node:perf_hooks';
import { PassThrough } from 'node:stream';
import { Counter, register as globalRegistry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addMetricsRoute, createHttpServer, type HttpServer } from './http.js';
import { createLogger } from './logger.js';
import { createMetricsRegistry, EVENT_LOOP_SAMPLE_MS } from './metrics.js';

let server: HttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('createMetricsRegistry', () => {
  it('makes an independent registry with process metrics, never the global one', async () => {
    const a = createMetricsRegistry();
    const b = createMetricsRegistry();
    expect(a).not.toBe(globalRegistry);
    new Counter({ name: 'forge_test_total', help: 'x', registers: [a] });
    expect(await a.metrics()).toContain('forge_test_total');
    expect(await b.metrics()).not.toContain('forge_test_total');
    expect(await a.metrics()).toContain('process_cpu_user_seconds_total');
  });

  it('samples the event loop once a second, not every 10 ms (an idle sidecar woke 100 times a second)', async () => {
    // prom-client reaches perf_hooks through require; spy on that same module object.
    const perfHooks = createRequire(import.meta.url)('node:perf_hooks') as typeof PerfHooks;
    const monitor = vi.spyOn(perfHooks, 'monitorEventLoopDelay');
    try {
      const registry = createMetricsRegistry();
      expect(monitor).toHaveBeenCalledWith({ resolution: EVENT_LOOP_SAMPLE_MS });
      expect(EVENT_LOOP_SAMPLE_MS).toBeGreaterThanOrEqual(1000);
      expect(await registry.metrics()).toContain('nodejs_eventloop_lag_p99_seconds');
    } finally {
      monitor.mockRestore();
    }
  });
});

describe('createLogger', () => {
  it('writes JSON lines at the configured level', () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c.toString()));
    const logger = createLogger({ level: 'warn', pretty: false, destination: stream });
    logger.info('hidden');
    logger.warn({ pod: 'bp-0' }, 'shown');
    const lines = chunks
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'shown', pod: 'bp-0', level: 40 });
  });

  it('pretty output (loaded only when asked for) is one readable line, not JSON', () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c.toString()));
    const logger = createLogger({ level: 'info', pretty: true, destination: stream });
    logger.info({ pod: 'bp-0' }, 'readable');
    const text = chunks.join('');
    expect(text).toMatch(/INFO.*readable/);
    expect(text).toMatch(/pod: "bp-0"/);
    expect(() => JSON.parse(text) as unknown).toThrow();
  });
});

describe('createHttpServer', () => {
  it('serves registered routes on exact paths (query ignored), 404 otherwise, and /metrics', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false });
    new Counter({ name: 'forge_http_test_total', help: 'x', registers: [registry] }).inc();
    server = createHttpServer({ host: '127.0.0.1', port: 0 })
      .route('GET', '/health', () => ({ status: 200, body: 'OK' }))
      .route('GET', '/boom', () => {
        throw new Error('boom');
      });
    addMetricsRoute(server, registry);
    const { port } = await server.listen();
    const base = `http://127.0.0.1:${port}`;

    const health = await fetch(`${base}/health?verbose=1`);
    expect([health.status, await health.text()]).toEqual([200, 'OK']);
    const sub = await fetch(`${base}/health/extra`);
    expect([sub.status, await sub.text()]).toEqual([404, 'Not Found']);
    const post = await fetch(`${base}/health`, { method: 'POST' });
    expect(post.status).toBe(404);
    const boom = await fetch(`${base}/boom`);
    expect(boom.status).toBe(500);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get('content-type')).toBe(registry.contentType);
    expect(await metrics.text()).toContain('forge_http_test_total 1');
  });
});
