/** Reason tokens this probe reports (HealthResult.reason). */
export type HttpProbeReason =
  | 'Healthy'
  | 'UnexpectedStatus'
  | 'Timeout'
  | 'ConnectionRefused'
  | 'TlsError'
  | 'BadJson'
  | 'JsonMismatch'
  | 'RequestFailed';

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

// OpenSSL verification codes as Node reports them in err.code.
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
  'EPROTO',
]);

/** Every error `code` in an error, its `cause` chain and AggregateError members (happy eyeballs). */
function errorCodes(error: unknown, depth = 0): string[] {
  if (typeof error !== 'object' || error === null || depth > 4) return [];
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown };
  const codes = typeof e.code === 'string' ? [e.code] : [];
  codes.push(...errorCodes(e.cause, depth + 1));
  if (Array.isArray(e.errors)) for (const inner of e.errors) codes.push(...errorCodes(inner, depth + 1));
  return codes;
}

function firstMessage(error: unknown): string {
  if (error instanceof Error) {
    if (error.message) return error.message;
    const inner = (error as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner[0] instanceof Error) return inner[0].message;
    return error.name;
  }
  return String(error);
}

export interface ClassifiedError {
  readonly reason: Exclude<HttpProbeReason, 'Healthy' | 'UnexpectedStatus' | 'BadJson' | 'JsonMismatch'>;
  readonly detail: string;
}

/** Maps a thrown request error to a reason; `timedOut` says the probe's own deadline fired. */
export function classifyRequestError(error: unknown, timedOut: boolean): ClassifiedError {
  const codes = errorCodes(error);
  const detail = `${codes[0] ?? (error instanceof Error ? error.name : 'error')}: ${firstMessage(error)}`;
  if (timedOut || codes.some((c) => TIMEOUT_CODES.has(c))) return { reason: 'Timeout', detail };
  if (codes.includes('ECONNREFUSED')) return { reason: 'ConnectionRefused', detail };
  if (codes.some((c) => TLS_CODES.has(c) || c.startsWith('ERR_TLS_') || c.startsWith('ERR_SSL_'))) {
    return { reason: 'TlsError', detail };
  }
  return { reason: 'RequestFailed', detail };
}
