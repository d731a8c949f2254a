/**
 * The one side effect of this plugin: an instant query against Prometheus' HTTP API
 * (`GET <base>/api/v1/query?query=...`, `time` omitted = evaluated at "now" on the server).
 * Every failure comes back as data.
 */
import { request, type Dispatcher } from 'undici';
import { parseQueryResponse, type QueryOutcome } from './evaluate.js';

/** A Prometheus answer bigger than this is not a health check any more. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface InstantQueryRequest {
  readonly baseUrl: string;
  readonly query: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly dispatcher: Dispatcher;
  /** Aborted by the caller (shutdown) or by the deadline; `deadline` tells which. */
  readonly signal: AbortSignal;
  readonly deadline: AbortSignal;
}

/** `<base>/api/v1/query`, keeping a path prefix such as `http://host/prometheus`. */
export function queryEndpoint(baseUrl: string): URL {
  const base = new URL(baseUrl);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  base.search = '';
  base.hash = '';
  return new URL('api/v1/query', base);
}

export async function instantQuery(req: InstantQueryRequest): Promise<QueryOutcome> {
  const url = queryEndpoint(req.baseUrl);
  url.searchParams.set('query', req.query);
  const signal = AbortSignal.any([req.signal, req.deadline]);
  try {
    const response = await request(url, {
      method: 'GET',
      headers: { accept: 'application/json', ...req.headers },
      dispatcher: req.dispatcher,
      signal,
    });
    const body = await readCapped(response.body, MAX_BODY_BYTES);
    if (body === null)
      return { ok: false, reason: 'QueryError', message: `response larger than ${MAX_BODY_BYTES} bytes` };
    return parseQueryResponse(response.statusCode, body);
  } catch (error) {
    return transportFailure(error, req, url);
  }
}

async function readCapped(
  body: AsyncIterable<Uint8Array> & { destroy?: () => unknown },
  max: number,
): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > max) {
      body.destroy?.();
      return null;
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function transportFailure(error: unknown, req: InstantQueryRequest, url: URL): QueryOutcome {
  const where = `Prometheus at ${url.origin}${url.pathname}`;
  if (req.signal.aborted) return { ok: false, reason: 'Aborted', message: 'check aborted (shutting down)' };
  if (req.deadline.aborted)
    return { ok: false, reason: 'Timeout', message: `${where} did not answer in time` };
  const code = errorCode(error);
  const text = error instanceof Error ? error.message : String(error);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return { ok: false, reason: 'Timeout', message: `${where} did not answer in time (${code})` };
  }
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    return {
      ok: false,
      reason: 'Unreachable',
      message: `${where} is unreachable: ${code}${text && !text.includes(code) ? ` (${text})` : ''}`,
    };
  }
  // Anything else on the wire (TLS failure, malformed HTTP) also means we cannot reach a working server.
  return {
    ok: false,
    reason: 'Unreachable',
    message: `${where} failed: ${code ?? ''}${code ? ' ' : ''}${text}`,
  };
}

function errorCode(error: unknown): string | undefined {
  // Node wraps connection errors; the code can sit on the error or on its cause (or an AggregateError).
  for (
    let current: unknown = error, depth = 0;
    current !== undefined && current !== null && depth < 4;
    depth += 1
  ) {
    const record = current as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof record.code === 'string') return record.code;
    if (Array.isArray(record.errors) && record.errors.length > 0) {
      const inner = record.errors[0] as { code?: unknown };
      if (typeof inner.code === 'string') return inner.code;
    }
    current = record.cause;
  }
  return undefined;
}
