/** The host's well-known tokens. Plugins never see these; they get a PluginContext instead. */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Dispatcher } from 'undici';
import type {
  Clock,
  CredentialProvisioner,
  HealthProbe,
  LeaderElector,
  PriorityStrategy,
} from '../contracts/index.js';
import type { ResolvedConfig } from '../config/schema.js';
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
  leaderElector: token<LeaderElector>('LeaderElector'),
  credentialProvisioner: token<CredentialProvisioner>('CredentialProvisioner'),
  priorityStrategy: token<PriorityStrategy>('PriorityStrategy'),
  healthProbes: token<HealthProbe>('HealthProbe'),
} as const;
