/**
 * The part of undici the sidecar uses (its Agent and ProxyAgent, and the request API every
 * dispatcher carries), without its package entry. The entry also loads fetch, WebSocket,
 * EventSource, the cache stores (SQLite included), the mock agents and their Node built-ins
 * (zlib, stream/web): ~5 MiB of RSS per process that a sidecar making a few small requests a
 * second never uses. A plugin importing `undici` itself gets the whole package, with the same
 * classes (the same files, so the same module instances).
 *
 * The methods a Dispatcher is documented to have (`request`, `stream`, `pipeline`, `upgrade`,
 * `connect`) are added to its prototype by undici's entry; this module adds the same functions
 * (idempotent: undici's entry, if loaded later, assigns them again), so a dispatcher handed to a
 * plugin is complete whichever module loaded undici first.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const load = createRequire(import.meta.url);

const dispatcherApi = load('undici/lib/api/index.js') as Pick<
  Undici.Dispatcher,
  'request' | 'stream' | 'pipeline' | 'upgrade' | 'connect'
>;
const DispatcherClass = load('undici/lib/dispatcher/dispatcher.js') as typeof Undici.Dispatcher;
Object.assign(DispatcherClass.prototype, dispatcherApi);

export const Agent = load('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export const ProxyAgent = load('undici/lib/dispatcher/proxy-agent.js') as typeof Undici.ProxyAgent;
const { getGlobalDispatcher } = load('undici/lib/global.js') as Pick<typeof Undici, 'getGlobalDispatcher'>;

export type RequestOptions = Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
  readonly method?: Undici.Dispatcher.HttpMethod;
  /** Default: undici's global dispatcher. */
  readonly dispatcher?: Undici.Dispatcher | undefined;
};

/**
 * undici's `request(url, options)` for an absolute URL: the method defaults to GET, the URL's
 * origin picks the connection pool of `dispatcher`.
 */
export function request(
  url: string | URL,
  options: RequestOptions = {},
): Promise<Undici.Dispatcher.ResponseData> {
  const { dispatcher = getGlobalDispatcher(), method = 'GET', ...rest } = options;
  const target = typeof url === 'string' ? new URL(url) : url;
  return dispatcher.request({
    ...rest,
    method,
    origin: target.origin,
    path: `${target.pathname}${target.search}`,
  });
}

/** For @kubernetes/client-node's generated API clients (kube/kubeconfig.ts): the full package on first use. */
export const fetch: typeof Undici.fetch = (input, init) =>
  (load('undici') as typeof Undici).fetch(input, init);

/**
 * Request options that turn undici's own headers and body timeouts off, for requests that carry
 * their deadline in their signal already (every request of kube/client.ts, the node's metrics
 * scrape). undici keeps timeouts over 1 s on a shared 499 ms ticker that runs on until its next
 * tick after the request ended: one more wake-up of an idle process per request, and a leader
 * makes 30 a minute.
 */
export const NO_UNDICI_TIMERS = { headersTimeout: 0, bodyTimeout: 0 } as const;
