// Pure evaluation of Kubernetes objects: no I/O, so the rules are unit-testable on plain objects.
import type { V1Node, V1Pod, V1Deployment, V1StatefulSet } from '@kubernetes/client-node';

export type K8sProbeReason =
  | 'Healthy'
  | 'PodsNotReady'
  | 'WorkloadUnavailable'
  | 'NodeNotReady'
  | 'NotFound'
  | 'Forbidden'
  | 'ApiError'
  | 'Timeout';

export interface CheckOutcome {
  readonly healthy: boolean;
  readonly reason: K8sProbeReason;
  readonly message: string;
  readonly [detail: string]: unknown;
}

/** Lists in messages and details are cut here: a big cluster must not flood the status. */
const MAX_NAMES = 10;

function names(list: readonly string[]): string {
  const shown = list.slice(0, MAX_NAMES).join(', ');
  return list.length > MAX_NAMES ? `${shown} and ${list.length - MAX_NAMES} more` : shown;
}

export function isPodReady(pod: V1Pod): boolean {
  // A terminating pod still reports Ready until it is gone, but it will not serve for long.
  if (pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null) return false;
  if (pod.status?.phase !== 'Running') return false;
  return pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function evaluatePods(pods: readonly V1Pod[], labelSelector: string, minReady: number): CheckOutcome {
  const ready = pods.filter(isPodReady).map((p) => p.metadata?.name ?? '?');
  const notReady = pods.filter((p) => !isPodReady(p)).map((p) => p.metadata?.name ?? '?');
  const counts = {
    ready: ready.length,
    total: pods.length,
    minReady,
    notReadyPods: notReady.slice(0, MAX_NAMES),
  };
  if (pods.length === 0) {
    return { healthy: false, reason: 'NotFound', message: `no pods match "${labelSelector}"`, ...counts };
  }
  if (ready.length >= minReady) {
    return {
      healthy: true,
      reason: 'Healthy',
      message: `${ready.length}/${pods.length} pods ready (min ${minReady})`,
      ...counts,
    };
  }
  return {
    healthy: false,
    reason: 'PodsNotReady',
    message: `${ready.length}/${pods.length} pods ready, need ${minReady}; not ready: ${names(notReady)}`,
    ...counts,
  };
}

export function evaluateWorkload(
  kind: 'Deployment' | 'StatefulSet',
  workload: V1Deployment | V1StatefulSet,
  minAvailableOption: number | undefined,
): CheckOutcome {
  const name = workload.metadata?.name ?? '?';
  const desired = workload.spec?.replicas ?? 1;
  const status = workload.status;
  // StatefulSet.status.availableReplicas is GA since 1.22; older servers only have readyReplicas.
  const available =
    kind === 'StatefulSet'
      ? (status?.availableReplicas ?? status?.readyReplicas ?? 0)
      : (status?.availableReplicas ?? 0);
  const minAvailable = minAvailableOption ?? Math.max(1, desired);
  const facts = { kind, name, desired, available, readyReplicas: status?.readyReplicas ?? 0, minAvailable };
  if (available >= minAvailable) {
    return {
      healthy: true,
      reason: 'Healthy',
      message: `${kind} ${name}: ${available}/${desired} available (min ${minAvailable})`,
      ...facts,
    };
  }
  return {
    healthy: false,
    reason: 'WorkloadUnavailable',
    message: `${kind} ${name}: ${available}/${desired} available, need ${minAvailable}`,
    ...facts,
  };
}

const PRESSURE_CONDITIONS = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'NetworkUnavailable'];

export function evaluateNodes(
  nodes: readonly V1Node[],
  labelSelector: string | undefined,
  requireReady: boolean,
): CheckOutcome {
  const selector = labelSelector === undefined ? 'all nodes' : `nodes matching "${labelSelector}"`;
  const readyOf = (n: V1Node): boolean =>
    n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const notReady = nodes.filter((n) => !readyOf(n)).map((n) => n.metadata?.name ?? '?');
  // Pressure conditions are reported, not judged: the kubelet already taints and evicts on them.
  const pressure = nodes.flatMap((n) =>
    (n.status?.conditions ?? [])
      .filter((c) => PRESSURE_CONDITIONS.includes(c.type) && c.status === 'True')
      .map((c) => `${n.metadata?.name ?? '?'}:${c.type}`),
  );
  const facts = {
    total: nodes.length,
    ready: nodes.length - notReady.length,
    notReadyNodes: notReady.slice(0, MAX_NAMES),
    pressure: pressure.slice(0, MAX_NAMES),
  };
  if (nodes.length === 0) return { healthy: false, reason: 'NotFound', message: `no ${selector}`, ...facts };
  if (requireReady && notReady.length > 0) {
    return {
      healthy: false,
      reason: 'NodeNotReady',
      message: `${notReady.length}/${nodes.length} ${selector} not Ready: ${names(notReady)}`,
      ...facts,
    };
  }
  return {
    healthy: true,
    reason: 'Healthy',
    message: `${nodes.length - notReady.length}/${nodes.length} ${selector} Ready${requireReady ? '' : ' (readiness not required)'}`,
    ...facts,
  };
}

/** Maps a @kubernetes/client-node 2.x error to a reason (no instanceof: two package copies break it). */
export function classifyKubeError(
  error: unknown,
  timedOut: boolean,
): { reason: K8sProbeReason; detail: string } {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
    cause?: unknown;
    body?: unknown;
  };
  const message = typeof e.message === 'string' ? e.message : String(error);
  // Before the status check: an aborted fetch throws a DOMException whose legacy numeric `code` is 23.
  if (timedOut || e.name === 'TimeoutError') return { reason: 'Timeout', detail: message };
  if (typeof e.code === 'number' && e.name !== 'AbortError' && e.code >= 100 && e.code <= 599) {
    const status = e.code;
    const apiMessage = statusMessage(e.body);
    const detail = `HTTP ${status}${apiMessage === undefined ? '' : `: ${apiMessage}`}`;
    if (status === 404) return { reason: 'NotFound', detail };
    if (status === 401 || status === 403) return { reason: 'Forbidden', detail };
    return { reason: 'ApiError', detail };
  }
  const cause = (typeof e.cause === 'object' && e.cause !== null ? e.cause : {}) as {
    code?: unknown;
    message?: unknown;
  };
  const errno = typeof cause.code === 'string' ? cause.code : typeof e.code === 'string' ? e.code : undefined;
  if (errno === 'ETIMEDOUT' || errno === 'UND_ERR_CONNECT_TIMEOUT' || errno === 'UND_ERR_HEADERS_TIMEOUT') {
    return { reason: 'Timeout', detail: `${errno}: ${message}` };
  }
  const causeMessage = typeof cause.message === 'string' ? `: ${cause.message}` : '';
  return { reason: 'ApiError', detail: `${errno ?? message}${causeMessage}` };
}

/** ApiException.body is usually the v1.Status as a JSON string. */
function statusMessage(body: unknown): string | undefined {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.slice(0, 200) || undefined;
    }
  }
  const m = (parsed as { message?: unknown } | null)?.message;
  return typeof m === 'string' ? m.slice(0, 300) : undefined;
}
