/**
 * The only side effects of the lease elector: read / create / replace / watch ONE Lease.
 * Expected failures come back as data (`ok: false` with a classified error), so the elector's
 * algorithm can be driven by an in-memory fake (fake-lease-api.ts) in unit tests and in the
 * deterministic simulation, and by the real API server in integration tests.
 */
import { CoordinationV1Api, Watch, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { classifyK8sError, type ClassifiedK8sError } from '../../kube/errors.js';
import { withTimeout } from '../../kube/request-options.js';

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

async function settle(call: () => Promise<V1Lease>): Promise<LeaseCallResult> {
  try {
    return { ok: true, lease: await call() };
  } catch (error) {
    return { ok: false, error: classifyK8sError(error) };
  }
}

/** The real thing, on @kubernetes/client-node 2.x. */
export function createKubernetesLeaseApi(kubeConfig: KubeConfig, namespace: string, name: string): LeaseApi {
  const coordination = kubeConfig.makeApiClient(CoordinationV1Api);
  const watcher = new Watch(kubeConfig);
  const path = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
  return {
    namespace,
    name,
    read: ({ timeoutMs, signal }) =>
      settle(() => coordination.readNamespacedLease({ name, namespace }, withTimeout(timeoutMs, signal))),
    create: (lease, { timeoutMs, signal }) =>
      settle(() =>
        coordination.createNamespacedLease({ namespace, body: lease }, withTimeout(timeoutMs, signal)),
      ),
    replace: (lease, { timeoutMs, signal }) =>
      settle(() =>
        coordination.replaceNamespacedLease({ name, namespace, body: lease }, withTimeout(timeoutMs, signal)),
      ),
    watch(onEvent, onDone) {
      let stopped = false;
      let finished = false;
      const finish = (error: ClassifiedK8sError | null): void => {
        if (finished || stopped) return;
        finished = true;
        onDone(error);
      };
      const controller = watcher
        .watch(
          path,
          { fieldSelector: `metadata.name=${name}`, allowWatchBookmarks: false },
          (type, object: unknown) => {
            if (stopped) return;
            if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
              onEvent(type, object as V1Lease);
            } else if (type === 'ERROR') {
              // Mid-stream expiry (410 Gone) and friends arrive as an ERROR event with a Status.
              const status = object as { code?: unknown; message?: unknown } | undefined;
              finish(classifyK8sError({ code: status?.code, message: status?.message, body: object }));
            }
          },
          (error: unknown) => finish(error === null || error === undefined ? null : classifyK8sError(error)),
        )
        .catch((error: unknown) => {
          finish(classifyK8sError(error));
          return undefined;
        });
      return {
        stop() {
          stopped = true;
          void controller.then((c) => c?.abort());
        },
      };
    },
  };
}
