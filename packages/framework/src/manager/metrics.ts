/**
 * The sidecar's own metrics: every metric family of the Python sidecar with the same names and
 * labels (python-forge-manager.md §3), with their meaning corrected, plus what that sidecar lacked.
 * cardano_sighup_signals_total and cardano_credential_operations_total are counted where the
 * signal is sent and the files are written (node controller, files provisioner).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { TickRecord } from '../core/reconciler.js';
import type { FaultReason } from '../core/node-belief.js';

const FAULT_REASONS: readonly FaultReason[] = [
  'NodePidUnknown',
  'SignalFailed',
  'NodeNotForging',
  'BehindTip',
];

export interface SidecarMetricLabels {
  readonly pod: string;
  readonly network: string;
  /** First 10 characters of POOL_ID, or 'unknown' (Python compatible). */
  readonly poolIdShort: string;
  readonly application: string;
}

export interface SidecarInfo {
  readonly podName: string;
  readonly namespace: string;
  readonly version: string;
  readonly network: string;
  readonly poolId: string;
  readonly poolTicker: string;
  readonly applicationType: string;
}

export class SidecarMetrics {
  private readonly forgingEnabled: Gauge<'pod' | 'network' | 'pool_id' | 'application'>;
  private readonly leaderStatus: Gauge<'pod' | 'network' | 'pool_id' | 'application'>;
  private readonly leadershipChanges: Counter;
  private readonly credentialsPresent: Gauge;
  private readonly nodeForging: Gauge;
  private readonly forgingMismatch: Gauge;
  private readonly lastTick: Gauge;
  private readonly startFlagMissing: Gauge;
  private readonly revokeFailures: Counter;
  private readonly credentialsUnrevocable: Gauge;
  private readonly forgingFault: Gauge<'reason'>;
  private readonly terminations: Counter<'outcome'>;
  private readonly labels: Record<'pod' | 'network' | 'pool_id' | 'application', string>;
  private wasLeader = false;
  private readonly startAsNonProducingConfigured: boolean;

  constructor(
    registry: Registry,
    labels: SidecarMetricLabels,
    info: SidecarInfo,
    startAsNonProducing = true,
  ) {
    this.startAsNonProducingConfigured = startAsNonProducing;
    const registers = [registry];
    const labelNames = ['pod', 'network', 'pool_id', 'application'] as const;
    this.labels = {
      pod: labels.pod,
      network: labels.network,
      pool_id: labels.poolIdShort,
      application: labels.application,
    };
    this.forgingEnabled = new Gauge({
      name: 'cardano_forging_enabled',
      help: '1 when this pod holds the lease, policy allows forging and the node was told to forge',
      labelNames,
      registers,
    });
    this.leaderStatus = new Gauge({
      name: 'cardano_leader_status',
      help: '1 when this pod holds the lease within its renew deadline',
      labelNames,
      registers,
    });
    this.leadershipChanges = new Counter({
      name: 'cardano_leadership_changes_total',
      help: 'Times this pod gained or lost leadership',
      registers,
    });
    // Python exposed prometheus_client's Info as cardano_forge_manager_info_info; keep that name for
    // existing dashboards and also expose the conventional single-suffix name.
    for (const name of ['cardano_forge_manager_info_info', 'cardano_forge_manager_info']) {
      new Gauge({
        name,
        help: 'Forge manager build and identity information',
        labelNames: [
          'pod_name',
          'namespace',
          'version',
          'network',
          'pool_id',
          'pool_ticker',
          'application_type',
        ] as const,
        registers,
      }).set(
        {
          pod_name: info.podName,
          namespace: info.namespace,
          version: info.version,
          network: info.network,
          pool_id: info.poolId || 'unknown',
          pool_ticker: info.poolTicker || 'unknown',
          application_type: info.applicationType,
        },
        1,
      );
    }
    this.credentialsPresent = new Gauge({
      name: 'cardano_forge_credentials_present',
      help: '1 when all three forging credential files are at the node paths (the leader, and any pod while its node starts with startup credentials)',
      registers,
    });
    this.nodeForging = new Gauge({
      name: 'cardano_forge_node_forging_confirmed',
      help: "The node's own cardano_node_metrics_forging_enabled as last scraped (-1 = unknown)",
      registers,
    });
    this.forgingMismatch = new Gauge({
      name: 'cardano_forge_node_forging_mismatch',
      help: '1 when the node reports a forging state different from the desired one',
      registers,
    });
    this.lastTick = new Gauge({
      name: 'cardano_forge_reconcile_last_timestamp_seconds',
      help: 'Wall time of the last completed reconcile tick',
      registers,
    });
    this.startFlagMissing = new Gauge({
      name: 'cardano_forge_node_start_flag_missing',
      help: '1 when startAsNonProducing is configured but the running node lacks --start-as-non-producing-node',
      registers,
    });
    this.revokeFailures = new Counter({
      name: 'cardano_forge_revoke_failures_total',
      help: 'Credential revocations that failed or timed out (the files may still be at the node paths)',
      registers,
    });
    this.credentialsUnrevocable = new Gauge({
      name: 'cardano_forge_credentials_unrevocable',
      help: '1 while credentials cannot be removed from the node paths: the lease is kept and the node is stopped as a last resort; make the target writable',
      registers,
    });
    this.forgingFault = new Gauge({
      name: 'cardano_forge_forging_fault',
      help: '1 for the current condition in which this pod cannot forge or control its node (a leader hands over after the hold-down)',
      labelNames: ['reason'],
      registers,
    });
    this.terminations = new Counter({
      name: 'cardano_forge_node_terminations_total',
      help: 'Times the sidecar stopped its node as a last resort, by outcome (stopped = confirmed gone)',
      labelNames: ['outcome'],
      registers,
    });
    for (const reason of FAULT_REASONS) this.forgingFault.set({ reason }, 0);
    this.credentialsUnrevocable.set(0);
    this.forgingEnabled.set(this.labels, 0);
    this.leaderStatus.set(this.labels, 0);
  }

  record(tick: TickRecord, wallNow: Date): void {
    const { decision, observation, results } = tick;
    // Only what the node confirmed (its metric, or without metrics a SIGHUP past the latency bound).
    const forging = decision.forge && tick.nodeLoaded.forging === true;
    this.forgingEnabled.set(this.labels, forging ? 1 : 0);
    this.leaderStatus.set(this.labels, decision.leader ? 1 : 0);
    if (decision.leader !== this.wasLeader) this.leadershipChanges.inc();
    this.wasLeader = decision.leader;
    // The observation predates this tick's actions: the last successful file action wins.
    const lastFileAction = results
      .filter((r) => r.ok && (r.action.type === 'provision' || r.action.type === 'revoke'))
      .at(-1);
    const presence = lastFileAction
      ? lastFileAction.action.type === 'provision'
        ? 'all'
        : 'none'
      : observation.credentials.presence;
    this.credentialsPresent.set(presence === 'all' ? 1 : 0);
    const metric = observation.node.forgingMetric;
    this.nodeForging.set(metric === null ? -1 : metric ? 1 : 0);
    // Desired vs what the node has loaded (confirmed), unless a step towards it is under way: a
    // fresh unconfirmed SIGHUP, or actions that all succeeded in this tick.
    const loaded = tick.nodeLoaded;
    const pendingFresh =
      loaded.pending !== null &&
      observation.nowMs - loaded.pending.atMs <= observation.config.confirmTimeoutMs;
    const progressing = pendingFresh || (results.length > 0 && results.every((r) => r.ok));
    const differs = decision.forge ? loaded.forging !== true : loaded.forging === true;
    this.forgingMismatch.set(
      (decision.leader && observation.fault !== null) || (differs && !progressing) ? 1 : 0,
    );
    for (const r of results) {
      if (r.action.type === 'revoke' && !r.ok) this.revokeFailures.inc();
      if (r.action.type === 'terminate') this.terminations.inc({ outcome: r.ok ? 'stopped' : 'failed' });
    }
    this.credentialsUnrevocable.set(tick.credentialsUnrevocable ? 1 : 0);
    for (const reason of FAULT_REASONS)
      this.forgingFault.set({ reason }, observation.fault?.reason === reason ? 1 : 0);
    this.lastTick.set(wallNow.getTime() / 1000);
    // The decision config is the effective one: it turns startAsNonProducing off once the flag is seen missing.
    const flagMissing = observation.node.startsNonProducing === false && this.startAsNonProducingConfigured;
    this.startFlagMissing.set(flagMissing ? 1 : 0);
  }
}
