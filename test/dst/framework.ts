/**
 * The real framework code the simulation runs. Imported from the build (dist) so the same modules
 * load under vitest and under plain Node (`npm run sim`), which cannot resolve the sources' `.js`
 * specifiers; `npm test` and `npm run sim` build first.
 */
export { Reconciler } from '../../packages/framework/dist/core/reconciler.js';
export { createRootContainer } from '../../packages/framework/dist/di/container.js';
export { TOKENS } from '../../packages/framework/dist/di/tokens.js';
export { assembleSidecar } from '../../packages/framework/dist/manager/sidecar.js';
export type { Sidecar as AssembledSidecar } from '../../packages/framework/dist/manager/sidecar.js';
export type { HttpServer } from '../../packages/framework/dist/observability/http.js';
export type { PolicyFeed, TickRecord } from '../../packages/framework/dist/core/reconciler.js';
export type { DecisionConfig } from '../../packages/framework/dist/core/decide.js';
export { KubernetesLeaseElector } from '../../packages/framework/dist/plugins/kubernetes-lease/elector.js';
export type {
  LeaseApi,
  LeaseCallOptions,
  LeaseCallResult,
  LeaseWatchEventType,
  LeaseWatchHandle,
} from '../../packages/framework/dist/plugins/kubernetes-lease/lease-api.js';
export { createFilesCredentialProvisioner } from '../../packages/framework/dist/plugins/files-credentials/provisioner.js';
export type {
  CredentialFileOps,
  FileFacts,
} from '../../packages/framework/dist/plugins/files-credentials/file-ops.js';
export { createNodeController } from '../../packages/framework/dist/node/controller.js';
export type { NodeOs } from '../../packages/framework/dist/node/os.js';
export type { NodeMetricsScrape } from '../../packages/framework/dist/node/node-metrics.js';
export type { SocketProbe } from '../../packages/framework/dist/node/socket-probe.js';
export {
  failSafeRevoke,
  failSafeTargetsFromSettings,
} from '../../packages/framework/dist/manager/fail-safe.js';
export type { FailSafeTargets } from '../../packages/framework/dist/manager/fail-safe.js';
export { layerFromText } from '../../packages/framework/dist/config/lenient.js';
export type {
  Clock,
  CredentialProvisioner,
  LeaderElector,
  NodeController,
} from '../../packages/framework/dist/contracts/index.js';
export type { ClassifiedK8sError } from '../../packages/framework/dist/kube/errors.js';
export { createClusterManager } from '../../packages/framework/dist/cluster/manager.js';
export type { ClusterPolicySource } from '../../packages/framework/dist/cluster/manager.js';
export type {
  ClusterObject,
  ClusterObjectGateway,
  GatewayResult,
  WatchEventType,
  WatchHandle,
} from '../../packages/framework/dist/cluster/gateway.js';
export type {
  HealthProbe,
  HealthResult,
  PriorityStrategy,
} from '../../packages/framework/dist/contracts/index.js';
export { createStaticPriorityStrategy } from '../../plugins/priority-static/dist/strategy.js';
export { PUBLISHED_KES_SKEY, PUBLISHED_OPCERT } from '../../packages/framework/dist/kes/fixtures.js';
export type {
  EtcdEntry,
  EtcdKeepAliveResult,
  EtcdKv,
  EtcdLeaseId,
} from '../../packages/framework/dist/plugins/etcd-arbiter/etcd-kv.js';
export { revocationBudget } from '../../packages/framework/dist/core/timing.js';
export { createGlobalCoordination } from '../../packages/framework/dist/plugins/etcd-arbiter/global.js';
export { arbiterTiming } from '../../packages/framework/dist/plugins/etcd-arbiter/protocol.js';
export type { ArbiterTiming } from '../../packages/framework/dist/plugins/etcd-arbiter/protocol.js';
export { createArbiterMetrics } from '../../packages/framework/dist/plugins/etcd-arbiter/metrics.js';
export {
  arbiterTimingFromConfig,
  defaultKeyPrefix,
} from '../../packages/framework/dist/plugins/etcd-arbiter/mode.js';
export { ForgeConfigSchema } from '../../packages/framework/dist/config/schema.js';
export type { ResolvedConfig } from '../../packages/framework/dist/config/schema.js';
