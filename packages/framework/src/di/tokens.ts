/**
 * The host's well-known tokens: every part of a sidecar is resolved from the container under one of
 * these, so a test or an embedding program replaces one part by registering one token (see
 * manager/assembly.ts). Plugins never see these; they get a PluginContext instead.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Dispatcher } from 'undici';
import type {
  Clock,
  CredentialProvisioner,
  HealthProbe,
  LeaderElector,
  NodeController,
  PriorityStrategy,
} from '../contracts/index.js';
import type { ResolvedConfig } from '../config/schema.js';
import type { EventRecorder } from '../events/recorder.js';
import type { LeaderStatusReporter, SidecarPolicy, SidecarSettings } from '../manager/sidecar.js';
import type { HttpServer } from '../observability/http.js';
import type { ForgeIdentity, PluginContext } from '../plugin/define.js';
import { token } from './token.js';

export const TOKENS = {
  config: token<ResolvedConfig>('Config'),
  logger: token<Logger>('Logger'),
  metricsRegistry: token<Registry>('MetricsRegistry'),
  httpDispatcher: token<Dispatcher>('HttpDispatcher'),
  kubeConfigFactory: token<() => KubeConfig>('KubeConfigFactory'),
  clock: token<Clock>('Clock'),
  identity: token<ForgeIdentity>('Identity'),
  shutdownSignal: token<AbortSignal>('ShutdownSignal'),
  pluginContext: token<PluginContext>('PluginContext'),
  /** The elector the sidecar runs (manager/assembly.ts chooses it from the config). */
  leaderElector: token<LeaderElector>('LeaderElector'),
  /** The configured leader-elector plugin instance: this cluster's own election. */
  localLeaderElector: token<LeaderElector>('LocalLeaderElector'),
  credentialProvisioner: token<CredentialProvisioner>('CredentialProvisioner'),
  priorityStrategy: token<PriorityStrategy>('PriorityStrategy'),
  /** Every health probe instance (resolveAll). */
  healthProbes: token<HealthProbe>('HealthProbe'),
  nodeController: token<NodeController>('NodeController'),
  /** The cluster policy feed (the CardanoForgeCluster manager, or "disabled"). */
  clusterPolicy: token<SidecarPolicy>('ClusterPolicy'),
  /** Writes the CardanoLeader status. */
  leaderStatus: token<LeaderStatusReporter>('LeaderStatus'),
  eventRecorder: token<EventRecorder>('EventRecorder'),
  /** The sidecar's HTTP server (/metrics, /health, /readyz, /startup-status, /status). */
  httpServer: token<HttpServer>('HttpServer'),
  sidecarSettings: token<SidecarSettings>('SidecarSettings'),
} as const;
