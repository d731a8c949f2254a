/**
 * The event recorder of `forge-manager run`: core/v1 Events about this pod, from the sidecar's
 * transitions. Its stop (after the sidecar's) writes what the rate limit held back.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ResolvedConfig } from '../config/schema.js';
import type { Clock } from '../contracts/index.js';
import type { LifecycleComponent } from '../di/lifecycle.js';
import { createKubeEventSink } from './kube.js';
import { createEventRecorder, type EventRecorder } from './recorder.js';

export const EVENT_COMPONENT = 'cardano-forge';

export function eventRecorderComponent(
  config: ResolvedConfig,
  deps: {
    clock: Clock;
    logger: Logger;
    kubeConfig: KubeConfig;
    timeoutMs: number;
    podUid?: string | undefined;
  },
): LifecycleComponent & { readonly recorder: EventRecorder } {
  const recorder = createEventRecorder({
    clock: deps.clock,
    logger: deps.logger.child({ component: 'events' }),
    sink: createKubeEventSink(deps.kubeConfig, {
      namespace: config.namespace,
      involvedObject: { kind: 'Pod', name: config.podName, apiVersion: 'v1', uid: deps.podUid },
      component: EVENT_COMPONENT,
      instance: config.podName,
      timeoutMs: deps.timeoutMs,
    }),
  });
  return { name: 'events', recorder, stop: () => recorder.flush() };
}
