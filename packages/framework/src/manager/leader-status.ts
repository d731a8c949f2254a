/**
 * Writes the CardanoLeader status. Only on transitions (not a heartbeat like the Python sidecar,
 * G20), with lastTransitionTime set to when the transition happened. The pod holding the lease
 * writes; a pod that is not leader only clears an entry that still names itself, and never blanks
 * a live leader (G7, G26). The object is created when missing (G30).
 */
import type { Logger } from 'pino';
import { createKubeClient, forgeUserAgent, MERGE_PATCH, type KubeClient } from '../kube/client.js';
import { classifyK8sError } from '../kube/errors.js';
import type { KubeConfig } from '../kube/kubeconfig.js';

export interface LeaderStatusTarget {
  readonly namespace: string;
  readonly name: string;
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly podName: string;
  readonly timeoutMs: number;
}

export interface LeaderStatusReport {
  readonly leader: boolean;
  readonly forging: boolean;
  readonly reason: string;
  readonly message: string;
  readonly transitions: number;
  /** Wall time the reported state began. */
  readonly since: Date;
}

interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export class LeaderStatusWriter {
  private readonly client: KubeClient;
  private readonly target: LeaderStatusTarget;
  private readonly logger: Logger;
  /** The last report written successfully; a write is retried until it succeeds. */
  private written: string | null = null;
  private conditions = new Map<string, Condition>();

  constructor(kubeConfig: KubeConfig, target: LeaderStatusTarget, logger: Logger) {
    this.client = createKubeClient(kubeConfig, { userAgent: forgeUserAgent(target.podName) });
    this.target = target;
    this.logger = logger;
  }

  /** Writes when the reported state changed since the last successful write. Never throws. */
  async report(report: LeaderStatusReport): Promise<void> {
    const key = JSON.stringify([report.leader, report.forging, report.reason]);
    if (key === this.written) return;
    try {
      if (report.leader) await this.writeLeader(report);
      else await this.clearIfMine(report);
      this.written = key;
    } catch (error) {
      const c = classifyK8sError(error);
      this.logger.warn({ kind: c.kind, status: c.status }, `CardanoLeader status not written: ${c.message}`);
    }
  }

  private condition(type: string, status: boolean, reason: string, message: string, at: Date): Condition {
    const previous = this.conditions.get(type);
    const s = status ? 'True' : 'False';
    const next: Condition = {
      type,
      status: s,
      // Kubernetes convention: lastTransitionTime changes only when status flips.
      lastTransitionTime: previous && previous.status === s ? previous.lastTransitionTime : at.toISOString(),
      reason,
      message,
    };
    this.conditions.set(type, next);
    return next;
  }

  private async writeLeader(report: LeaderStatusReport): Promise<void> {
    const { podName } = this.target;
    const object = await this.getOrCreate();
    const status = {
      leaderPod: podName,
      forgingEnabled: report.forging,
      lastTransitionTime: report.since.toISOString(),
      reason: report.reason,
      message: report.message,
      leaseTransitions: report.transitions,
      observedGeneration: object.metadata?.generation ?? 1,
      conditions: [
        this.condition('LeaderElected', true, 'LeaseHeld', `${podName} holds the lease`, report.since),
        this.condition('Ready', report.forging, report.reason, report.message, report.since),
      ],
    };
    await this.patchStatus(status);
    this.logger.info(
      { leaderPod: podName, forging: report.forging, reason: report.reason },
      'CardanoLeader status written',
    );
  }

  private async clearIfMine(report: LeaderStatusReport): Promise<void> {
    const object = await this.get();
    if (!object) return;
    if (object.status?.leaderPod !== this.target.podName) return;
    // The resourceVersion makes this a compare-and-swap: if a new leader wrote in between, the
    // patch fails with 409 instead of blanking it.
    await this.patchStatus(
      {
        leaderPod: '',
        forgingEnabled: false,
        lastTransitionTime: report.since.toISOString(),
        reason: report.reason,
        message: `${this.target.podName} is no longer leader: ${report.message}`,
        conditions: [
          this.condition('LeaderElected', false, report.reason, report.message, report.since),
          this.condition('Ready', false, report.reason, report.message, report.since),
        ],
      },
      object.metadata?.resourceVersion,
    );
    this.logger.info({ reason: report.reason }, 'CardanoLeader status cleared (it named this pod)');
  }

  private async get(): Promise<LeaderObject | null> {
    try {
      return await this.client.request<LeaderObject>({
        method: 'GET',
        path: this.path(this.target.name),
        timeoutMs: this.target.timeoutMs,
      });
    } catch (error) {
      if (classifyK8sError(error).kind === 'not-found') return null;
      throw error;
    }
  }

  private async getOrCreate(): Promise<LeaderObject> {
    const existing = await this.get();
    if (existing) return existing;
    const { group, version, name, timeoutMs } = this.target;
    try {
      return await this.client.request<LeaderObject>({
        method: 'POST',
        path: this.path(),
        body: {
          apiVersion: `${group}/${version}`,
          kind: 'CardanoLeader',
          metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'cardano-forge' } },
          spec: { description: 'Created by cardano-forge' },
        },
        timeoutMs,
      });
    } catch (error) {
      if (classifyK8sError(error).kind === 'already-exists') return (await this.get()) as LeaderObject;
      throw error;
    }
  }

  private async patchStatus(status: Record<string, unknown>, resourceVersion?: string): Promise<void> {
    const body = resourceVersion ? { metadata: { resourceVersion }, status } : { status };
    await this.client.request({
      method: 'PATCH',
      path: `${this.path(this.target.name)}/status`,
      body,
      contentType: MERGE_PATCH,
      timeoutMs: this.target.timeoutMs,
    });
  }

  /** The collection, or one object of it. */
  private path(name?: string): string {
    const { group, version, namespace, plural } = this.target;
    const collection = `/apis/${group}/${version}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
    return name === undefined ? collection : `${collection}/${encodeURIComponent(name)}`;
  }
}

interface LeaderObject {
  metadata?: { generation?: number; resourceVersion?: string };
  status?: { leaderPod?: string; forgingEnabled?: boolean };
}
