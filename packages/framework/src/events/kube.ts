/**
 * The EventSink on the API server: core/v1 Events (what `kubectl describe` lists, with count and
 * first/last timestamps) about this pod. `kubectl describe pod` selects events by
 * involvedObject.uid, so the uid comes from POD_UID (downward API, no RBAC needed) or, failing
 * that, from one read of the pod (needs `get` on it).
 */
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { createKubeClient, forgeUserAgent, MERGE_PATCH } from '../kube/client.js';
import type { KubeConfig } from '../kube/kubeconfig.js';
import type { EventSink } from './recorder.js';

export interface KubeEventSinkOptions {
  readonly namespace: string;
  /** The object the events are about (normally this pod). */
  readonly involvedObject: {
    readonly kind: string;
    readonly name: string;
    readonly apiVersion: string;
    /** The pod's uid (POD_UID from the downward API); when absent it is read from the pod once. */
    readonly uid?: string | undefined;
  };
  /** reportingComponent / source.component. */
  readonly component: string;
  /** reportingInstance / source.host (the pod name). */
  readonly instance: string;
  readonly timeoutMs: number;
}

export function createKubeEventSink(kubeConfig: KubeConfig, options: KubeEventSinkOptions): EventSink {
  const client = createKubeClient(kubeConfig, { userAgent: forgeUserAgent(options.instance) });
  const { namespace, involvedObject } = options;
  const events = `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`;
  const timeoutMs = options.timeoutMs;
  let uid: Promise<string | undefined> | null = null;
  const involvedUid = (): Promise<string | undefined> => {
    if (involvedObject.uid) return Promise.resolve(involvedObject.uid);
    if (involvedObject.kind !== 'Pod') return Promise.resolve(undefined);
    uid ??= client
      .request<V1Pod>({
        method: 'GET',
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(involvedObject.name)}`,
        timeoutMs,
      })
      .then((pod) => pod.metadata?.uid)
      .catch(() => {
        uid = null; // try again with the next event
        return undefined;
      });
    return uid;
  };
  return {
    async create(event, count, first, last) {
      const podUid = await involvedUid();
      const name = `${involvedObject.name}.${(first.getTime() * 1_000_000).toString(16)}${randomBytes(2).toString('hex')}`;
      const body: CoreV1Event = {
        metadata: { name, namespace },
        involvedObject: {
          kind: involvedObject.kind,
          name: involvedObject.name,
          apiVersion: involvedObject.apiVersion,
          namespace,
          ...(podUid ? { uid: podUid } : {}),
        },
        type: event.type,
        reason: event.reason,
        // The API server rejects messages over 1 KiB in events.k8s.io; keep core/v1 within it too.
        message: event.message.length > 1024 ? `${event.message.slice(0, 1021)}...` : event.message,
        count,
        firstTimestamp: first,
        lastTimestamp: last,
        source: { component: options.component, host: options.instance },
        reportingComponent: options.component,
        reportingInstance: options.instance,
      };
      await client.request({ method: 'POST', path: events, body, timeoutMs });
      return name;
    },
    async update(name, count, last) {
      await client.request({
        method: 'PATCH',
        path: `${events}/${encodeURIComponent(name)}`,
        body: { count, lastTimestamp: last.toISOString() },
        contentType: MERGE_PATCH,
        timeoutMs,
      });
    },
  };
}
