/**
 * Per-call options for @kubernetes/client-node 2.x generated APIs.
 *
 * The library has no request timeout of its own, so a half-open connection can hang a call for
 * minutes (the G5 bug of the Python sidecar). Every call the framework makes goes through
 * `withTimeout`. Pitfalls encoded here (see docs/reference, client-node §2.4):
 *  - per-call middleware must return the library's own `Observable`, not a Promise;
 *  - the default merge strategy `replace` drops the client's own middleware, so we `append`.
 */
import type { ConfigurationOptions, RequestContext, ResponseContext } from '@kubernetes/client-node';
// Deep imports of three small modules: the package entry would load every generated model
// (see kubeconfig.ts) into whatever imports the framework's main entry.
import { Observable } from '@kubernetes/client-node/dist/gen/rxjsStub.js';
import { setHeaderOptions } from '@kubernetes/client-node/dist/middleware.js';
import { PatchStrategy } from '@kubernetes/client-node/dist/patch.js';

/**
 * Aborts the request after `ms` milliseconds, or earlier when `signal` fires (so a caller can
 * cancel an in-flight request when its own deadline, measured on its own clock, passes).
 */
export function withTimeout(ms: number, signal?: AbortSignal): ConfigurationOptions {
  if (!(ms > 0) || !Number.isFinite(ms))
    throw new Error(`withTimeout: ms must be a positive finite number, got ${ms}`);
  return {
    middleware: [
      {
        pre: (ctx: RequestContext) => {
          const timeout = AbortSignal.timeout(Math.ceil(ms));
          ctx.setSignal(signal === undefined ? timeout : AbortSignal.any([timeout, signal]));
          return new Observable(Promise.resolve(ctx));
        },
        post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

/**
 * Options for a JSON merge patch (RFC 7386) with a timeout. Without the explicit Content-Type
 * the generated PATCH methods send `application/json-patch+json` and a merge-style body is
 * rejected.
 */
export function mergePatchOptions(timeoutMs: number, signal?: AbortSignal): ConfigurationOptions {
  return setHeaderOptions('Content-Type', PatchStrategy.MergePatch, withTimeout(timeoutMs, signal));
}
