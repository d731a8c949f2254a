/**
 * The framework's Kubernetes REST client: the handful of calls the sidecar makes (get, create,
 * replace, merge-patch, watch one object), as JSON over one keep-alive connection pool.
 *
 * Why not the generated clients of @kubernetes/client-node: importing them loads every model
 * (~80 MiB RSS per process), and 2.x builds a new undici Agent, so a new TLS connection, for every
 * call (~30 ms of CPU each). Authentication stays the library's: `KubeConfig.applyToHTTPSOptions`
 * is asked before every request (in-cluster token rotation, exec plugins, client certificates),
 * and its TLS material configures the pool once.
 *
 * Errors keep the library's shapes, so `classifyK8sError` reads them unchanged: an HTTP failure
 * throws `KubeHttpError` (numeric `code`, `body` the server's text); a socket error is undici's
 * (`code`, e.g. ECONNREFUSED); a timeout is the abort reason (`TimeoutError`).
 */
import type { RequestOptions } from 'node:https';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import type { Dispatcher } from 'undici';
import { createSystemClock } from '../core/clock.js';
import { clockTimeout } from '../core/deadline.js';
import { Agent, NO_UNDICI_TIMERS, ProxyAgent, request } from '../net/undici.js';
import type { KubeConfig } from './kubeconfig.js';

export type KubeMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export const MERGE_PATCH = 'application/merge-patch+json';

export interface KubeRequest {
  readonly method: KubeMethod;
  /** Absolute API path, e.g. `/apis/coordination.k8s.io/v1/namespaces/ns/leases/x`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  /** Default `application/json`; a merge patch needs MERGE_PATCH. */
  readonly contentType?: string;
  /** The call gives up after this long (the library has no timeout of its own). */
  readonly timeoutMs: number;
  /** Also gives up when this fires (the caller's own deadline or shutdown). */
  readonly signal?: AbortSignal;
}

export type KubeWatchCallback = (type: string, object: unknown) => void;

export interface KubeWatchOptions {
  /** Asks the server to end the watch after this long (it then ends normally). */
  readonly timeoutSeconds?: number;
  /**
   * Ends the watch with a TimeoutError when nothing arrives for this long (a half-open
   * connection). Default 30 s, as @kubernetes/client-node's Watch.
   */
  readonly idleTimeoutMs?: number;
}

export interface KubeWatchHandle {
  stop(): void;
}

export interface KubeClient {
  request<T = unknown>(request: KubeRequest): Promise<T>;
  /**
   * Streams watch events of `path`. `onDone` is called once when the watch ends for any reason
   * (null: the server closed it normally); never after `stop()`.
   */
  watch(
    path: string,
    query: Readonly<Record<string, string | number | boolean | undefined>>,
    onEvent: KubeWatchCallback,
    onDone: (error: unknown) => void,
    options?: KubeWatchOptions,
  ): KubeWatchHandle;
  /** Closes the pool's idle connections. */
  close(): Promise<void>;
}

/** An HTTP error answer, in the shape of the library's ApiException. */
export class KubeHttpError extends Error {
  readonly code: number;
  readonly body: string;
  constructor(method: string, path: string, code: number, body: string) {
    super(`${method} ${path}: HTTP ${code}`);
    this.name = 'KubeHttpError';
    this.code = code;
    this.body = body;
  }
}

/** `forge-manager/<framework version> (<pod>)`: the API server's audit log then names the pod. */
export function forgeUserAgent(podName: string): string {
  const require = createRequire(import.meta.url);
  const { version } = require('../../package.json') as { version: string };
  return `forge-manager/${version} (${podName})`;
}

/** Connections idle longer than this are closed (a leader renews every retryPeriod, well within). */
const KEEP_ALIVE_MS = 60_000;
const DEFAULT_WATCH_IDLE_MS = 30_000;

export interface KubeClientOptions {
  /** Sent with every request, so the API server's audit log names the pod (`forge-manager/1.0 (pod-0)`). */
  readonly userAgent: string;
}

interface Prepared {
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly dispatcher: Dispatcher;
}

/**
 * How long the credentials the kubeconfig yields are reused before it is asked again. Asking reads
 * the CA, certificate, key and token files each time (most of a renewal's CPU); service-account
 * tokens are rotated well before they expire, and a 401 drops the cached ones at once.
 */
const CREDENTIALS_REUSE_MS = 60_000;

export function createKubeClient(kubeConfig: KubeConfig, options: KubeClientOptions): KubeClient {
  const systemClock = createSystemClock();
  let dispatcher: Dispatcher | null = null;
  let credentials: { headers: Readonly<Record<string, string>>; atMs: number } | null = null;

  function serverUrl(): string {
    const cluster = kubeConfig.getCurrentCluster();
    if (cluster === null)
      throw new Error('the kubeconfig has no current cluster: set current-context, or run in a pod');
    return cluster.server.replace(/\/+$/, '');
  }

  /** The pool, built once from the TLS material the kubeconfig names. */
  function pool(https: RequestOptions): Dispatcher {
    if (dispatcher !== null) return dispatcher;
    const tls = {
      ...(https.ca !== undefined ? { ca: https.ca } : {}),
      ...(https.cert !== undefined ? { cert: https.cert } : {}),
      ...(https.key !== undefined ? { key: https.key } : {}),
      ...(https.servername !== undefined ? { servername: https.servername } : {}),
      ...(https.rejectUnauthorized !== undefined ? { rejectUnauthorized: https.rejectUnauthorized } : {}),
    } as const;
    const proxyUrl = kubeConfig.getCurrentCluster()?.proxyUrl;
    if (proxyUrl !== undefined && proxyUrl !== '') {
      if (!/^https?:/.test(proxyUrl))
        throw new Error(
          `the kubeconfig's proxy-url ${proxyUrl} is not supported (only http:// and https:// proxies); remove it or use an HTTP proxy`,
        );
      dispatcher = new ProxyAgent({
        uri: proxyUrl,
        requestTls: tls,
        keepAliveTimeout: KEEP_ALIVE_MS,
        allowH2: false,
      });
    } else {
      dispatcher = new Agent({
        connect: { ...tls, keepAlive: true, keepAliveInitialDelay: 30_000 },
        keepAliveTimeout: KEEP_ALIVE_MS,
        keepAliveMaxTimeout: KEEP_ALIVE_MS,
        // HTTP/1.1: undici's HTTP/2 session raises its idle timeout as an uncaught exception, and
        // a watch is better off on its own connection anyway.
        allowH2: false,
      });
    }
    return dispatcher;
  }

  async function prepare(
    path: string,
    query: Readonly<Record<string, string | number | boolean | undefined>> | undefined,
  ): Promise<Prepared> {
    const url = new URL(serverUrl() + path);
    for (const [key, value] of Object.entries(query ?? {}))
      if (value !== undefined) url.searchParams.set(key, String(value));
    const now = performance.now();
    if (credentials === null || now - credentials.atMs >= CREDENTIALS_REUSE_MS || dispatcher === null) {
      // A rotated service-account token or an exec plugin's fresh token is picked up here.
      const https: RequestOptions = {};
      await kubeConfig.applyToHTTPSOptions(https);
      const auth: Record<string, string> = {};
      for (const [key, value] of Object.entries(https.headers ?? {}))
        if (typeof value === 'string') auth[key.toLowerCase()] = value;
      if (typeof https.auth === 'string' && auth['authorization'] === undefined)
        auth['authorization'] = `Basic ${Buffer.from(https.auth).toString('base64')}`;
      pool(https);
      credentials = { headers: auth, atMs: now };
    }
    const headers = { ...credentials.headers, 'user-agent': options.userAgent, accept: 'application/json' };
    return { url, headers, dispatcher: dispatcher! };
  }

  /** An expired or revoked credential: ask the kubeconfig again on the next request. */
  function checkUnauthorized(status: number): void {
    if (status === 401) credentials = null;
  }

  return {
    async request<T>(req: KubeRequest): Promise<T> {
      // The library has no timeout of its own. (Not AbortSignal.any: it leaves a weak reference
      // on the caller's long-lived signal for every request until a GC.)
      const bound = clockTimeout(systemClock, Math.max(1, Math.ceil(req.timeoutMs)), req.signal);
      try {
        const { signal } = bound;
        const { url, headers, dispatcher: pooled } = await prepare(req.path, req.query);
        signal.throwIfAborted();
        if (req.body !== undefined) headers['content-type'] = req.contentType ?? 'application/json';
        const response = await request(url, {
          method: req.method,
          headers,
          dispatcher: pooled,
          signal,
          ...NO_UNDICI_TIMERS,
          ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
        });
        const text = await response.body.text();
        checkUnauthorized(response.statusCode);
        if (response.statusCode < 200 || response.statusCode >= 300)
          throw new KubeHttpError(req.method, req.path, response.statusCode, text);
        return (text === '' ? undefined : JSON.parse(text)) as T;
      } finally {
        bound.cancel();
      }
    },

    watch(path, query, onEvent, onDone, watchOptions = {}): KubeWatchHandle {
      const controller = new AbortController();
      const idleMs = watchOptions.idleTimeoutMs ?? DEFAULT_WATCH_IDLE_MS;
      let stopped = false;
      let finished = false;
      let idle: NodeJS.Timeout | undefined;
      const finish = (error: unknown): void => {
        clearTimeout(idle);
        if (finished) return;
        finished = true;
        controller.abort();
        if (!stopped) onDone(error);
      };
      const touch = (): void => {
        if (finished) return;
        if (idle !== undefined) {
          idle.refresh(); // cheaper than a new timer for every chunk
          return;
        }
        idle = setTimeout(
          () => finish(new DOMException(`no watch event for ${idleMs} ms`, 'TimeoutError')),
          idleMs,
        );
        idle.unref();
      };
      touch();
      void (async () => {
        const {
          url,
          headers,
          dispatcher: pooled,
        } = await prepare(path, {
          ...query,
          watch: true,
          ...(watchOptions.timeoutSeconds !== undefined
            ? { timeoutSeconds: watchOptions.timeoutSeconds }
            : {}),
        });
        const response = await request(url, {
          method: 'GET',
          headers,
          dispatcher: pooled,
          signal: controller.signal,
          // The idle timer above bounds the wait for headers and for every chunk.
          ...NO_UNDICI_TIMERS,
        });
        if (response.statusCode !== 200) {
          checkUnauthorized(response.statusCode);
          const text = await response.body.text();
          throw Object.assign(new KubeHttpError('WATCH', path, response.statusCode, text), {
            statusCode: response.statusCode,
          });
        }
        touch();
        response.body.on('data', touch);
        const lines = createInterface({ input: response.body, crlfDelay: Infinity });
        for await (const line of lines) {
          if (finished) break;
          if (line.trim() === '') continue;
          let event: { type?: unknown; object?: unknown };
          try {
            event = JSON.parse(line) as typeof event;
          } catch {
            continue; // not JSON: nothing we could act on
          }
          if (typeof event.type === 'string') onEvent(event.type, event.object);
        }
        finish(null);
      })().catch(finish);
      return {
        stop() {
          stopped = true;
          finish(null);
        },
      };
    },

    async close(): Promise<void> {
      const d = dispatcher;
      dispatcher = null;
      await d?.close();
    },
  };
}
