/**
 * The cluster manager's only door to the API server: one CardanoForgeCluster object, read,
 * created, status-patched and watched. Behind an interface so the manager's logic can run
 * against a fake in unit tests; every call is bounded by a timeout (no hanging call, G5).
 */
import { createKubeClient, forgeUserAgent, MERGE_PATCH } from '../kube/client.js';
import { classifyK8sError, type K8sErrorKind, type K8sOperation } from '../kube/errors.js';
import type { KubeConfig } from '../kube/kubeconfig.js';

export interface ClusterObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly generation?: number;
    readonly resourceVersion?: string;
    readonly uid?: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
  readonly spec?: unknown;
  readonly status?: Readonly<Record<string, unknown>>;
}

export type GatewayResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly kind: K8sErrorKind; readonly status?: number; readonly message: string };

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchHandle {
  abort(): void;
}

export interface ClusterObjectGateway {
  /** `null` when the object does not exist. */
  get(name: string): Promise<GatewayResult<ClusterObject | null>>;
  create(body: ClusterObject): Promise<GatewayResult<ClusterObject>>;
  /**
   * JSON merge patch of `/status`. With `resourceVersion` the patch only applies to that
   * version (409 otherwise): used when a former leader clears its own name.
   */
  patchStatus(
    name: string,
    status: Record<string, unknown>,
    resourceVersion?: string,
  ): Promise<GatewayResult<ClusterObject>>;
  /**
   * Watches the single object by fieldSelector from "now": the server first sends the current
   * object as ADDED. `onDone` fires exactly once, when the watch ends for any reason.
   */
  watch(
    name: string,
    onEvent: (type: WatchEventType, object: ClusterObject) => void,
    onDone: (error: unknown) => void,
  ): Promise<WatchHandle>;
}

export interface KubeGatewayOptions {
  readonly namespace: string;
  readonly group: string;
  readonly version: string;
  readonly plural?: string;
  readonly requestTimeoutMs: number;
  /** Server-side watch timeout; the watch is re-opened after it (which also re-reads the object). */
  readonly watchTimeoutSeconds?: number;
  /** Names the pod in the API server's audit log. */
  readonly podName?: string;
}

function failure(error: unknown, operation: K8sOperation): GatewayResult<never> {
  const c = classifyK8sError(error, operation);
  return c.status === undefined
    ? { ok: false, kind: c.kind, message: c.message }
    : { ok: false, kind: c.kind, status: c.status, message: c.message };
}

function isClusterObject(value: unknown): value is ClusterObject {
  const metadata = (value as { metadata?: { name?: unknown } } | null)?.metadata;
  return typeof metadata?.name === 'string';
}

export function createKubeClusterGateway(
  kubeConfig: KubeConfig,
  options: KubeGatewayOptions,
): ClusterObjectGateway {
  const plural = options.plural ?? 'cardanoforgeclusters';
  const client = createKubeClient(kubeConfig, {
    userAgent: forgeUserAgent(options.podName ?? 'cluster-manager'),
  });
  const collection = `/apis/${options.group}/${options.version}/namespaces/${encodeURIComponent(options.namespace)}/${plural}`;
  const item = (name: string): string => `${collection}/${encodeURIComponent(name)}`;
  const timeoutMs = options.requestTimeoutMs;
  const crd = { name: `${plural}.${options.group}`, kind: 'CardanoForgeCluster' };
  const op = (verb: string, name?: string): K8sOperation => ({
    verb,
    resource: name === undefined ? plural : `${plural}/${name}`,
    crd,
  });
  const unexpected = (what: string): GatewayResult<never> => ({
    ok: false,
    kind: 'unknown',
    message: `${what}: response is not an object with metadata.name`,
  });
  return {
    async get(name) {
      try {
        const body: unknown = await client.request({ method: 'GET', path: item(name), timeoutMs });
        return isClusterObject(body) ? { ok: true, value: body } : unexpected('get');
      } catch (error) {
        // Absent object → null; a path the server does not serve (CRD not installed) stays an error.
        const absent =
          classifyK8sError(error).kind === 'not-found' && !classifyK8sError(error).resourceMissing;
        return absent ? { ok: true, value: null } : failure(error, op('GET', name));
      }
    },
    async create(body) {
      try {
        const created: unknown = await client.request({ method: 'POST', path: collection, body, timeoutMs });
        return isClusterObject(created) ? { ok: true, value: created } : unexpected('create');
      } catch (error) {
        return failure(error, op('POST'));
      }
    },
    async patchStatus(name, status, resourceVersion) {
      const body = resourceVersion === undefined ? { status } : { metadata: { resourceVersion }, status };
      try {
        const patched: unknown = await client.request({
          method: 'PATCH',
          path: `${item(name)}/status`,
          body,
          contentType: MERGE_PATCH,
          timeoutMs,
        });
        return isClusterObject(patched) ? { ok: true, value: patched } : unexpected('patch status');
      } catch (error) {
        return failure(error, op('PATCH', `${name}/status`));
      }
    },
    watch(name, onEvent, onDone) {
      let finished = false;
      const done = (error: unknown): void => {
        if (finished) return;
        finished = true;
        onDone(error);
      };
      const handle = client.watch(
        collection,
        { fieldSelector: `metadata.name=${name}`, allowWatchBookmarks: true },
        (type, object) => {
          if (type === 'ERROR') {
            handle.stop();
            done(
              Object.assign(new Error(`watch ERROR event: ${JSON.stringify(object)}`), {
                statusCode: (object as { code?: unknown })?.code,
              }),
            );
            return;
          }
          if (isClusterObject(object)) onEvent(type as WatchEventType, object);
        },
        done,
        { timeoutSeconds: options.watchTimeoutSeconds ?? 25 },
      );
      return Promise.resolve({
        abort: () => {
          handle.stop();
          done(null);
        },
      });
    },
  };
}
