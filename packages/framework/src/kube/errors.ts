/**
 * One classification for every error @kubernetes/client-node can throw. Shapes differ between
 * HTTP errors (`ApiException`: numeric `code`, `body` a JSON string of a v1.Status), network
 * errors (2.x: `TypeError('fetch failed')` with `cause.code`), aborts (`AbortError` /
 * `TimeoutError` DOMExceptions) and watch errors (`statusCode`). Shapes are checked structurally,
 * never with `instanceof`, which fails when two copies of the library are installed.
 */
import { STATUS_CODES } from 'node:http';

export type K8sErrorKind =
  | 'conflict'
  | 'not-found'
  | 'already-exists'
  | 'timeout'
  | 'network'
  | 'forbidden'
  | 'invalid'
  | 'server'
  | 'unknown';

export interface ClassifiedK8sError {
  readonly kind: K8sErrorKind;
  /** HTTP status, when the server answered. */
  readonly status?: number;
  /**
   * A 404 for the resource TYPE, not for an object: the server does not serve that path at all
   * (for a custom resource: its CRD is not installed). Never to be read as "the object is absent".
   */
  readonly resourceMissing?: true;
  /** One line for a human: `GET leases/x: 403 Forbidden: <the server's message>`; never a raw dump. */
  readonly message: string;
}

/** What was being done, to name it in the message. */
export interface K8sOperation {
  /** HTTP verb, e.g. GET, PATCH. */
  readonly verb: string;
  /** e.g. `leases/cardano-node-leader`. */
  readonly resource: string;
  /** For a custom resource: its CRD's name and kind, to say plainly when it is not installed. */
  readonly crd?: { readonly name: string; readonly kind: string };
}

/** A server message is shown whole up to this length (a Status message is one sentence). */
const MAX_SERVER_MESSAGE_CHARS = 300;

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT',
]);
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

interface StatusLike {
  reason?: unknown;
  message?: unknown;
  code?: unknown;
  details?: unknown;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** `ApiException.body` is a JSON string of a v1.Status for most codes; sometimes already parsed. */
function parseStatusBody(body: unknown): StatusLike | undefined {
  if (typeof body === 'string') {
    try {
      return asRecord(JSON.parse(body)) as StatusLike | undefined;
    } catch {
      return undefined;
    }
  }
  return asRecord(body) as StatusLike | undefined;
}

function kindFromStatus(status: number, reason: string | undefined): K8sErrorKind {
  if (status === 409) return reason === 'AlreadyExists' ? 'already-exists' : 'conflict';
  if (status === 404) return 'not-found';
  if (status === 401 || status === 403) return 'forbidden';
  if (status === 400 || status === 422) return 'invalid';
  if (status === 408 || status === 504) return 'timeout';
  if (status === 429 || status >= 500) return 'server';
  return 'unknown';
}

function firstString(...values: unknown[]): string | undefined {
  for (const v of values) if (typeof v === 'string' && v !== '') return v;
  return undefined;
}

function bounded(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_SERVER_MESSAGE_CHARS
    ? `${oneLine.slice(0, MAX_SERVER_MESSAGE_CHARS)}…`
    : oneLine;
}

function httpFailure(status: number, body: unknown, operation: K8sOperation | undefined): ClassifiedK8sError {
  const parsed = parseStatusBody(body);
  const reason = firstString(parsed?.reason);
  const serverMessage = firstString(parsed?.message);
  const kind = kindFromStatus(status, reason);
  const prefix = operation ? `${operation.verb} ${operation.resource}: ` : '';
  // An object that is not there comes back as a Status naming it (details.name); a path the server
  // does not serve comes back as a bare "404 page not found" or a Status without a name.
  const resourceMissing = status === 404 && firstString(asRecord(parsed?.details)?.name) === undefined;
  if (resourceMissing && operation?.crd) {
    return {
      kind,
      status,
      resourceMissing,
      message: `${prefix}the ${operation.crd.kind} CRD (${operation.crd.name}) is not installed: kubectl apply -f deploy/crds/`,
    };
  }
  // The exception's own message is a dump of the body and headers: never passed on.
  const text = `${prefix}${status} ${STATUS_CODES[status] ?? 'HTTP error'}${serverMessage ? `: ${bounded(serverMessage)}` : ''}`;
  return resourceMissing ? { kind, status, resourceMissing, message: text } : { kind, status, message: text };
}

export function classifyK8sError(error: unknown, operation?: K8sOperation): ClassifiedK8sError {
  const e = asRecord(error);
  const ownMessage = firstString(e?.message) ?? String(error);
  if (e === undefined) return { kind: 'unknown', message: ownMessage };

  // HTTP status from an ApiException (`code`) or a watch error (`statusCode`). DOMExceptions
  // also carry a numeric legacy `code` (20, 23), hence the HTTP range check.
  const isHttp = (v: unknown): v is number => typeof v === 'number' && v >= 100 && v <= 599;
  const status = isHttp(e.code) ? e.code : isHttp(e.statusCode) ? e.statusCode : undefined;
  if (status !== undefined) return httpFailure(status, e.body, operation);

  const name = firstString(e.name);
  if (name === 'TimeoutError') return { kind: 'timeout', message: ownMessage };
  if (name === 'AbortError') {
    // An abort whose reason is a timeout is a timeout; other aborts are cancellations we issued.
    const reasonName = firstString(asRecord(e.cause)?.name);
    return { kind: reasonName === 'TimeoutError' ? 'timeout' : 'unknown', message: ownMessage };
  }

  // undici's fetch wraps the socket error: TypeError('fetch failed') with `cause`.
  const cause = asRecord(e.cause);
  const code = firstString(e.code, cause?.code);
  const causeName = firstString(cause?.name);
  const detail = firstString(cause?.message);
  const message = detail !== undefined && detail !== ownMessage ? `${ownMessage}: ${detail}` : ownMessage;
  if (causeName === 'TimeoutError' || (code !== undefined && TIMEOUT_CODES.has(code)))
    return { kind: 'timeout', message };
  if (causeName === 'AbortError') return { kind: 'unknown', message };
  if (code !== undefined && NETWORK_CODES.has(code))
    return { kind: 'network', message: `${code}: ${message}` };
  if (ownMessage === 'fetch failed' || ownMessage === 'terminated') return { kind: 'network', message };
  return { kind: 'unknown', message };
}
