/**
 * The cached CardanoForgeCluster: read (or created) at start, kept current by a watch and a
 * periodic re-read, and confirmed with the monotonic time each read was sent. The snapshot's
 * staleness is measured from that confirmation (cluster/policy-snapshot.ts).
 */
import type { Logger } from 'pino';
import type { Clock } from '../contracts/index.js';
import { createBackoff } from '../core/backoff.js';
import { sleepUnlessAborted } from '../core/deadline.js';
import type { ClusterObject, ClusterObjectGateway, WatchHandle } from './gateway.js';
import type { LoadProblem, PolicyCacheView } from './policy-snapshot.js';

export interface PolicyCacheDeps {
  readonly clock: Clock;
  readonly gateway: ClusterObjectGateway;
  readonly logger: Logger;
  /** Aborted when the manager stops: ends the watch and the re-read loop. */
  readonly signal: AbortSignal;
  /** The object to create when none exists (cluster/cluster-object.ts). */
  readonly buildObject: () => ClusterObject;
  /** Called after every read, create, watch event and failure: the snapshot may have changed. */
  readonly onChange: () => void;
}

export interface PolicyCacheOptions {
  readonly name: string;
  readonly namespace: string;
  readonly resyncMs: number;
}

export interface PolicyCache {
  view(): PolicyCacheView;
  /** Reads the object, creating it when missing; concurrent calls share one read. */
  ensure(): Promise<void>;
  /** A newer copy of the object came back from a write (status patch): it confirms the policy too. */
  confirm(object: ClusterObject, atMs: number): void;
  /** Starts the watch and the periodic re-read; they run until the signal aborts. */
  startLoops(): Promise<void>[];
  /** Closes the open watch (stop). */
  closeWatch(): void;
  /** Settles when the read in flight (if any) has. */
  settled(): Promise<void>;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** resourceVersions are opaque by contract but etcd revisions in practice: compare when numeric. */
function isOlder(candidate: ClusterObject, current: ClusterObject | null): boolean {
  const a = candidate.metadata.resourceVersion;
  const b = current?.metadata.resourceVersion;
  if (typeof a !== 'string' || typeof b !== 'string' || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return BigInt(a) < BigInt(b);
}

function forgeStateOf(spec: unknown): unknown {
  return typeof spec === 'object' && spec !== null
    ? (spec as { forgeState?: unknown }).forgeState
    : undefined;
}

export function createPolicyCache(deps: PolicyCacheDeps, options: PolicyCacheOptions): PolicyCache {
  const { clock, gateway, signal, onChange } = deps;
  const log = deps.logger;
  const { name } = options;
  let cached: ClusterObject | null = null;
  /**
   * The spec last read from the server. A deleted object is re-created with it, not with the
   * defaults: a deletion (kubectl delete -f on a directory, a cleanup script) must not turn a
   * Disabled cluster, or an override, back on. Only a pod that never read the object uses defaults.
   */
  let lastKnownSpec: unknown;
  let lastConfirmedMs: number | null = null;
  let loadProblem: LoadProblem | null = null;
  let lastReadError = '';
  let watchHandle: WatchHandle | null = null;
  let ensuring: Promise<void> | null = null;

  function confirm(object: ClusterObject, atMs: number): void {
    // A resync GET sent before an edit can answer after the watch delivered the edit: never let
    // the older object replace the newer one (that would flap forging back on for a moment).
    if (!isOlder(object, cached)) {
      cached = object;
      lastKnownSpec = object.spec;
    }
    loadProblem = null;
    lastReadError = '';
    if (lastConfirmedMs === null || atMs > lastConfirmedMs) lastConfirmedMs = atMs;
  }

  function ensure(): Promise<void> {
    ensuring ??= (async () => {
      try {
        const sentAt = clock.monotonicMs();
        const got = await gateway.get(name);
        if (!got.ok) {
          lastReadError = got.message;
          log.warn({ err: got.message }, 'reading the CardanoForgeCluster failed');
          return;
        }
        if (got.value !== null) {
          confirm(got.value, sentAt);
          return;
        }
        cached = null;
        const fresh = deps.buildObject();
        const recreating = lastKnownSpec !== undefined;
        const created = await gateway.create(recreating ? { ...fresh, spec: lastKnownSpec } : fresh);
        if (created.ok) {
          if (recreating)
            log.warn(
              { forgeState: forgeStateOf(lastKnownSpec) },
              'the CardanoForgeCluster was missing; re-created it with its last known spec (not the defaults)',
            );
          else log.info('created the CardanoForgeCluster');
          confirm(created.value, sentAt);
        } else if (created.kind === 'already-exists') {
          const again = await gateway.get(name);
          if (again.ok && again.value !== null) confirm(again.value, sentAt);
        } else {
          // Not silently disabled (G10): the snapshot fails closed and says why.
          loadProblem = {
            reason: 'ClusterCreateFailed',
            message: `creating CardanoForgeCluster ${options.namespace}/${name} failed: ${created.message}`,
          };
          log.error({ err: created.message }, 'creating the CardanoForgeCluster failed');
        }
      } finally {
        ensuring = null;
        onChange();
      }
    })();
    return ensuring;
  }

  async function resyncLoop(): Promise<void> {
    while (await sleepUnlessAborted(clock, options.resyncMs, signal)) await ensure();
  }

  async function watchLoop(): Promise<void> {
    const backoff = createBackoff({ initialMs: 1000, maxMs: 30_000 });
    while (!signal.aborted) {
      const openedAt = clock.monotonicMs();
      let receivedAny = false;
      const ended = new Promise<unknown>((resolve) => {
        void gateway
          .watch(
            name,
            (type, object) => {
              receivedAny = true;
              if (object.metadata.name !== name) return;
              if (type === 'DELETED') {
                log.warn('the CardanoForgeCluster was deleted; re-creating it with its last known spec');
                cached = null;
                void ensure();
                return;
              }
              if (type === 'ADDED' || type === 'MODIFIED') {
                confirm(object, clock.monotonicMs());
                onChange();
              }
            },
            resolve,
          )
          .then((handle) => {
            watchHandle = handle;
            if (signal.aborted) handle.abort();
          });
      });
      const error = await ended;
      watchHandle = null;
      if (signal.aborted) return;
      const clean =
        error === null ||
        error === undefined ||
        (typeof error === 'object' && (error as { name?: unknown }).name === 'TimeoutError');
      if (clean && receivedAny) {
        backoff.reset();
        continue;
      }
      if (!clean)
        log.warn({ err: describe(error) }, 'CardanoForgeCluster watch ended with an error; re-opening');
      // A watch that closed at once (error, or nothing received) waits before retrying.
      const lived = clock.monotonicMs() - openedAt;
      if (!(await sleepUnlessAborted(clock, Math.max(0, backoff.next() - lived), signal))) return;
    }
  }

  return {
    view: () => ({ object: cached, lastConfirmedMs, loadProblem, lastReadError }),
    ensure,
    confirm,
    startLoops: () => [watchLoop(), resyncLoop()],
    closeWatch: () => watchHandle?.abort(),
    settled: () => ensuring ?? Promise.resolve(),
  };
}
