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

/** An unsigned JWT whose `exp` is in 2100: the OIDC provider uses it without asking the issuer. */
const ID_TOKEN = [
  Buffer.from('{"alg":"none"}').toString('base64url'),
  Buffer.from('{"exp":4102444800,"sub":"forge"}').toString('base64url'),
  'sig',
].join('.');

const AUTH_PROBE = `
import { registerHooks, createRequire } from 'node:module';
const watched = ['openid-client', 'oauth4webapi', 'jose', 'jsonpath-plus', 'socks-proxy-agent', 'socks', 'smart-buffer', 'ip-address', 'hpagent'];
const loaded = new Set();
registerHooks({
  load(url, context, next) {
    for (const name of watched) if (url.includes('/node_modules/' + name + '/')) loaded.add(name);
    return next(url, context);
  },
});
const { KubeConfig } = await import('./dist/kube/kubeconfig.js');
const result = { loadedAtStart: [...loaded].sort() };
const config = (user, cluster = {}) => {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: true, ...cluster }],
    users: [{ name: 'u', ...user }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
};
const header = async (kc) => {
  const opts = { headers: {} };
  await kc.applyToHTTPSOptions(opts);
  return { header: opts.headers.Authorization ?? null, agent: opts.agent };
};
result.oidcHeader = (await header(config({ authProvider: { name: 'oidc', config: { 'id-token': '${ID_TOKEN}', 'client-id': 'forge' } } }))).header;
result.gcpHeader = (await header(config({ authProvider: { name: 'gcp', config: { 'access-token': 'gcp-token', expiry: '2100-01-01T00:00:00Z' } } }))).header;
result.plainHeader = (await header(config({}))).header;
const proxied = await header(config({ token: 't' }, { proxyUrl: 'http://127.0.0.1:3128' }));
result.proxyAgent = proxied.agent?.constructor.name;
const fromLibrary = createRequire(createRequire(process.cwd() + '/').resolve('@kubernetes/client-node/dist/config.js'));
result.proxyAgentIsTheLibrarys = proxied.agent instanceof fromLibrary('hpagent').HttpsProxyAgent;
const socks = await header(config({ token: 't' }, { proxyUrl: 'socks5://127.0.0.1:1080' }));
result.socksAgentIsTheLibrarys = socks.agent instanceof fromLibrary('socks-proxy-agent').SocksProxyAgent;
result.loadedAfterUse = [...loaded].sort();
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

  it('loads the kubeconfig library’s Azure, GCP and OIDC auth providers and its proxy agents only when a kubeconfig uses them, and they then work', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', AUTH_PROBE],
      { cwd: FRAMEWORK },
    );
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result).toEqual({
      loadedAtStart: [],
      oidcHeader: `Bearer ${ID_TOKEN}`,
      gcpHeader: 'Bearer gcp-token',
      plainHeader: null,
      proxyAgent: 'HttpsProxyAgent',
      proxyAgentIsTheLibrarys: true,
      socksAgentIsTheLibrarys: true,
      loadedAfterUse: [
        'hpagent',
        'ip-address',
        'jose',
        'jsonpath-plus',
        'oauth4webapi',
        'openid-client',
        'smart-buffer',
        'socks',
        'socks-proxy-agent',
      ],
    });
  }, 120_000);
});
