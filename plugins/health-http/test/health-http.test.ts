// Integration tests for @cardano-forge/health-http against real HTTP and HTTPS servers on loopback.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCa, signLeaf } from '../../../test/controlplane/pki.ts';
import type { HealthProbe, HealthResult } from '@cardano-forge/framework';
import healthHttp, {
  PLUGIN_VERSION,
  healthHttpOptionsSchema,
  type HealthHttpOptionsInput,
} from '@cardano-forge/health-http';
import {
  makeTestPluginContext,
  type TestPluginContext,
  type TestPluginContextOverrides,
} from '../../../test/support/plugin-context.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface TestServer {
  readonly url: string;
  readonly requests: IncomingMessage[];
  close(): Promise<void>;
}

async function listen(
  server: Server,
  requests: IncomingMessage[],
  scheme: 'http' | 'https',
): Promise<TestServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function startHttp(handler: Handler): Promise<TestServer> {
  const requests: IncomingMessage[] = [];
  const server = createHttpServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  return listen(server, requests, 'http');
}

function json(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(body);
}

/** A port nothing listens on: bind, read the port, close. */
async function closedPort(): Promise<number> {
  const server = createHttpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  // Reverse order: probes and contexts before the servers they talk to.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function probeFor(
  options: HealthHttpOptionsInput,
  overrides?: TestPluginContextOverrides,
): Promise<{ probe: HealthProbe; ctx: TestPluginContext }> {
  const parsed = await healthHttp.optionsSchema['~standard'].validate(options);
  if (parsed.issues !== undefined) throw new Error(`bad options: ${JSON.stringify(parsed.issues)}`);
  const ctx = makeTestPluginContext({ instanceId: 'http-test', ...overrides });
  const probe = await healthHttp.create(ctx, parsed.value);
  cleanups.push(async () => {
    await probe.close?.();
    await ctx.dispose();
  });
  return { probe, ctx };
}

async function serve(handler: Handler): Promise<TestServer> {
  const server = await startHttp(handler);
  cleanups.push(() => server.close());
  return server;
}

function expectUnhealthy(result: HealthResult, reason: string): void {
  expect(result, result.message).toMatchObject({ healthy: false, reason });
}

describe('health-http over plain HTTP', () => {
  it('is healthy on 200 and reports status and latency', async () => {
    const server = await serve((_req, res) => json(res, 200, '{"status":"healthy"}'));
    const { probe } = await probeFor({ url: `${server.url}/api/v1/health` });
    const result = await probe.check(AbortSignal.timeout(30_000));
    expect(result).toMatchObject({ healthy: true, reason: 'Healthy', details: { statusCode: 200 } });
    expect(result.message).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/health: status 200 \(\d+ ms\)/);
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(probe.id).toBe('http-test');
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.method).toBe('GET');
    expect(server.requests[0]?.url).toBe('/api/v1/health');
  });

  it('reports 503 as UnexpectedStatus with the code in the message', async () => {
    const server = await serve((_req, res) => json(res, 503, '{"status":"unhealthy"}'));
    const { probe } = await probeFor({ url: server.url });
    const result = await probe.check(AbortSignal.timeout(30_000));
    expectUnhealthy(result, 'UnexpectedStatus');
    expect(result.message).toContain('status 503, expected 200');
    expect(result.details).toMatchObject({ statusCode: 503 });
  });

  it('accepts any listed status and uses the configured method', async () => {
    const server = await serve((_req, res) => res.writeHead(204).end());
    const { probe } = await probeFor({ url: server.url, method: 'HEAD', expectedStatus: [200, 204] });
    const result = await probe.check(AbortSignal.timeout(30_000));
    expect(result).toMatchObject({ healthy: true, reason: 'Healthy', details: { statusCode: 204 } });
    expect(server.requests[0]?.method).toBe('HEAD');
  });

  it('times out a server that answers too late, within about the timeout', async () => {
    const timers: NodeJS.Timeout[] = [];
    const server = await serve((_req, res) => {
      timers.push(setTimeout(() => json(res, 200, '{"status":"healthy"}'), 5_000));
    });
    cleanups.push(async () => timers.forEach(clearTimeout));
    const { probe } = await probeFor({ url: server.url, timeoutMs: 600 });
    const begin = performance.now();
    const result = await probe.check(AbortSignal.timeout(30_000));
    const took = performance.now() - begin;
    expectUnhealthy(result, 'Timeout');
    expect(result.message).toContain('within 600 ms');
    expect(took).toBeGreaterThanOrEqual(550);
    expect(took).toBeLessThan(3_000);
  });

  it('times out a body that never finishes when JSON is expected', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":'); // and never the rest
    });
    const { probe } = await probeFor({
      url: server.url,
      timeoutMs: 600,
      expectJson: { path: 'status', equals: 'healthy' },
    });
    const begin = performance.now();
    const result = await probe.check(AbortSignal.timeout(30_000));
    expectUnhealthy(result, 'Timeout');
    expect(performance.now() - begin).toBeLessThan(3_000);
  });

  it('reports a closed port as ConnectionRefused', async () => {
    const port = await closedPort();
    const { probe } = await probeFor({ url: `http://127.0.0.1:${port}/health` });
    const result = await probe.check(AbortSignal.timeout(30_000));
    expectUnhealthy(result, 'ConnectionRefused');
    expect(result.message).toContain('ECONNREFUSED');
  });

  it('stops promptly when the manager aborts the check', async () => {
    const timers: NodeJS.Timeout[] = [];
    const server = await serve((_req, res) => {
      timers.push(setTimeout(() => res.end(), 5_000));
    });
    cleanups.push(async () => timers.forEach(clearTimeout));
    const { probe } = await probeFor({ url: server.url, timeoutMs: 60_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutdown')), 200);
    const begin = performance.now();
    const result = await probe.check(controller.signal);
    expectUnhealthy(result, 'RequestFailed');
    expect(result.message).toContain('aborted');
    expect(performance.now() - begin).toBeLessThan(2_000);
  });
});

describe('health-http JSON assertion (the seed endpoint returns {"status":"healthy"})', () => {
  const expectJson = { path: 'status', equals: 'healthy' };

  it('is healthy when the value at the path matches', async () => {
    const server = await serve((_req, res) =>
      json(res, 200, '{"status":"healthy","checks":{"db":{"ok":true}}}'),
    );
    const { probe } = await probeFor({ url: server.url, expectJson });
    expect(await probe.check(AbortSignal.timeout(30_000))).toMatchObject({
      healthy: true,
      reason: 'Healthy',
    });
    const nested = await probeFor({
      url: server.url,
      expectJson: { path: 'checks.db', equals: { ok: true } },
    });
    expect(await nested.probe.check(AbortSignal.timeout(30_000))).toMatchObject({ healthy: true });
  });

  it('reports a body that is not JSON as BadJson', async () => {
    const server = await serve((_req, res) =>
      res.writeHead(200, { 'content-type': 'text/plain' }).end('OK all good'),
    );
    const { probe } = await probeFor({ url: server.url, expectJson });
    const result = await probe.check(AbortSignal.timeout(30_000));
    expectUnhealthy(result, 'BadJson');
    expect(result.message).toContain('status 200, body is not JSON');
  });

  it('reports a different value as JsonMismatch showing both values', async () => {
    const server = await serve((_req, res) => json(res, 200, '{"status":"degraded"}'));
    const { probe } = await probeFor({ url: server.url, expectJson });
    const result = await probe.check(AbortSignal.timeout(30_000));
    expectUnhealthy(result, 'JsonMismatch');
    expect(result.message).toContain('status is "degraded", expected "healthy"');
  });

  it('reports a missing path as JsonMismatch', async () => {
    const server = await serve((_req, res) => json(res, 200, '{"state":"healthy"}'));
    const { probe } = await probeFor({ url: server.url, expectJson });
    const result = await probe.check(AbortSignal.timeout(30_000));
    expectUnhealthy(result, 'JsonMismatch');
    expect(result.message).toContain('JSON has no "status"');
  });

  it('checks the status before the body', async () => {
    const server = await serve((_req, res) => json(res, 500, '{"status":"healthy"}'));
    const { probe } = await probeFor({ url: server.url, expectJson });
    expectUnhealthy(await probe.check(AbortSignal.timeout(30_000)), 'UnexpectedStatus');
  });
});

describe('health-http headers and bearer token', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-health-http-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sends configured headers, the user agent and the current token; never logs or reports the token', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'first-secret-token\n');
    const server = await serve((req, res) => {
      // The server asserts: 401 unless every expected header is there.
      const ok =
        req.headers['x-forge-check'] === 'yes' &&
        req.headers['user-agent'] === `cardano-forge/${PLUGIN_VERSION}` &&
        (req.headers.authorization === 'Bearer first-secret-token' ||
          req.headers.authorization === 'Bearer rotated-secret-token');
      json(res, ok ? 200 : 401, '{}');
    });
    const logLines: string[] = [];
    const logger = pino(
      { level: 'trace' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          logLines.push(chunk.toString());
          done();
        },
      }),
    );
    const { probe } = await probeFor(
      { url: server.url, headers: { 'X-Forge-Check': 'yes' }, bearerTokenFile: tokenFile },
      { logger },
    );

    const first = await probe.check(AbortSignal.timeout(30_000));
    expect(first).toMatchObject({ healthy: true });
    expect(server.requests[0]?.headers.authorization).toBe('Bearer first-secret-token');

    // Rotation: the next check reads the file again.
    await writeFile(tokenFile, 'rotated-secret-token');
    const second = await probe.check(AbortSignal.timeout(30_000));
    expect(second).toMatchObject({ healthy: true });
    expect(server.requests[1]?.headers.authorization).toBe('Bearer rotated-secret-token');

    // A wrong token makes the server answer 401, and the token still appears nowhere.
    await writeFile(tokenFile, 'wrong-secret-token');
    const third = await probe.check(AbortSignal.timeout(30_000));
    expectUnhealthy(third, 'UnexpectedStatus');
    expect(third.message).toContain('status 401');

    expect(logLines.length).toBeGreaterThan(0);
    const everything = JSON.stringify([first, second, third]) + logLines.join('');
    expect(everything).not.toMatch(/secret-token/);
  });

  it('fails with RequestFailed naming the file when the token file is missing or empty', async () => {
    const server = await serve((_req, res) => json(res, 200, '{}'));
    const missing = await probeFor({ url: server.url, bearerTokenFile: join(dir, 'absent') });
    const r1 = await missing.probe.check(AbortSignal.timeout(30_000));
    expectUnhealthy(r1, 'RequestFailed');
    expect(r1.message).toContain('cannot read bearerTokenFile');
    expect(r1.message).toContain('ENOENT');
    const emptyFile = join(dir, 'empty');
    await writeFile(emptyFile, '\n');
    const empty = await probeFor({ url: server.url, bearerTokenFile: emptyFile });
    expectUnhealthy(await empty.probe.check(AbortSignal.timeout(30_000)), 'RequestFailed');
    expect(server.requests).toHaveLength(0);
  });
});

describe('health-http over HTTPS with a custom CA', () => {
  let dir: string;
  let server: TestServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'forge-health-https-'));
    await createCa(dir, '/CN=forge-health-test-ca');
    await signLeaf(
      dir,
      'server',
      '/CN=forge-health.test',
      'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:forge-health.test\n',
    );
    const requests: IncomingMessage[] = [];
    const https = createHttpsServer(
      { key: await readFile(join(dir, 'server.key')), cert: await readFile(join(dir, 'server.crt')) },
      (req, res) => {
        requests.push(req);
        json(res, 200, '{"status":"healthy"}');
      },
    );
    server = await listen(https, requests, 'https');
  });

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is healthy when the CA file is given', async () => {
    const { probe } = await probeFor({
      url: `${server.url}/health`,
      tls: { caFile: join(dir, 'ca.crt') },
      expectJson: { path: 'status', equals: 'healthy' },
    });
    const result = await probe.check(AbortSignal.timeout(30_000));
    expect(result, result.message).toMatchObject({ healthy: true, reason: 'Healthy' });
  });

  it('reports TlsError without the CA (system roots do not know it)', async () => {
    const { probe } = await probeFor({ url: `${server.url}/health` });
    const result = await probe.check(AbortSignal.timeout(30_000));
    expectUnhealthy(result, 'TlsError');
    expect(result.message).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|unable to verify/i);
  });

  it('verifies serverName against the certificate SANs', async () => {
    const good = await probeFor({
      url: server.url,
      tls: { caFile: join(dir, 'ca.crt'), serverName: 'forge-health.test' },
    });
    expect(await good.probe.check(AbortSignal.timeout(30_000))).toMatchObject({ healthy: true });
    const bad = await probeFor({
      url: server.url,
      tls: { caFile: join(dir, 'ca.crt'), serverName: 'other.example' },
    });
    const result = await bad.probe.check(AbortSignal.timeout(30_000));
    expectUnhealthy(result, 'TlsError');
    expect(result.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('skips verification only when insecureSkipVerify is set', async () => {
    const { probe } = await probeFor({ url: server.url, tls: { insecureSkipVerify: true } });
    expect(await probe.check(AbortSignal.timeout(30_000))).toMatchObject({ healthy: true });
  });

  it('reports an unreadable CA file as RequestFailed without sending a request', async () => {
    const before = server.requests.length;
    const { probe } = await probeFor({ url: server.url, tls: { caFile: join(dir, 'no-such-ca.crt') } });
    const result = await probe.check(AbortSignal.timeout(30_000));
    expectUnhealthy(result, 'RequestFailed');
    expect(result.message).toContain('cannot read tls.caFile');
    expect(server.requests.length).toBe(before);
  });
});

describe('health-http options', () => {
  it('applies the documented defaults', () => {
    expect(healthHttpOptionsSchema.parse({ url: 'http://127.0.0.1:8080/health' })).toEqual({
      url: 'http://127.0.0.1:8080/health',
      method: 'GET',
      expectedStatus: [200],
      timeoutMs: 10_000,
      headers: {},
      userAgent: `cardano-forge/${PLUGIN_VERSION}`,
    });
  });

  it.each([
    [{ url: 'ftp://example.org/' }, 'url'],
    [{ url: 'not a url' }, 'url'],
    [{ url: 'http://x/', tls: { insecureSkipVerify: true } }, 'tls'],
    [{ url: 'https://x/', method: 'HEAD', expectJson: { path: 'status', equals: 'healthy' } }, 'expectJson'],
    [
      { url: 'https://x/', bearerTokenFile: '/t', headers: { Authorization: 'Basic x' } },
      'headers.Authorization',
    ],
    [{ url: 'https://x/', expectedStatus: [] }, 'expectedStatus'],
    [{ url: 'https://x/', timeoutMs: 0 }, 'timeoutMs'],
    [{ url: 'https://x/', retries: 3 }, ''],
  ])('rejects %j', (value, path) => {
    const result = healthHttpOptionsSchema.safeParse(value);
    expect(result.success).toBe(false);
    if (path !== '') expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  it('accepts a single expected status', () => {
    expect(healthHttpOptionsSchema.parse({ url: 'http://x/', expectedStatus: 204 }).expectedStatus).toEqual([
      204,
    ]);
  });
});
