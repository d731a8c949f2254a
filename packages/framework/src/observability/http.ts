/**
 * The manager's HTTP server on node:http. Later code adds endpoints with `route()`. Matching is on
 * the exact path with the query string ignored, like the Python sidecar; anything else is a plain
 * 404 "Not Found".
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HttpResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array;
}

export type RouteHandler = (request: IncomingMessage) => HttpResponse | Promise<HttpResponse>;

export interface HttpServer {
  /** Registers (or replaces) the handler for METHOD + exact path. */
  route(method: string, path: string, handler: RouteHandler): this;
  /** Starts listening; resolves with the bound address (port 0 → an ephemeral port). */
  listen(): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
  /** The bound address once listening. */
  address(): { host: string; port: number } | null;
}

export interface CreateHttpServerOptions {
  readonly host: string;
  readonly port: number;
  /** Called when a handler throws; the client gets a 500 either way. */
  readonly onError?: (error: unknown, request: IncomingMessage) => void;
}

function pathOf(rawUrl: string | undefined): string {
  const url = rawUrl ?? '/';
  const q = url.search(/[?#]/);
  return q === -1 ? url : url.slice(0, q);
}

function send(res: ServerResponse, response: HttpResponse, headOnly: boolean): void {
  const body = typeof response.body === 'string' ? Buffer.from(response.body) : response.body;
  res.writeHead(response.status, {
    'content-type': 'text/plain; charset=utf-8',
    ...response.headers,
    'content-length': String(body.byteLength),
  });
  res.end(headOnly ? undefined : body);
}

export function createHttpServer(options: CreateHttpServerOptions): HttpServer {
  const routes = new Map<string, RouteHandler>();
  const server = http.createServer((req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const path = pathOf(req.url);
    const handler =
      routes.get(`${method} ${path}`) ?? (method === 'HEAD' ? routes.get(`GET ${path}`) : undefined);
    if (!handler) {
      send(res, { status: 404, body: 'Not Found' }, method === 'HEAD');
      return;
    }
    Promise.resolve()
      .then(() => handler(req))
      .then(
        (response) => send(res, response, method === 'HEAD'),
        (error: unknown) => {
          options.onError?.(error, req);
          if (!res.headersSent) send(res, { status: 500, body: 'Internal Server Error' }, method === 'HEAD');
          else res.destroy();
        },
      );
  });
  // Keep-alive sockets would make close() wait for idle clients.
  server.keepAliveTimeout = 5_000;
  let bound: { host: string; port: number } | null = null;

  const api: HttpServer = {
    route(method, path, handler) {
      routes.set(`${method.toUpperCase()} ${path}`, handler);
      return api;
    },
    listen() {
      return new Promise((resolve, reject) => {
        const onError = (error: Error): void => reject(error);
        server.once('error', onError);
        server.listen(options.port, options.host, () => {
          server.off('error', onError);
          const address = server.address() as AddressInfo;
          bound = { host: address.address, port: address.port };
          resolve(bound);
        });
      });
    },
    close() {
      return new Promise((resolve, reject) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
    address() {
      return bound;
    },
  };
  return api;
}

/** A handler serving a registry in the Prometheus text format with its content type. */
export function metricsHandler(registry: Registry): RouteHandler {
  return async () => ({
    status: 200,
    headers: { 'content-type': registry.contentType },
    body: await registry.metrics(),
  });
}

/** Registers GET /metrics (or another path) serving the registry. */
export function addMetricsRoute(server: HttpServer, registry: Registry, path = '/metrics'): HttpServer {
  return server.route('GET', path, metricsHandler(registry));
}
