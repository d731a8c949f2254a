/**
 * An in-memory Lease with the API server's compare-and-swap semantics (resourceVersion on
 * replace, AlreadyExists on create, MicroTime format checks), for unit tests and the
 * deterministic simulation. Each candidate gets its own `api(label)` view, so faults (a
 * partitioned candidate, a hanging connection) can be injected per candidate.
 */
import type { V1Lease } from '@kubernetes/client-node';
import type { Clock } from '../../contracts/index.js';
import type { ClassifiedK8sError } from '../../kube/errors.js';
import type {
  LeaseApi,
  LeaseCallOptions,
  LeaseCallResult,
  LeaseWatchEventType,
  LeaseWatchHandle,
} from './lease-api.js';

/** `network`: fails at once like ECONNREFUSED; `hang`: never answers (until the caller aborts). */
export type FakeLeaseFault = 'network' | 'hang' | ClassifiedK8sError;

export interface FakeLeaseWrite {
  readonly by: string;
  readonly op: 'create' | 'replace' | 'edit' | 'delete';
  readonly holder: string | undefined;
  readonly resourceVersion: string;
}

interface Watcher {
  readonly label: string;
  readonly view: FakeLeaseApi;
  readonly onEvent: (type: LeaseWatchEventType, lease: V1Lease) => void;
  readonly onDone: (error: ClassifiedK8sError | null) => void;
}

const MICROTIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;

function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** JSON with sorted keys, to compare two objects regardless of key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : v,
  );
}

/** What an update may change: everything but the server-owned resourceVersion. */
function content(lease: V1Lease): string {
  const { resourceVersion: _rv, ...metadata } = lease.metadata ?? {};
  return canonical({ metadata, spec: lease.spec ?? null });
}

export interface FakeLeaseApi extends LeaseApi {
  /** Fault applied to every call of this view until cleared (set to null). */
  fault: FakeLeaseFault | null;
  /** Delay before a call takes effect and answers (needs the store's clock). */
  latencyMs: number;
  /** This view's open watches stay open but deliver nothing while true (a stalled stream). */
  watchStalled: boolean;
  /** Calls made through this view, in order. */
  readonly calls: Array<{ op: 'read' | 'create' | 'replace' | 'watch'; atMs: number }>;
}

export class FakeLeaseStore {
  readonly namespace: string;
  readonly name: string;
  readonly writes: FakeLeaseWrite[] = [];
  #lease: V1Lease | null = null;
  #resourceVersion = 100;
  #watchers = new Set<Watcher>();
  readonly #clock: Clock | undefined;

  constructor(options: { namespace: string; name: string; clock?: Clock }) {
    this.namespace = options.namespace;
    this.name = options.name;
    this.#clock = options.clock;
  }

  /** The stored object as a reader would see it (times are strings), or null. */
  lease(): V1Lease | null {
    return this.#lease === null ? null : copy(this.#lease);
  }

  /** A hand edit (kubectl edit): no validation at all, bumps resourceVersion, notifies watchers. */
  edit(mutate: (lease: V1Lease) => V1Lease | void): void {
    const base: V1Lease =
      this.#lease === null
        ? {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.name, namespace: this.namespace },
            spec: {},
          }
        : copy(this.#lease);
    const edited = mutate(base) ?? base;
    const existed = this.#lease !== null;
    this.#store(edited, 'edit', 'admin');
    this.#emit(existed ? 'MODIFIED' : 'ADDED');
  }

  delete(): void {
    if (this.#lease === null) return;
    const last = this.#lease;
    this.#lease = null;
    this.writes.push({
      by: 'admin',
      op: 'delete',
      holder: undefined,
      resourceVersion: String(++this.#resourceVersion),
    });
    for (const w of [...this.#watchers])
      if (!w.view.watchStalled) queueMicrotask(() => w.onEvent('DELETED', copy(last)));
  }

  /** Ends every open watch with `error` (as a dropped connection would). */
  breakWatches(
    error: ClassifiedK8sError | null = { kind: 'network', message: 'watch connection reset' },
  ): void {
    const watchers = [...this.#watchers];
    this.#watchers.clear();
    for (const w of watchers) queueMicrotask(() => w.onDone(error));
  }

  get watcherCount(): number {
    return this.#watchers.size;
  }

  api(label: string): FakeLeaseApi {
    const calls: FakeLeaseApi['calls'] = [];
    const now = (): number => this.#clock?.monotonicMs() ?? 0;
    const view: FakeLeaseApi = {
      namespace: this.namespace,
      name: this.name,
      fault: null,
      latencyMs: 0,
      watchStalled: false,
      calls,
      read: (options) => {
        calls.push({ op: 'read', atMs: now() });
        return this.#faulted(view, options, () =>
          this.#lease === null
            ? this.#error(404, 'not-found', 'NotFound')
            : { ok: true, lease: copy(this.#lease) },
        );
      },
      create: (lease, options) => {
        calls.push({ op: 'create', atMs: now() });
        return this.#faulted(view, options, () => {
          if (this.#lease !== null) return this.#error(409, 'already-exists', 'AlreadyExists');
          const body = copy(lease);
          const invalid = this.#validate(body);
          if (invalid !== null) return invalid;
          this.#store(body, 'create', label);
          this.#emit('ADDED');
          return { ok: true, lease: copy(this.#lease!) };
        });
      },
      replace: (lease, options) => {
        calls.push({ op: 'replace', atMs: now() });
        return this.#faulted(view, options, () => {
          const body = copy(lease);
          const rv = body.metadata?.resourceVersion;
          if (rv === undefined || rv === '')
            return this.#error(
              422,
              'invalid',
              'Invalid',
              'metadata.resourceVersion must be specified for an update',
            );
          if (this.#lease === null) return this.#error(404, 'not-found', 'NotFound');
          if (rv !== this.#lease.metadata?.resourceVersion) return this.#error(409, 'conflict', 'Conflict');
          const invalid = this.#validate(body);
          if (invalid !== null) return invalid;
          // Like the API server: an update that changes nothing is not written (no new
          // resourceVersion, no watch event).
          const stored = copy(this.#lease);
          if (
            content({
              ...body,
              metadata: { ...body.metadata, name: this.name, namespace: this.namespace },
            }) === content(stored)
          )
            return { ok: true, lease: stored };
          this.#store(body, 'replace', label);
          this.#emit('MODIFIED');
          return { ok: true, lease: copy(this.#lease!) };
        });
      },
      watch: (onEvent, onDone): LeaseWatchHandle => {
        calls.push({ op: 'watch', atMs: now() });
        const watcher: Watcher = { label, view, onEvent, onDone };
        const fault = view.fault;
        if (fault !== null) {
          queueMicrotask(() =>
            onDone(
              fault === 'network' || fault === 'hang'
                ? { kind: 'network', message: 'connection refused' }
                : fault,
            ),
          );
          return { stop: () => undefined };
        }
        this.#watchers.add(watcher);
        const current = this.#lease;
        if (current !== null)
          queueMicrotask(() => this.#watchers.has(watcher) && onEvent('ADDED', copy(current)));
        return { stop: () => void this.#watchers.delete(watcher) };
      },
    };
    return view;
  }

  #faulted(
    view: FakeLeaseApi,
    options: LeaseCallOptions,
    answer: () => LeaseCallResult,
  ): Promise<LeaseCallResult> {
    const fault = view.fault;
    if (fault === null) {
      if (view.latencyMs > 0 && this.#clock !== undefined)
        return this.#clock.sleep(view.latencyMs, options.signal).then(answer, () => ({
          ok: false as const,
          error: { kind: 'timeout' as const, message: 'aborted' },
        }));
      return Promise.resolve().then(answer);
    }
    if (fault === 'network')
      return Promise.resolve({
        ok: false,
        error: { kind: 'network', message: 'ECONNREFUSED: connection refused' },
      });
    if (fault === 'hang')
      return new Promise((resolve) => {
        const done = (): void => resolve({ ok: false, error: { kind: 'timeout', message: 'aborted' } });
        if (options.signal.aborted) done();
        else options.signal.addEventListener('abort', done, { once: true });
      });
    return Promise.resolve({ ok: false, error: fault });
  }

  #validate(body: V1Lease): LeaseCallResult | null {
    const spec = (body.spec ?? {}) as Record<string, unknown>;
    for (const field of ['acquireTime', 'renewTime']) {
      const value = spec[field];
      if (value !== undefined && (typeof value !== 'string' || !MICROTIME.test(value)))
        return this.#error(
          400,
          'invalid',
          'BadRequest',
          `spec.${field}: ${JSON.stringify(value)} is not a MicroTime`,
        );
    }
    const duration = spec.leaseDurationSeconds;
    if (
      duration !== undefined &&
      !(typeof duration === 'number' && Number.isInteger(duration) && duration > 0)
    )
      return this.#error(422, 'invalid', 'Invalid', 'spec.leaseDurationSeconds must be greater than 0');
    return null;
  }

  #store(body: V1Lease, op: FakeLeaseWrite['op'], by: string): void {
    const resourceVersion = String(++this.#resourceVersion);
    this.#lease = {
      ...body,
      metadata: { ...body.metadata, name: this.name, namespace: this.namespace, resourceVersion },
    };
    this.writes.push({ by, op, holder: body.spec?.holderIdentity, resourceVersion });
  }

  #emit(type: LeaseWatchEventType): void {
    const snapshot = copy(this.#lease!);
    for (const w of [...this.#watchers])
      if (!w.view.watchStalled)
        queueMicrotask(() => this.#watchers.has(w) && w.onEvent(type, copy(snapshot)));
  }

  #error(
    status: number,
    kind: ClassifiedK8sError['kind'],
    reason: string,
    message?: string,
  ): LeaseCallResult {
    return { ok: false, error: { kind, status, message: `HTTP ${status} ${reason}: ${message ?? reason}` } };
  }
}
