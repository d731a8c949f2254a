/**
 * Which coordination mode the sidecar runs in, picked once at startup from the config:
 *  - cluster mode (default): the Kubernetes Lease alone; no etcd, nothing loaded for it;
 *  - global mode (`etcdArbiter.enabled`): the local lease composed with the etcd arbiter.
 * The mode in force is logged at startup; config problems were rejected at load time.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Clock, LeaderElector } from '../../contracts/index.js';
import type { ResolvedConfig } from '../../config/schema.js';
import { revocationBudget } from '../../core/timing.js';
import type { EtcdKv } from './etcd-kv.js';
import { createGlobalCoordination, type WrappablePolicy } from './global.js';
import { createArbiterMetrics } from './metrics.js';
import { arbiterTiming, type ArbiterTiming } from './protocol.js';
import { coordinationWarnings } from './warnings.js';

export type CoordinationMode = 'cluster' | 'global';

export interface CoordinationParts<P extends WrappablePolicy> {
  readonly elector: LeaderElector;
  readonly policy: P;
}

export interface CoordinationDeps<P extends WrappablePolicy> extends CoordinationParts<P> {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry?: Registry | undefined;
  /** The pool's lease name (cluster/naming.ts): the default etcd key prefix derives from it. */
  readonly leaseName: string;
  /** Replaces the etcd3 client (tests). */
  readonly createKv?: (() => Promise<EtcdKv>) | undefined;
}

export interface Coordination<P extends WrappablePolicy> extends CoordinationParts<P> {
  readonly mode: CoordinationMode;
}

/** The pool's etcd prefix: one per pool and network, like the lease name it comes from. */
export function defaultKeyPrefix(leaseName: string): string {
  return `/cardano-forge/v1/${leaseName}/`;
}

/**
 * The arbiter's timing from a resolved config: the local revocation chain (core/timing.ts) inside
 * the etcd fencing margin. Throws with the problems when the config does not fit (load rejects it).
 */
export function arbiterTimingFromConfig(config: ResolvedConfig): ArbiterTiming {
  const a = config.etcdArbiter;
  const budget = revocationBudget({
    leaseDurationSeconds: config.election.leaseDurationSeconds,
    renewDeadlineSeconds: config.election.renewDeadlineSeconds,
    sighupLatencyBoundMs: config.node.sighupLatencyBoundMs,
  });
  if (!budget.ok) throw new Error(budget.message);
  const timing = arbiterTiming({
    leaseTtlSeconds: a.leaseTtlSeconds,
    renewDeadlineSeconds: a.renewDeadlineSeconds,
    retryPeriodSeconds: a.retryPeriodSeconds,
    etcdElectionTimeoutMs: a.etcdElectionTimeoutMs,
    revocationChainMs: budget.budget.chainMs,
  });
  if (!timing.ok) throw new Error(timing.problems.join('; '));
  return timing.timing;
}

export async function selectCoordination<P extends WrappablePolicy>(
  config: ResolvedConfig,
  deps: CoordinationDeps<P>,
): Promise<Coordination<P>> {
  for (const warning of coordinationWarnings(config)) deps.logger.warn(warning);
  const a = config.etcdArbiter;
  if (!a.enabled) {
    deps.logger.info(
      { mode: 'cluster' },
      'coordination mode: cluster — the Kubernetes Lease alone picks the forger of this cluster; no etcd (set etcdArbiter.enabled for one forger across regions)',
    );
    return { mode: 'cluster', elector: deps.elector, policy: deps.policy };
  }
  const timing = arbiterTimingFromConfig(config);
  const region = a.region ?? config.cluster.region;
  const prefix = a.keyPrefix ?? defaultKeyPrefix(deps.leaseName);
  const createKv =
    deps.createKv ??
    (async () => {
      const { createEtcd3Kv } = await import('./etcd3-kv.js');
      return createEtcd3Kv({
        endpoints: a.endpoints,
        tls: { caFile: a.tls.caFile, certFile: a.tls.certFile, keyFile: a.tls.keyFile },
        callTimeoutMs: timing.callTimeoutMs,
      });
    });
  const kv = await createKv();
  deps.logger.info(
    {
      mode: 'global',
      region,
      prefix,
      endpoints: a.endpoints,
      tls: a.tls.caFile !== undefined,
      clientCert: a.tls.certFile !== undefined,
      ttlSeconds: a.leaseTtlSeconds,
      renewDeadlineSeconds: a.renewDeadlineSeconds,
      retryPeriodSeconds: a.retryPeriodSeconds,
      holdDownSeconds: a.holdDownSeconds,
      marginMs: timing.marginMs,
      neededMs: timing.neededMs,
    },
    "coordination mode: global — this pod forges only while it holds its cluster's Lease AND its region holds the etcd forger key",
  );
  const clock = deps.clock;
  const wallOffsetMs = (): number => clock.wallNow().getTime() - clock.monotonicMs();
  const coordination = createGlobalCoordination(
    {
      kv,
      clock,
      logger: deps.logger,
      metrics: deps.registry ? createArbiterMetrics(deps.registry, wallOffsetMs) : undefined,
      local: deps.elector,
      policy: deps.policy,
      onStopped: () => kv.close(),
    },
    {
      prefix,
      region,
      ttlSeconds: a.leaseTtlSeconds,
      holdDownMs: a.holdDownSeconds * 1000,
      timing,
      basePriority: config.cluster.priority,
      failureThreshold: config.cluster.healthCheck.failureThreshold,
    },
  );
  return { mode: 'global', elector: coordination.elector, policy: coordination.policy };
}
