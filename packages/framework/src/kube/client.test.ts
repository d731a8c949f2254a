import { getEventListeners } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClient } from './client.js';
import { classifyK8sError } from './errors.js';
import { KubeConfig } from './kubeconfig.js';

describe('the kube client’s deadline (a server that never answers)', () => {
  const held: ServerResponse[] = [];
  const server = createServer((_req, res) => void held.push(res));
  let kubeConfig: KubeConfig;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [
        {
          name: 'c',
          server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          skipTLSVerify: true,
        },
      ],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
  });
  afterAll(async () => {
    for (const res of held) res.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('gives up after timeoutMs with an error classified as a timeout', async () => {
    const client = createKubeClient(kubeConfig, { userAgent: 'test' });
    const started = performance.now();
    const error: unknown = await client
      .request({ method: 'GET', path: '/x', timeoutMs: 200 })
      .catch((e) => e);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(classifyK8sError(error).kind).toBe('timeout');
    await client.close();
  });

  it("gives up when the caller's signal aborts, with its reason, and leaves no listener on it", async () => {
    const client = createKubeClient(kubeConfig, { userAgent: 'test' });
    const caller = new AbortController();
    const pending = client.request({ method: 'GET', path: '/y', timeoutMs: 60_000, signal: caller.signal });
    setTimeout(() => caller.abort(new Error('shutting down')), 50);
    await expect(pending).rejects.toThrow('shutting down');
    const longLived = new AbortController();
    const timedOut = await client
      .request({ method: 'GET', path: '/z', timeoutMs: 100, signal: longLived.signal })
      .catch((e: unknown) => e);
    expect(classifyK8sError(timedOut).kind).toBe('timeout');
    expect(getEventListeners(longLived.signal, 'abort')).toHaveLength(0);
    await client.close();
  });
});
