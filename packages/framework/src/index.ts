export * from './contracts/index.js';
// Timers on the injected clock, backoff and mutual exclusion, for plugins as for the core.
export * from './core/deadline.js';
export * from './core/backoff.js';
export * from './core/mutex.js';
export * from './plugin/define.js';
export * from './kube/index.js';
export * from './plugins/kubernetes-lease/index.js';
export * from './plugins/etcd-arbiter/index.js';
export * from './plugins/files-credentials/index.js';
export * from './node/index.js';
export * from './cluster/index.js';
export * from './config/index.js';
export * from './di/public.js';
export * from './observability/index.js';
export * from './plugin/index.js';
export * from './kes/index.js';
export * from './events/index.js';
