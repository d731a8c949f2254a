// A real PluginContext for plugin tests: the same kinds of objects the manager hands plugins,
// scoped to one test. Call dispose() in afterEach/afterAll to close the agent and abort the signal.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Clock, ForgeIdentity, PluginContext } from '@cardano-forge/framework';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { Agent } from 'undici';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { testKubeConfig } from './cluster.ts';

/** Real time: monotonic via performance.now(), sleeps that reject with the signal's reason. */
export const realClock: Clock = {
  monotonicMs: () => performance.now(),
  wallNow: () => new Date(),
  sleep: async (ms, signal) => {
    await sleepTimer(ms, undefined, signal === undefined ? undefined : { signal });
  },
};

export const TEST_IDENTITY: ForgeIdentity = {
  podName: 'cardano-bp-0',
  namespace: 'default',
  network: 'preview',
  poolId: 'pool1testpool',
  region: 'test-region-1',
};

export interface TestPluginContextOverrides extends Partial<Omit<PluginContext, 'identity'>> {
  readonly identity?: Partial<ForgeIdentity>;
  /** Shorthand for `kube: { config: () => kubeConfig }`. */
  readonly kubeConfig?: KubeConfig;
}

export interface TestPluginContext extends PluginContext {
  /** Aborts `signal` (as a manager shutdown would) without closing anything else. */
  abort(reason?: unknown): void;
  /** Aborts the signal and closes the agent this helper created. Safe to call twice. */
  dispose(): Promise<void>;
}

export function makeTestPluginContext(overrides: TestPluginContextOverrides = {}): TestPluginContext {
  const controller = new AbortController();
  const ownAgent = overrides.http === undefined ? new Agent() : undefined;
  const logger: Logger = overrides.logger ?? pino({ level: 'silent' });
  const { identity, kubeConfig, ...rest } = overrides;
  const kube: PluginContext['kube'] =
    rest.kube ??
    (kubeConfig !== undefined ? { config: () => kubeConfig } : { config: () => testKubeConfig() });
  let disposed = false;
  return {
    configPath: 'plugins.test[0]',
    instanceId: 'test-probe',
    metrics: { registry: new Registry() },
    clock: realClock,
    signal: controller.signal,
    ...rest,
    logger,
    http: rest.http ?? { dispatcher: ownAgent as Agent },
    kube,
    identity: { ...TEST_IDENTITY, ...identity },
    abort: (reason?: unknown) => controller.abort(reason),
    async dispose() {
      if (disposed) return;
      disposed = true;
      controller.abort(new Error('test finished'));
      await ownAgent?.close();
    },
  };
}
