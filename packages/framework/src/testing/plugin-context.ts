/**
 * A PluginContext for a plugin's unit tests: the same kinds of objects the manager hands a plugin
 * (a pino logger, a fresh prom-client Registry, an undici dispatcher, a clock, an abort signal),
 * scoped to one test. Call dispose() when the test ends.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Agent } from 'undici';
import { createSystemClock } from '../core/clock.js';
import type { ForgeIdentity, PluginContext } from '../plugin/define.js';

/** The identity a test context carries unless the test overrides parts of it. */
export const TEST_IDENTITY: ForgeIdentity = {
  podName: 'cardano-bp-0',
  namespace: 'default',
  network: 'preview',
  poolId: 'pool1testpool',
  region: 'test-region-1',
};

export interface TestPluginContextOptions extends Partial<Omit<PluginContext, 'identity' | 'kube'>> {
  readonly identity?: Partial<ForgeIdentity>;
  /** The cluster a Kubernetes-backed plugin talks to; without it `kube.config()` throws. */
  readonly kubeConfig?: KubeConfig | (() => KubeConfig);
}

export interface TestPluginContext extends PluginContext {
  /** Aborts `signal`, as a manager shutdown does, without closing anything else. */
  abort(reason?: unknown): void;
  /** Aborts the signal and closes the dispatcher this helper created. Safe to call twice. */
  dispose(): Promise<void>;
}

/**
 * Defaults: a silent logger, a new Registry, a new undici Agent, the real clock (pass
 * `clock: new FakeClock()` to drive time), config path `plugins.test[0]`, instance id `test`.
 */
export function createTestPluginContext(options: TestPluginContextOptions = {}): TestPluginContext {
  const controller = new AbortController();
  const { identity, kubeConfig, http, ...rest } = options;
  const ownAgent = http === undefined ? new Agent() : undefined;
  const kube: PluginContext['kube'] = {
    config() {
      if (kubeConfig === undefined)
        throw new Error(
          'this test context has no Kubernetes configuration: pass createTestPluginContext({ kubeConfig })',
        );
      return typeof kubeConfig === 'function' ? kubeConfig() : kubeConfig;
    },
  };
  let disposed = false;
  return {
    configPath: 'plugins.test[0]',
    instanceId: 'test',
    logger: pino({ level: 'silent' }),
    metrics: { registry: new Registry() },
    clock: createSystemClock(),
    signal: controller.signal,
    ...rest,
    http: http ?? { dispatcher: ownAgent! },
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
