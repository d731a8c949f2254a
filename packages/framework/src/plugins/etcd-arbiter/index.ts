/**
 * The cross-region arbiter on etcd v3 (docs/coordination.md, "Protocol"). Built into the
 * framework like kubernetes-lease; the etcd3 client is loaded only when global mode is on.
 */
export * from './etcd-kv.js';
export * from './protocol.js';
export * from './decide.js';
export * from './arbiter.js';
export * from './global.js';
export * from './metrics.js';
export { FakeEtcdStore, type FakeEtcdClientFaults } from './fake-etcd-kv.js';
export { createEtcd3Kv, prefixRangeEnd, type Etcd3KvOptions } from './etcd3-kv.js';
export * from './mode.js';
export * from './warnings.js';
