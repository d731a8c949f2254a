/**
 * The API server as the lease elector sees it: one Lease with compare-and-swap on
 * resourceVersion, AlreadyExists on create, watches. Faults: latency, 5xx, outages (connection
 * refused), partitions of one pod, writes that take effect but whose response never arrives (the
 * client times out), dropped watches, and hand edits (kubectl edit / delete).
 *
 * A request travels to the server (a server task: it takes effect even if the client is frozen or
 * killed meanwhile) and its response travels back as a task of the calling sidecar incarnation
 * (a killed sidecar never sees it; a frozen one sees it when it thaws). Watch events are delivered
 * the same way, in order per watch.
 */
import type { V1Lease } from '@kubernetes/client-node';
import type {
  ClassifiedK8sError,
  LeaseApi,
  LeaseCallOptions,
  LeaseCallResult,
  LeaseWatchEventType,
  LeaseWatchHandle,
} from './framework.ts';
import type { Owner, Sim } from './sim.ts';

export const NAMESPACE = 'pool';
export const LEASE_NAME = 'cardano-forge-pool';

const MICROTIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export interface ApiFaults {
  /** Max one-way latency (true ms); each trip is uniform in [1, max]. */
  latencyMaxMs: number;
  /** Probability that a call gets a 5xx. */
  serverErrorRate: number;
  /** Probability that a write takes effect but its response is lost (the client times out). */
  lostResponseRate: number;
}

interface Watcher {
  readonly pod: string;
  readonly owner: Owner;
  readonly onEvent: (type: LeaseWatchEventType, lease: V1Lease) => void;
  readonly onDone: (error: ClassifiedK8sError | null) => void;
  lastDeliveryAt: number;
  open: boolean;
}

export class SimApiServer {
  lease: V1Lease | null = null;
  #rv = 100;
  readonly #watchers = new Set<Watcher>();
  /** The server is unreachable for everyone (connection refused). */
  down = false;
  /** Pods cut off from the server: their calls hang until their own timeout. */
  readonly partitioned = new Set<string>();
  faults: ApiFaults = { latencyMaxMs: 20, serverErrorRate: 0, lostResponseRate: 0 };

  private readonly sim: Sim;
  /** Timeline label ('apiserver', or the region's). */
  readonly who: string;
  constructor(sim: Sim, who = 'apiserver') {
    this.sim = sim;
    this.who = who;
  }

  #trip(): number {
    return this.sim.rng.between(1, Math.max(1, this.faults.latencyMaxMs));
  }

  #error(
    status: number,
    kind: ClassifiedK8sError['kind'],
    reason: string,
    message?: string,
  ): LeaseCallResult {
    return { ok: false, error: { kind, status, message: `HTTP ${status} ${reason}: ${message ?? reason}` } };
  }

  #holder(): string {
    return this.lease?.spec?.holderIdentity ?? '';
  }

  #store(body: V1Lease, by: string, op: string): void {
    const resourceVersion = String(++this.#rv);
    this.lease = {
      ...body,
      metadata: { ...body.metadata, name: LEASE_NAME, namespace: NAMESPACE, resourceVersion },
    };
    const spec = this.lease.spec ?? {};
    this.sim.log(
      this.who,
      `lease ${op} by ${by}: holder=${JSON.stringify(spec.holderIdentity ?? '')} duration=${String(spec.leaseDurationSeconds)} rv=${resourceVersion}`,
    );
  }

  #emit(type: LeaseWatchEventType, lease: V1Lease): void {
    for (const w of this.#watchers) {
      const at = Math.max(this.sim.now + this.#trip(), w.lastDeliveryAt);
      w.lastDeliveryAt = at;
      const snapshot = copy(lease);
      this.sim.at(w.owner, at - this.sim.now, () => {
        if (w.open) w.onEvent(type, snapshot);
      });
    }
  }

  #validate(body: V1Lease): LeaseCallResult | null {
    const spec = (body.spec ?? {}) as Record<string, unknown>;
    for (const field of ['acquireTime', 'renewTime']) {
      const value = spec[field];
      if (value !== undefined && (typeof value !== 'string' || !MICROTIME.test(value)))
        return this.#error(400, 'invalid', 'BadRequest', `spec.${field} is not a MicroTime`);
    }
    const duration = spec.leaseDurationSeconds;
    if (
      duration !== undefined &&
      !(typeof duration === 'number' && Number.isInteger(duration) && duration > 0)
    )
      return this.#error(422, 'invalid', 'Invalid', 'spec.leaseDurationSeconds must be greater than 0');
    return null;
  }

  #apply(op: 'read' | 'create' | 'replace', pod: string, body: V1Lease | null): LeaseCallResult {
    if (op === 'read')
      return this.lease === null
        ? this.#error(404, 'not-found', 'NotFound')
        : { ok: true, lease: copy(this.lease) };
    // `body` is already the request's own copy (serialized when it was sent).
    const lease = body!;
    if (op === 'create') {
      if (this.lease !== null) return this.#error(409, 'already-exists', 'AlreadyExists');
      const invalid = this.#validate(lease);
      if (invalid) return invalid;
      this.#store(lease, pod, 'create');
      this.#emit('ADDED', this.lease!);
      return { ok: true, lease: copy(this.lease!) };
    }
    const rv = lease.metadata?.resourceVersion;
    if (rv === undefined || rv === '')
      return this.#error(422, 'invalid', 'Invalid', 'resourceVersion required');
    if (this.lease === null) return this.#error(404, 'not-found', 'NotFound');
    if (rv !== this.lease.metadata?.resourceVersion) return this.#error(409, 'conflict', 'Conflict');
    const invalid = this.#validate(lease);
    if (invalid) return invalid;
    this.#store(lease, pod, 'replace');
    this.#emit('MODIFIED', this.lease!);
    return { ok: true, lease: copy(this.lease!) };
  }

  #call(
    pod: string,
    owner: () => Owner,
    op: 'read' | 'create' | 'replace',
    body: V1Lease | null,
    options: LeaseCallOptions,
  ): Promise<LeaseCallResult> {
    const client = owner();
    const serialized = body === null ? null : copy(body);
    return new Promise<LeaseCallResult>((resolve) => {
      let settled = false;
      const settle = (result: LeaseCallResult): void => {
        if (settled) return;
        settled = true;
        options.signal.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const onAbort = (): void =>
        settle({ ok: false, error: { kind: 'timeout', message: 'request aborted' } });
      if (options.signal.aborted) {
        onAbort();
        return;
      }
      options.signal.addEventListener('abort', onAbort, { once: true });
      if (this.partitioned.has(pod)) return; // hangs until the client gives up
      if (this.down) {
        this.sim.at(client, this.#trip(), () =>
          settle({ ok: false, error: { kind: 'network', message: 'ECONNREFUSED: connection refused' } }),
        );
        return;
      }
      this.sim.at(this.sim.server, this.#trip(), () => {
        if (this.down || this.partitioned.has(pod)) return; // lost on the way
        const result = this.sim.rng.chance(this.faults.serverErrorRate)
          ? this.#error(503, 'server', 'ServiceUnavailable', 'etcd leader changed')
          : this.#apply(op, pod, serialized);
        if (op !== 'read' && result.ok && this.sim.rng.chance(this.faults.lostResponseRate)) {
          this.sim.log(this.who, `response to ${pod}'s ${op} lost (the write took effect)`);
          return;
        }
        this.sim.at(client, this.#trip(), () => settle(result));
      });
    });
  }

  api(pod: string, owner: () => Owner): LeaseApi {
    return {
      namespace: NAMESPACE,
      name: LEASE_NAME,
      read: (options) => this.#call(pod, owner, 'read', null, options),
      create: (lease, options) => this.#call(pod, owner, 'create', lease, options),
      replace: (lease, options) => this.#call(pod, owner, 'replace', lease, options),
      watch: (onEvent, onDone): LeaseWatchHandle => {
        const watcher: Watcher = { pod, owner: owner(), onEvent, onDone, lastDeliveryAt: 0, open: true };
        if (this.down || this.partitioned.has(pod)) {
          this.sim.at(watcher.owner, this.down ? this.#trip() : 5000, () =>
            onDone({ kind: 'network', message: 'connection refused' }),
          );
          return { stop: () => undefined };
        }
        this.#watchers.add(watcher);
        if (this.lease !== null) {
          const current = copy(this.lease);
          const at = this.sim.now + this.#trip();
          watcher.lastDeliveryAt = at;
          this.sim.at(watcher.owner, at - this.sim.now, () => watcher.open && onEvent('ADDED', current));
        }
        return {
          stop: () => {
            watcher.open = false;
            this.#watchers.delete(watcher);
          },
        };
      },
    };
  }

  /** Ends every open watch (a dropped connection, an apiserver restart). */
  dropWatches(): void {
    for (const w of [...this.#watchers]) {
      this.#watchers.delete(w);
      const at = Math.max(this.sim.now + this.#trip(), w.lastDeliveryAt);
      this.sim.at(w.owner, at - this.sim.now, () => {
        if (!w.open) return;
        w.open = false;
        w.onDone({ kind: 'network', message: 'watch connection reset' });
      });
    }
  }

  /** Outage: connection refused for everyone, open watches break. */
  setDown(down: boolean): void {
    this.down = down;
    this.sim.log(this.who, down ? 'OUTAGE begins' : 'outage over');
    if (down) this.dropWatches();
  }

  setPartitioned(pod: string, cut: boolean): void {
    if (cut) this.partitioned.add(pod);
    else this.partitioned.delete(pod);
    this.sim.log(this.who, `${pod} ${cut ? 'partitioned from' : 'reconnected to'} the apiserver`);
    if (cut)
      for (const w of [...this.#watchers])
        if (w.pod === pod) {
          this.#watchers.delete(w);
          this.sim.at(w.owner, 5000, () => {
            if (!w.open) return;
            w.open = false;
            w.onDone({ kind: 'network', message: 'watch connection reset' });
          });
        }
  }

  /** kubectl edit: no validation, bumps resourceVersion, notifies watchers. */
  handEdit(what: string, mutate: (spec: NonNullable<V1Lease['spec']>) => void): void {
    if (this.lease === null) return;
    const edited = copy(this.lease);
    edited.spec ??= {};
    mutate(edited.spec);
    this.#store(edited, 'admin', `hand edit (${what})`);
    this.#emit('MODIFIED', this.lease!);
  }

  handDelete(): void {
    if (this.lease === null) return;
    const last = this.lease;
    this.lease = null;
    this.#rv += 1;
    this.sim.log(
      this.who,
      `lease DELETED by admin (holder was ${JSON.stringify(last.spec?.holderIdentity ?? '')})`,
    );
    this.#emit('DELETED', last);
  }

  holder(): string {
    return this.#holder();
  }
}
