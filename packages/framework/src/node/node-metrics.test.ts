import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../net/undici.js';
import { scrapeNodeMetrics } from './node-metrics.js';

describe('scrapeNodeMetrics', () => {
  const server = createServer((_req, res) =>
    res.end(
      '# TYPE x gauge\ncardano_node_metrics_forging_enabled 1\ncardano_node_metrics_slotNum_int 4242\n',
    ),
  );
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads the forging flag and the slot, bounded by its own deadline and not by undici timers', async () => {
    const agent = new Agent();
    const seen: Dispatcher.DispatchOptions[] = [];
    // Records what the scrape asks of the dispatcher, then lets the real agent answer.
    const recording = new Proxy(agent, {
      get(target, key, receiver) {
        if (key === 'dispatch')
          return (options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) => {
            seen.push(options);
            return target.dispatch(options, handler);
          };
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const scrape = await scrapeNodeMetrics(url, 2000, new AbortController().signal, recording);
    await agent.close();
    expect(scrape.forging).toBe(true);
    expect(scrape.slot).toBe(4242);
    expect(seen).toHaveLength(1);
    // undici's timers over 1 s run on a shared ticker that wakes the process once more per request.
    expect(seen[0]).toMatchObject({ headersTimeout: 0, bodyTimeout: 0 });
    expect((seen[0] as { signal?: unknown }).signal).toBeDefined();
  });
});
