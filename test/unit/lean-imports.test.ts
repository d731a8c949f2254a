/**
 * What the sidecar's module graph loads (issue 10, footprint): neither undici's package entry
 * (fetch, WebSocket, cache stores, mocks) nor Node's bundled undici nor @opentelemetry/api, while the dispatchers it hands
 * out keep undici's whole request API and node:http's lazy WebSocket still works. Runs on the
 * built framework (dist), in a fresh process, as `forge-manager run` loads it.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const FRAMEWORK = fileURLToPath(new URL('../../packages/framework/', import.meta.url));

const PROBE = `
import { createRequire } from 'node:module';
const { importHttpLean } = await import('./dist/cli/http-lean.js');
const { loadOpenTelemetryOnUse } = await import('./dist/observability/prom-client-lean.js');
await importHttpLean();
loadOpenTelemetryOnUse();
// What cli/entry.js loads for \`run\`.
await import('./dist/cli/commands.js');
await import('./dist/cli/builtins.js');
await import('./dist/manager/run.js');
const { KubeConfig } = await import('./dist/kube/kubeconfig.js');
const { createHttpDispatcher } = await import('./dist/plugin/host.js');
const { request } = await import('./dist/net/undici.js');
const require = createRequire(process.cwd() + '/');
const bundledUndici = () => process.moduleLoadList.includes('NativeModule internal/deps/undici/undici');
const result = {
  kubeConfig: typeof KubeConfig,
  bundledUndiciAfterLoad: bundledUndici(),
  undiciEntryLoaded: Object.keys(require.cache).some((file) => file.endsWith('/node_modules/undici/index.js')),
};
const loadedOpenTelemetry = () => Object.keys(require.cache).some((file) => file.includes('/node_modules/@opentelemetry/api/'));
const { createMetricsRegistry } = await import('./dist/observability/metrics.js');
const registry = createMetricsRegistry();
result.cpuMetric = (await registry.metrics()).includes('process_cpu_seconds_total');
registry.clear();
result.openTelemetryAfterLoad = loadedOpenTelemetry();
// The stand-in's calls (prom-client makes them when exemplars are on) reach the real API.
const openTelemetry = await import('./dist/observability/otel-on-use.js');
result.spanOfNoContext = openTelemetry.trace.getSpan(openTelemetry.context.active()) ?? null;
result.openTelemetryAfterUse = loadedOpenTelemetry();
const dispatcher = createHttpDispatcher();
result.dispatcherMethods = ['request', 'stream', 'pipeline', 'upgrade', 'connect'].map((name) => typeof dispatcher[name]);
const viaDispatcher = await dispatcher.request({ origin: process.argv[1], path: '/a?x=1', method: 'GET' });
const viaRequest = await request(process.argv[1] + '/b?y=2', { dispatcher });
result.answers = [await viaDispatcher.body.text(), await viaRequest.body.text()];
await dispatcher.close();
const http = require('node:http');
result.webSocketStillLazy = !bundledUndici();
result.webSocket = typeof http.WebSocket;
result.sameAsGlobal = http.WebSocket === globalThis.WebSocket;
result.bundledUndiciAfterUse = bundledUndici();
process.stdout.write(JSON.stringify(result), () => process.exit(0));
`;

describe('the sidecar’s module graph (built framework)', () => {
  const server = createServer((req, res) => res.end(`${req.method} ${req.url}`));
  let origin = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('loads neither undici’s package entry, Node’s bundled undici nor @opentelemetry/api; dispatchers keep undici’s request API; node:http’s WebSocket and the exemplar API load on use', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', PROBE, origin],
      { cwd: FRAMEWORK },
    );
    expect(JSON.parse(stdout)).toEqual({
      kubeConfig: 'function',
      bundledUndiciAfterLoad: false,
      undiciEntryLoaded: false,
      cpuMetric: true,
      openTelemetryAfterLoad: false,
      spanOfNoContext: null,
      openTelemetryAfterUse: true,
      dispatcherMethods: ['function', 'function', 'function', 'function', 'function'],
      answers: ['GET /a?x=1', 'GET /b?y=2'],
      webSocketStillLazy: true,
      webSocket: 'function',
      sameAsGlobal: true,
      bundledUndiciAfterUse: true,
    });
  }, 120_000);
});
