// A region's health endpoint for the sidecars' HTTP health probe (HEALTH_CHECK_ENDPOINT, the
// health-http behaviour): a real HTTP server on loopback whose answer the test sets — 200 when
// healthy, 503 when not, or alternating between the two every `periodMs` (the anti-flap scenario).
// It stands in for whatever the SPO points the probe at (a relay's status page, a load balancer).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type HealthMode =
  | { readonly kind: 'healthy' }
  | { readonly kind: 'unhealthy' }
  | { readonly kind: 'alternating'; readonly periodMs: number; readonly sinceMs: number };

/** Pure: the status the endpoint answers at `nowMs` in `mode`. */
export function healthStatusAt(mode: HealthMode, nowMs: number): 200 | 503 {
  if (mode.kind === 'healthy') return 200;
  if (mode.kind === 'unhealthy') return 503;
  const phase = Math.floor((nowMs - mode.sinceMs) / mode.periodMs);
  // Starts unhealthy, then flips every period.
  return phase % 2 === 0 ? 503 : 200;
}

export interface HealthEndpoint {
  readonly url: string;
  readonly mode: HealthMode;
  setHealthy(healthy: boolean): void;
  /** Flip between 503 and 200 every periodMs, starting with 503 now. */
  alternate(periodMs: number): void;
  /** Requests answered so far (to check the probe is polling). */
  readonly requests: number;
  close(): Promise<void>;
}

export async function startHealthEndpoint(): Promise<HealthEndpoint> {
  let mode: HealthMode = { kind: 'healthy' };
  let requests = 0;
  const server: Server = createServer((request, response) => {
    requests += 1;
    const status = healthStatusAt(mode, Date.now());
    response.writeHead(status, { 'content-type': 'text/plain' });
    response.end(status === 200 ? 'ok\n' : 'unhealthy\n');
    request.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/healthz`,
    get mode() {
      return mode;
    },
    get requests() {
      return requests;
    },
    setHealthy(healthy) {
      mode = { kind: healthy ? 'healthy' : 'unhealthy' };
    },
    alternate(periodMs) {
      mode = { kind: 'alternating', periodMs, sinceMs: Date.now() };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
