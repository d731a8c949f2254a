/**
 * `@cardano-forge/framework/testing`: fakes and helpers for testing plugins and code built on the
 * framework. Only for tests: nothing here talks to a real cluster, node or disk.
 */
export { FakeClock, flush } from './manual-clock.js';
export { FakeCredentials, FakeElector, FakeNode } from './fakes.js';
export { FakeEtcdStore, type FakeEtcdClientFaults } from '../plugins/etcd-arbiter/fake-etcd-kv.js';
export {
  FakeLeaseStore,
  type FakeLeaseApi,
  type FakeLeaseFault,
  type FakeLeaseWrite,
} from '../plugins/kubernetes-lease/fake-lease-api.js';
export {
  TEST_IDENTITY,
  createTestPluginContext,
  type TestPluginContext,
  type TestPluginContextOptions,
} from './plugin-context.js';
export { scriptedHealthProbe, thresholdPriorityStrategy, type ScriptedHealthProbe } from './scripted.js';
export {
  checkHealthProbePlugin,
  checkPriorityStrategyPlugin,
  priorityInputGrid,
  type ContractCheckOptions,
  type ContractReport,
} from './contract.js';
