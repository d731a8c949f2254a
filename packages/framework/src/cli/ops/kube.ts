/**
 * Kubeconfig contexts and API access for the operator commands. Every API failure becomes an
 * OpsError that names the context and says what to do (CRD missing, forbidden, unreachable).
 */
import os from 'node:os';
import path from 'node:path';
import type { V1Lease } from '@kubernetes/client-node';
import { createKubeClient, forgeUserAgent, MERGE_PATCH, type KubeClient } from '../../kube/client.js';
import { classifyK8sError } from '../../kube/errors.js';
import { KubeConfig } from '../../kube/kubeconfig.js';

export class OpsError extends Error {
  override readonly name = 'OpsError';
  constructor(
    message: string,
    /** 2 = usage (bad flag, unknown context or cluster), 1 = the API said no or was unreachable. */
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

export interface Target {
  readonly context: string;
  readonly namespace: string;
  readonly server: string;
  readonly kubeConfig: KubeConfig;
  /** API group of the CRDs (CRD_GROUP of the sidecars; default cardano.io). */
  readonly group: string;
}

export const DEFAULT_CRD_GROUP = 'cardano.io';
const CRD_VERSION = 'v1';
export const CLUSTER_PLURAL = 'cardanoforgeclusters';
export const LEADER_PLURAL = 'cardanoleaders';
const CALL_TIMEOUT_MS = 10_000;

export interface ClusterObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    annotations?: Record<string, string>;
  };
  spec?: {
    network?: { name?: string; magic?: number };
    pool?: { id?: string; ticker?: string };
    region?: string;
    forgeState?: string;
    priority?: number;
    override?: {
      enabled?: boolean;
      reason?: string;
      expiresAt?: string;
      forcePriority?: number;
      forceState?: string;
    };
  };
  status?: {
    effectiveState?: string;
    effectivePriority?: number;
    activeLeader?: string;
    forgingEnabled?: boolean;
    lastTransition?: string;
    reason?: string;
    healthStatus?: { healthy?: boolean; consecutiveFailures?: number; message?: string };
    override?: { active?: boolean; expired?: boolean; message?: string };
    conditions?: Array<{ type: string; status: string; reason?: string }>;
  };
}

export interface LeaderObject {
  metadata: { name: string };
  status?: { leaderPod?: string; forgingEnabled?: boolean; lastTransitionTime?: string; reason?: string };
}

/** Loads $KUBECONFIG (colon-separated, like kubectl) or ~/.kube/config, or an explicit file. */
export function loadKubeConfig(env: Readonly<Record<string, string | undefined>>, file?: string): KubeConfig {
  const paths = file
    ? [file]
    : (env.KUBECONFIG ?? path.join(env.HOME ?? os.homedir(), '.kube', 'config'))
        .split(path.delimiter)
        .filter(Boolean);
  const merged = new KubeConfig();
  paths.forEach((p, i) => {
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(p);
    } catch (error) {
      throw new OpsError(
        `cannot read kubeconfig ${p}: ${error instanceof Error ? error.message : String(error)} (set --kubeconfig or KUBECONFIG)`,
        2,
      );
    }
    if (i === 0)
      merged.loadFromOptions({
        clusters: kc.clusters,
        users: kc.users,
        contexts: kc.contexts,
        currentContext: kc.currentContext,
      });
    else merged.mergeConfig(kc, true);
  });
  return merged;
}

/** One target per requested context (default: the current context). */
export function resolveTargets(
  kc: KubeConfig,
  contexts: readonly string[],
  namespace?: string,
  group: string = DEFAULT_CRD_GROUP,
): Target[] {
  const wanted = contexts.length > 0 ? contexts : [kc.getCurrentContext()];
  const known = kc.getContexts().map((c) => c.name);
  return wanted.map((name) => {
    const context = kc.getContextObject(name);
    if (!context)
      throw new OpsError(
        `unknown kubeconfig context "${name}" (available: ${known.join(', ') || 'none'})`,
        2,
      );
    const perContext = new KubeConfig();
    perContext.loadFromOptions({
      clusters: kc.clusters,
      users: kc.users,
      contexts: kc.contexts,
      currentContext: name,
    });
    return {
      context: name,
      namespace: namespace ?? context.namespace ?? 'default',
      server: perContext.getCurrentCluster()?.server ?? '(no server)',
      kubeConfig: perContext,
      group,
    };
  });
}

/** Turns an API failure into a sentence naming the context and the fix. */
export function explain(target: Target, action: string, error: unknown): OpsError {
  const c = classifyK8sError(error);
  const where = `context "${target.context}" (${target.server}), namespace "${target.namespace}"`;
  switch (c.kind) {
    case 'forbidden':
      return new OpsError(
        `${where}: forbidden to ${action}: ${c.message}; ask for the RBAC verbs on ${CLUSTER_PLURAL}.${target.group} / ${LEADER_PLURAL}.${target.group} / leases.coordination.k8s.io`,
      );
    case 'network':
    case 'timeout':
      return new OpsError(`${where}: API server unreachable while trying to ${action}: ${c.message}`);
    case 'conflict':
      return new OpsError(
        `${where}: the object changed while trying to ${action} (${c.message}); run the command again`,
      );
    default:
      return new OpsError(`${where}: could not ${action}: ${c.message}`);
  }
}

/** One short-lived client per call: the operator commands make a few requests and exit. */
async function call<T>(target: Target, run: (client: KubeClient) => Promise<T>): Promise<T> {
  const client = createKubeClient(target.kubeConfig, { userAgent: forgeUserAgent('cli') });
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

const customPath = (target: Target, plural: string, name?: string): string =>
  `/apis/${target.group}/${CRD_VERSION}/namespaces/${encodeURIComponent(target.namespace)}/${plural}` +
  (name === undefined ? '' : `/${encodeURIComponent(name)}`);

async function listCustom<T>(target: Target, plural: string, kind: string): Promise<T[]> {
  try {
    const list = await call(target, (client) =>
      client.request<{ items?: T[] }>({
        method: 'GET',
        path: customPath(target, plural),
        timeoutMs: CALL_TIMEOUT_MS,
      }),
    );
    return list.items ?? [];
  } catch (error) {
    if (classifyK8sError(error).kind === 'not-found')
      throw new OpsError(
        `context "${target.context}" (${target.server}): the ${kind} CRD (${plural}.${target.group}) is not installed; apply deploy/crds/ (kubectl apply -f deploy/crds/)`,
      );
    throw explain(target, `list ${plural}`, error);
  }
}

export const listClusters = (target: Target) =>
  listCustom<ClusterObject>(target, CLUSTER_PLURAL, 'CardanoForgeCluster');
export const listLeaders = (target: Target) =>
  listCustom<LeaderObject>(target, LEADER_PLURAL, 'CardanoLeader');

export async function listLeases(target: Target): Promise<V1Lease[]> {
  try {
    const list = await call(target, (client) =>
      client.request<{ items?: V1Lease[] }>({
        method: 'GET',
        path: `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(target.namespace)}/leases`,
        timeoutMs: CALL_TIMEOUT_MS,
      }),
    );
    return list.items ?? [];
  } catch (error) {
    throw explain(target, 'list leases', error);
  }
}

/** JSON merge patch of a CardanoForgeCluster; with resourceVersion it is a compare-and-swap. */
export async function patchCluster(
  target: Target,
  name: string,
  patch: object,
  action: string,
): Promise<ClusterObject> {
  try {
    return await call(target, (client) =>
      client.request<ClusterObject>({
        method: 'PATCH',
        path: customPath(target, CLUSTER_PLURAL, name),
        body: patch,
        contentType: MERGE_PATCH,
        timeoutMs: CALL_TIMEOUT_MS,
      }),
    );
  } catch (error) {
    throw explain(target, action, error);
  }
}
