import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { V1Node, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { pluginShapeProblems } from '@cardano-forge/framework';
import plugin, {
  PLUGIN_VERSION,
  classifyKubeError,
  evaluateNodes,
  evaluatePods,
  evaluateWorkload,
  healthK8sProbeOptionsSchema,
  healthK8sProbePlugin,
} from './index.js';

function pod(name: string, ready: boolean, extra: { phase?: string; deleting?: boolean } = {}): V1Pod {
  return {
    metadata: { name, ...(extra.deleting ? { deletionTimestamp: new Date() } : {}) },
    status: {
      phase: extra.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}

function node(name: string, ready: boolean | undefined, pressure: string[] = []): V1Node {
  const conditions = [
    ...(ready === undefined ? [] : [{ type: 'Ready', status: ready ? 'True' : 'False' }]),
    ...pressure.map((type) => ({ type, status: 'True' })),
  ];
  return { metadata: { name }, status: { conditions } };
}

describe('evaluatePods', () => {
  it.each([
    { pods: [pod('a', true)], min: 1, healthy: true, reason: 'Healthy' },
    { pods: [pod('a', true), pod('b', false)], min: 1, healthy: true, reason: 'Healthy' },
    { pods: [pod('a', true), pod('b', false)], min: 2, healthy: false, reason: 'PodsNotReady' },
    { pods: [pod('a', true, { phase: 'Pending' })], min: 1, healthy: false, reason: 'PodsNotReady' },
    { pods: [pod('a', true, { deleting: true })], min: 1, healthy: false, reason: 'PodsNotReady' },
    { pods: [], min: 1, healthy: false, reason: 'NotFound' },
  ])('$pods.length pods, min $min → $reason', ({ pods, min, healthy, reason }) => {
    const r = evaluatePods(pods, 'app=bp', min);
    expect(r).toMatchObject({ healthy, reason });
  });
  it('names the pods that are not ready', () => {
    const r = evaluatePods([pod('bp-0', false), pod('bp-1', false)], 'app=bp', 1);
    expect(r.message).toBe('0/2 pods ready, need 1; not ready: bp-0, bp-1');
    expect(r['notReadyPods']).toEqual(['bp-0', 'bp-1']);
  });
});

describe('evaluateWorkload', () => {
  const sts = (replicas: number | undefined, status: V1StatefulSet['status']): V1StatefulSet => ({
    metadata: { name: 'bp' },
    spec: { ...(replicas === undefined ? {} : { replicas }), selector: {}, serviceName: 'bp', template: {} },
    ...(status === undefined ? {} : { status }),
  });
  it.each([
    { replicas: 2, status: { replicas: 2, availableReplicas: 2 }, min: undefined, healthy: true },
    { replicas: 2, status: { replicas: 2, availableReplicas: 1 }, min: undefined, healthy: false },
    { replicas: 2, status: { replicas: 2, availableReplicas: 1 }, min: 1, healthy: true },
    { replicas: 0, status: { replicas: 0 }, min: undefined, healthy: false },
    { replicas: undefined, status: undefined, min: undefined, healthy: false },
    { replicas: 1, status: { replicas: 1, readyReplicas: 1 }, min: undefined, healthy: true },
  ])(
    'StatefulSet replicas=$replicas status=$status min=$min → healthy $healthy',
    ({ replicas, status, min, healthy }) => {
      const r = evaluateWorkload('StatefulSet', sts(replicas, status), min);
      expect(r.healthy).toBe(healthy);
      expect(r.reason).toBe(healthy ? 'Healthy' : 'WorkloadUnavailable');
    },
  );
  it('does not fall back to readyReplicas for a Deployment', () => {
    const r = evaluateWorkload(
      'Deployment',
      {
        metadata: { name: 'd' },
        spec: { replicas: 1, selector: {}, template: {} },
        status: { readyReplicas: 1 },
      },
      undefined,
    );
    expect(r).toMatchObject({
      healthy: false,
      reason: 'WorkloadUnavailable',
      message: 'Deployment d: 0/1 available, need 1',
    });
  });
});

describe('evaluateNodes', () => {
  it('requires every selected node to be Ready by default', () => {
    expect(evaluateNodes([node('n1', true), node('n2', true)], undefined, true)).toMatchObject({
      healthy: true,
    });
    const r = evaluateNodes([node('n1', true), node('n2', false), node('n3', undefined)], 'zone=a', true);
    expect(r).toMatchObject({ healthy: false, reason: 'NodeNotReady', notReadyNodes: ['n2', 'n3'] });
    expect(r.message).toContain('2/3 nodes matching "zone=a" not Ready: n2, n3');
  });
  it('only needs matching nodes when readiness is not required, and reports pressure', () => {
    const r = evaluateNodes([node('n1', false, ['DiskPressure'])], undefined, false);
    expect(r).toMatchObject({ healthy: true, pressure: ['n1:DiskPressure'] });
  });
  it('treats no matching node as NotFound', () => {
    expect(evaluateNodes([], 'role=bp', true)).toMatchObject({ healthy: false, reason: 'NotFound' });
  });
});

describe('classifyKubeError', () => {
  const api = (code: number, message: string) =>
    Object.assign(new Error(`HTTP-Code: ${code}`), {
      code,
      body: JSON.stringify({ kind: 'Status', message }),
    });
  it.each([
    [api(404, 'statefulsets.apps "x" not found'), 'NotFound', 'statefulsets.apps "x" not found'],
    [api(403, 'pods is forbidden'), 'Forbidden', 'pods is forbidden'],
    [api(401, 'Unauthorized'), 'Forbidden', 'Unauthorized'],
    [api(500, 'etcdserver: request timed out'), 'ApiError', 'HTTP 500'],
    [
      Object.assign(new TypeError('fetch failed'), {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      }),
      'ApiError',
      'ECONNREFUSED',
    ],
    [Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'Timeout', 'timed out'],
  ])('%s → %s', (error, reason, fragment) => {
    const r = classifyKubeError(error, false);
    expect(r.reason).toBe(reason);
    expect(r.detail).toContain(fragment);
  });
});

describe('options and plugin object', () => {
  it('requires at least one check with a clear message', () => {
    const r = healthK8sProbeOptionsSchema.safeParse({ timeoutMs: 1000 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe('configure at least one check: pods, workload or nodes');
  });
  it('applies defaults', () => {
    expect(healthK8sProbeOptionsSchema.parse({ pods: { labelSelector: 'app=bp' }, nodes: {} })).toEqual({
      pods: { labelSelector: 'app=bp', minReady: 1 },
      nodes: { requireReady: true },
      timeoutMs: 5000,
    });
  });
  it.each([
    [{ workload: { kind: 'DaemonSet', name: 'x' } }, 'workload.kind'],
    [{ pods: { labelSelector: '' } }, 'pods.labelSelector'],
    [{ pods: { labelSelector: 'a=b', minReady: 0 } }, 'pods.minReady'],
    [{ nodes: {}, extra: 1 }, ''],
  ])('rejects %j', (value, path) => {
    const r = healthK8sProbeOptionsSchema.safeParse(value);
    expect(r.success).toBe(false);
    if (path !== '') expect(r.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });
  it('is a well-formed health-probe plugin matching package.json', () => {
    expect(plugin).toBe(healthK8sProbePlugin);
    expect(pluginShapeProblems(plugin)).toEqual([]);
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      name: string;
      version: string;
      keywords: string[];
    };
    expect([plugin.name, PLUGIN_VERSION]).toEqual([pkg.name, pkg.version]);
    expect(pkg.keywords).toContain('cardano-forge-plugin');
  });
});

describe('classifyKubeError on aborts', () => {
  it('does not mistake a DOMException code (23 = TIMEOUT_ERR) for an HTTP status', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(timeout.code).toBe(23);
    expect(classifyKubeError(timeout, false).reason).toBe('Timeout');
    const aborted = new DOMException('aborted', 'AbortError');
    expect(classifyKubeError(aborted, false).reason).toBe('ApiError');
    expect(classifyKubeError(aborted, true).reason).toBe('Timeout');
  });
});
