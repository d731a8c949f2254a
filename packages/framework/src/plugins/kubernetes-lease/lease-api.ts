/**
 * The only side effects of the lease elector: read / create / replace / watch ONE Lease.
 * Expected failures come back as data (`ok: false` with a classified error), so the elector's
 * algorithm can be driven by an in-memory fake (fake-lease-api.ts) in unit tests and in the
 * deterministic simulation, and by the real API server in integration tests.
 */
import type { V1Lease } from '@kubernetes/client-node';
import type { KubeClient } from '../../kube/client.js';
import { classifyK8sError, type ClassifiedK8sError } from '../../kube/errors.js';

export type LeaseCallResult =
  { readonly ok: true; readonly lease: V1Lease } | { readonly ok: false; readonly error: ClassifiedK8sError };

export interface LeaseCallOptions {
  /** Hard per-call timeout (the implementation must give up by then). */
  readonly timeoutMs: number;
  /** Fires when the caller's own deadline passes or it is shutting down. */
  readonly signal: AbortSignal;
}

export type LeaseWatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface LeaseWatchHandle {
  stop(): void;
}

export interface LeaseApi {
  readonly namespace: string;
  readonly name: string;
  read(options: LeaseCallOptions): Promise<LeaseCallResult>;
  create(lease: V1Lease, options: LeaseCallOptions): Promise<LeaseCallResult>;
  /** PUT with `lease.metadata.resourceVersion` as the compare-and-swap precondition (409 = lost). */
  replace(lease: V1Lease, options: LeaseCallOptions): Promise<LeaseCallResult>;
  /**
   * Watches this one Lease. `onDone` is called exactly once when the watch ends for any reason
   * (error, server close, client timeout); the caller restarts it. Not called after `stop()`.
   */
  watch(
    onEvent: (type: LeaseWatchEventType, lease: V1Lease) => void,
    onDone: (error: ClassifiedK8sError | null) => void,
  ): LeaseWatchHandle;
}

async function settle(call: () => Promise<unknown>): Promise<LeaseCallResult> {
  try {
    return { ok: true, lease: (await call()) as V1Lease };
  } catch (error) {
    return { ok: false, error: classifyK8sError(error) };
  }
}

/**
 * The server ends a watch after this long (a normal close; the elector restarts it, and the
 * restart's initial ADDED event is the standby's resync). Jittered so pods do not reconnect in step.
 */
const WATCH_SECONDS = { min: 240, spread: 120 };

/** The real thing, over the framework's keep-alive client (kube/client.ts). */
export function createKubernetesLeaseApi(client: KubeClient, namespace: string, name: string): LeaseApi {
  const collection = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  const item = `${collection}/${encodeURIComponent(name)}`;
  return {
    namespace,
    name,
    read: ({ timeoutMs, signal }) =>
      settle(() => client.request({ method: 'GET', path: item, timeoutMs, signal })),
    create: (lease, { timeoutMs, signal }) =>
      settle(() => client.request({ method: 'POST', path: collection, body: lease, timeoutMs, signal })),
    replace: (lease, { timeoutMs, signal }) =>
      settle(() => client.request({ method: 'PUT', path: item, body: lease, timeoutMs, signal })),
    watch(onEvent, onDone) {
      const handle = client.watch(
        collection,
        { fieldSelector: `metadata.name=${name}`, allowWatchBookmarks: false },
        (type, object) => {
          if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
            onEvent(type, object as V1Lease);
          } else if (type === 'ERROR') {
            // Mid-stream expiry (410 Gone) and friends arrive as an ERROR event with a Status.
            const status = object as { code?: unknown; message?: unknown } | undefined;
            handle.stop();
            onDone(classifyK8sError({ code: status?.code, message: status?.message, body: object }));
          }
        },
        (error) => onDone(error === null || error === undefined ? null : classifyK8sError(error)),
        { timeoutSeconds: WATCH_SECONDS.min + Math.floor(Math.random() * WATCH_SECONDS.spread) },
      );
      return handle;
    },
  };
}
