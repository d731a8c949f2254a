// The plugin as its users get it: imported by its package name (the built dist/, what `npm pack`
// ships), held to the framework's plugin contract, and run against a real file and real sockets.
// Runs with Node's own test runner: `npm test` (builds first).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkHealthProbePlugin } from '@cardano-forge/framework/testing';
import plugin, { optionsSchema } from '@acme/forge-health-example';

let dir: string;
let server: Server;
let openPort: number;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'forge-health-example-'));
  server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  openPort = (server.address() as { port: number }).port;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

describe('@acme/forge-health-example', () => {
  it('keeps the plugin contract: healthy while the file is readable', async () => {
    const file = join(dir, 'kes.skey');
    await writeFile(file, 'present');
    const report = await checkHealthProbePlugin(plugin, { file });
    assert.deepEqual(report.problems, []);
    assert.equal(report.results[0]?.healthy, true);
    assert.equal(report.results[0]?.reason, 'FileExists');
  });

  it('answers unhealthy (does not throw) when the file is missing', async () => {
    const report = await checkHealthProbePlugin(plugin, { file: join(dir, 'missing') });
    assert.deepEqual(report.problems, []);
    assert.equal(report.results[0]?.healthy, false);
    assert.equal(report.results[0]?.reason, 'FileMissing');
  });

  it('tcp: healthy when the port accepts connections, ConnectionRefused once nothing listens', async () => {
    const open = await checkHealthProbePlugin(plugin, { tcp: { port: openPort } });
    assert.deepEqual(open.problems, []);
    assert.equal(open.results[0]?.reason, 'Connected');

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await checkHealthProbePlugin(plugin, { tcp: { port: closedPort } });
    assert.deepEqual(refused.problems, []);
    assert.equal(refused.results[0]?.healthy, false);
    assert.equal(refused.results[0]?.reason, 'ConnectionRefused');
  });

  it('rejects options that set neither or both checks, naming the rule', async () => {
    for (const bad of [{}, { file: '/x', tcp: { port: 1 } }]) {
      const report = await checkHealthProbePlugin(plugin, bad);
      assert.deepEqual(report.problems, ['options: set exactly one of "file" or "tcp"']);
    }
    const result = await optionsSchema['~standard'].validate({ tcp: { port: 70_000 } });
    assert.ok(result.issues?.some((issue) => issue.path?.join('.') === 'tcp.port'));
  });
});
