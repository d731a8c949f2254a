import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import {
  withTimeout,
  type HealthProbe,
  type HealthResult,
  type PluginContext,
} from '@cardano-forge/framework';
import type { HealthK8sProbeOptions } from './options.js';
import {
  classifyKubeError,
  evaluateNodes,
  evaluatePods,
  evaluateWorkload,
  type CheckOutcome,
} from './evaluate.js';

type ProbeContext = Pick<PluginContext, 'instanceId' | 'logger' | 'kube' | 'clock' | 'identity'>;
type CheckName = 'pods' | 'workload' | 'nodes';

/**
 * Kubernetes health probe (the seed's "Option B"): the configured checks run in parallel and the
 * probe is healthy only when every one passes. Failures are data, never exceptions.
 */
export class KubernetesHealthProbe implements HealthProbe {
  readonly id: string;
  readonly namespace: string;
  readonly #options: HealthK8sProbeOptions;
  readonly #context: ProbeContext;
  readonly #core: CoreV1Api;
  readonly #apps: AppsV1Api;

  constructor(context: ProbeContext, options: HealthK8sProbeOptions) {
    this.id = context.instanceId;
    this.namespace = options.namespace ?? context.identity.namespace;
    this.#context = context;
    this.#options = options;
    const kc = context.kube.config();
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#apps = kc.makeApiClient(AppsV1Api);
  }

  async check(signal: AbortSignal): Promise<HealthResult> {
    const clock = this.#context.clock;
    const started = clock.monotonicMs();
    const o = this.#options;
    // The framework's per-request options: aborted after timeoutMs, or earlier with the host's signal.
    const call = withTimeout(o.timeoutMs, signal);
    const timedOut = (): boolean => !signal.aborted && clock.monotonicMs() - started >= o.timeoutMs;

    const guarded = async (
      name: CheckName,
      body: () => Promise<CheckOutcome>,
    ): Promise<[CheckName, CheckOutcome]> => {
      try {
        return [name, await body()];
      } catch (error) {
        return [name, this.#failure(name, error, timedOut(), signal)];
      }
    };

    const checks: Array<Promise<[CheckName, CheckOutcome]>> = [];
    if (o.pods !== undefined) {
      const { labelSelector, minReady } = o.pods;
      checks.push(
        guarded('pods', async () => {
          const list = await this.#core.listNamespacedPod({ namespace: this.namespace, labelSelector }, call);
          return evaluatePods(list.items, labelSelector, minReady);
        }),
      );
    }
    if (o.workload !== undefined) {
      const { kind, name, minAvailable } = o.workload;
      checks.push(
        guarded('workload', async () => {
          const request = { name, namespace: this.namespace };
          const object =
            kind === 'Deployment'
              ? await this.#apps.readNamespacedDeployment(request, call)
              : await this.#apps.readNamespacedStatefulSet(request, call);
          return evaluateWorkload(kind, object, minAvailable);
        }),
      );
    }
    if (o.nodes !== undefined) {
      const { labelSelector, requireReady } = o.nodes;
      checks.push(
        guarded('nodes', async () => {
          const list = await this.#core.listNode(labelSelector === undefined ? {} : { labelSelector }, call);
          return evaluateNodes(list.items, labelSelector, requireReady);
        }),
      );
    }

    const outcomes = await Promise.all(checks);
    const latencyMs = Math.max(0, Math.round(clock.monotonicMs() - started));
    const failed = outcomes.find(([, outcome]) => !outcome.healthy);
    const summary = outcomes.map(([name, outcome]) => `${name}: ${outcome.message}`).join('; ');
    const result: HealthResult = {
      healthy: failed === undefined,
      reason: failed === undefined ? 'Healthy' : failed[1].reason,
      message: `${summary} (${latencyMs} ms)`,
      latencyMs,
      details: { namespace: this.namespace, ...Object.fromEntries(outcomes) },
    };
    this.#context.logger.debug(
      { probe: this.id, healthy: result.healthy, reason: result.reason, latencyMs },
      'kubernetes health check',
    );
    return result;
  }

  #failure(name: CheckName, error: unknown, timedOut: boolean, signal: AbortSignal): CheckOutcome {
    if (signal.aborted) {
      // The manager's own deadline (a TimeoutError reason) is still a timeout from the operator's view.
      const hostTimeout = (signal.reason as { name?: unknown } | undefined)?.name === 'TimeoutError';
      return {
        healthy: false,
        reason: hostTimeout ? 'Timeout' : 'ApiError',
        message: 'check aborted by the manager',
      };
    }
    const { reason, detail } = classifyKubeError(error, timedOut);
    const what = this.#describe(name);
    const message =
      reason === 'Timeout'
        ? `${what}: no answer within ${this.#options.timeoutMs} ms`
        : reason === 'NotFound'
          ? `${what}: not found (${detail})`
          : reason === 'Forbidden'
            ? `${what}: forbidden; grant the manager's service account this permission (${detail})`
            : `${what}: ${detail}`;
    return { healthy: false, reason, message };
  }

  #describe(name: CheckName): string {
    const o = this.#options;
    if (name === 'pods') return `list pods in ${this.namespace}`;
    if (name === 'workload')
      return `get ${o.workload?.kind ?? 'workload'} ${this.namespace}/${o.workload?.name ?? '?'}`;
    return 'list nodes';
  }
}
