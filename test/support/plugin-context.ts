// A real PluginContext for this repository's plugin tests: the framework's published test context
// (@cardano-forge/framework/testing) on the real clock, pointed at the shared test cluster.
// Call dispose() in afterEach/afterAll to close the agent and abort the signal.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Clock, PluginContext } from '@cardano-forge/framework';
import {
  createTestPluginContext,
  type TestPluginContext,
  type TestPluginContextOptions,
} from '@cardano-forge/framework/testing';
import { setTimeout as sleepTimer } from 'node:timers/promises';
import { testKubeConfig } from './cluster.ts';

export { TEST_IDENTITY, type TestPluginContext } from '@cardano-forge/framework/testing';

/** Real time: monotonic via performance.now(), sleeps that reject with the signal's reason. */
export const realClock: Clock = {
  monotonicMs: () => performance.now(),
  wallNow: () => new Date(),
  sleep: async (ms, signal) => {
    await sleepTimer(ms, undefined, signal === undefined ? undefined : { signal });
  },
};

export interface TestPluginContextOverrides extends TestPluginContextOptions {
  readonly kube?: PluginContext['kube'];
  /** Shorthand for `kube: { config: () => kubeConfig }`. */
  readonly kubeConfig?: KubeConfig;
}

/** Defaults: instance id `test-probe`, the real clock, the shared test cluster. */
export function makeTestPluginContext(overrides: TestPluginContextOverrides = {}): TestPluginContext {
  const { kube, kubeConfig, ...rest } = overrides;
  return createTestPluginContext({
    instanceId: 'test-probe',
    clock: realClock,
    ...rest,
    kubeConfig: kube !== undefined ? () => kube.config() : (kubeConfig ?? (() => testKubeConfig())),
  });
}
