/**
 * The CardanoForgeCluster as the cluster manager sees it through its ClusterObjectGateway: one
 * object with generation/resourceVersion, status patches (optionally guarded by resourceVersion),
 * watches, latency; the operator edits spec.forgeState or deletes the object.
 */
import type {
  ClusterObject,
  ClusterObjectGateway,
  GatewayResult,
  WatchEventType,
  WatchHandle,
} from './framework.ts';
import type { Owner, Sim } from './sim.ts';

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

interface Watcher {
  readonly owner: Owner;
  readonly onEvent: (type: WatchEventType, object: ClusterObject) => void;
  readonly onDone: (error: unknown) => void;
  open: boolean;
  lastDeliveryAt: number;
}

export class SimClusterObjects {
  object: ClusterObject | null = null;
  #rv = 1000;
  #generation = 0;
  readonly #watchers = new Set<Watcher>();
  private readonly sim: Sim;
  /** Timeline label ('cluster-cr', or the region's). */
  readonly who: string;

  constructor(sim: Sim, who = 'cluster-cr') {
    this.sim = sim;
    this.who = who;
  }

  #trip(): number {
    return this.sim.rng.between(1, 20);
  }

  #store(next: ClusterObject, specChanged: boolean): void {
    if (specChanged) this.#generation += 1;
    this.object = {
      ...next,
      metadata: { ...next.metadata, generation: this.#generation, resourceVersion: String(++this.#rv) },
    };
  }

  #emit(type: WatchEventType, object: ClusterObject): void {
    for (const w of this.#watchers) {
      const at = Math.max(this.sim.now + this.#trip(), w.lastDeliveryAt);
      w.lastDeliveryAt = at;
      const snapshot = copy(object);
      this.sim.at(w.owner, at - this.sim.now, () => w.open && w.onEvent(type, snapshot));
    }
  }

  /** The operator sets spec.forgeState (kubectl patch). */
  setForgeState(state: string): void {
    if (this.object === null) return;
    this.#store({ ...copy(this.object), spec: { ...(this.object.spec as object), forgeState: state } }, true);
    this.sim.log(this.who, `operator set spec.forgeState=${state}`);
    this.#emit('MODIFIED', this.object!);
  }

  /** The operator edits spec (kubectl patch, merge): priority, override, forgeState. */
  patchSpec(what: string, patch: Record<string, unknown>): void {
    if (this.object === null) return;
    this.#store({ ...copy(this.object), spec: { ...(this.object.spec as object), ...patch } }, true);
    this.sim.log(this.who, `operator set ${what}`);
    this.#emit('MODIFIED', this.object!);
  }

  /** The operator deletes the CardanoForgeCluster. */
  delete(): void {
    if (this.object === null) return;
    const last = this.object;
    this.object = null;
    this.sim.log(this.who, 'operator deleted the CardanoForgeCluster');
    this.#emit('DELETED', last);
  }

  gateway(owner: () => Owner): ClusterObjectGateway {
    const answer = <T>(work: () => GatewayResult<T>): Promise<GatewayResult<T>> => {
      const client = owner();
      return new Promise((resolve) => {
        this.sim.at(this.sim.server, this.#trip(), () => {
          const result = work();
          this.sim.at(client, this.#trip(), () => resolve(result));
        });
      });
    };
    return {
      get: () => answer(() => ({ ok: true, value: this.object === null ? null : copy(this.object) })),
      create: (body) =>
        answer(() => {
          if (this.object !== null)
            return { ok: false, kind: 'already-exists', status: 409, message: 'AlreadyExists' };
          this.#store(copy(body), true);
          this.sim.log(this.who, `created with spec ${JSON.stringify(body.spec)}`);
          this.#emit('ADDED', this.object!);
          return { ok: true, value: copy(this.object!) };
        }),
      patchStatus: (_name, status, resourceVersion) =>
        answer(() => {
          if (this.object === null) return { ok: false, kind: 'not-found', status: 404, message: 'NotFound' };
          if (resourceVersion !== undefined && resourceVersion !== this.object.metadata.resourceVersion)
            return { ok: false, kind: 'conflict', status: 409, message: 'Conflict' };
          this.#store({ ...copy(this.object), status: { ...(this.object.status ?? {}), ...status } }, false);
          this.#emit('MODIFIED', this.object!);
          return { ok: true, value: copy(this.object!) };
        }),
      watch: (_name, onEvent, onDone): Promise<WatchHandle> => {
        const watcher: Watcher = { owner: owner(), onEvent, onDone, open: true, lastDeliveryAt: 0 };
        this.#watchers.add(watcher);
        if (this.object !== null) {
          const current = copy(this.object);
          const at = this.sim.now + this.#trip();
          watcher.lastDeliveryAt = at;
          this.sim.at(watcher.owner, at - this.sim.now, () => watcher.open && onEvent('ADDED', current));
        }
        return Promise.resolve({
          abort: () => {
            if (!watcher.open) return;
            watcher.open = false;
            this.#watchers.delete(watcher);
            this.sim.at(watcher.owner, 0, () => onDone(null));
          },
        });
      },
    };
  }
}
