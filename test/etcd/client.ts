// etcd3 client helpers for tests: every call bounded by our own deadline, because the client keeps
// retrying endpoints that are down and a call to a partitioned member may never answer.
import { Etcd3 } from 'etcd3';

export const DEFAULT_CALL_TIMEOUT_MS = 3_000;

/** A client for `endpoints` whose unary calls carry a gRPC deadline (streams, like keepalive, do not). */
export function etcdClient(endpoints: readonly string[], callTimeoutMs = DEFAULT_CALL_TIMEOUT_MS): Etcd3 {
  return new Etcd3({
    hosts: [...endpoints],
    dialTimeout: callTimeoutMs,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
  });
}

export class DeadlineError extends Error {}

/** `call()`, or a DeadlineError naming `what` once `ms` have passed. */
export async function bounded<T>(what: string, ms: number, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([call(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export type Outcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** Settles `call()` within `ms` into a value or the error's text (never rejects). */
export async function attempt<T>(what: string, ms: number, call: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await bounded(what, ms, call) };
  } catch (error) {
    return {
      ok: false,
      error: error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error),
    };
  }
}

/** Runs `use` with a fresh client (no retry or circuit-breaker state carried over) and closes it. */
export async function withClient<T>(
  endpoints: readonly string[],
  use: (client: Etcd3) => Promise<T>,
  callTimeoutMs = DEFAULT_CALL_TIMEOUT_MS,
): Promise<T> {
  const client = etcdClient(endpoints, callTimeoutMs);
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

/** Polls `check` every `everyMs` until it returns true; resolves with the elapsed ms, rejects after `ms`. */
export async function eventually(
  what: string,
  ms: number,
  check: () => Promise<boolean>,
  everyMs = 100,
): Promise<number> {
  const begin = performance.now();
  for (;;) {
    if (await check()) return performance.now() - begin;
    if (performance.now() - begin > ms) throw new Error(`${what}: not true within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
