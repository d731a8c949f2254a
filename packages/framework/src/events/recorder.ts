/**
 * Records Kubernetes Events like client-go's EventRecorder: the same (type, reason, message)
 * within the aggregation window increments the existing Event's count instead of creating a new
 * one, and a token bucket bounds how many API writes the pod makes. Sending is asynchronous and
 * never blocks or fails the caller: Events are diagnostics, off the fencing path.
 */
import type { Logger } from 'pino';
import type { Clock } from '../contracts/index.js';
import type { ForgeEvent } from './transitions.js';

export interface EventRecorder {
  /** Queues an event; returns at once. */
  record(event: ForgeEvent): void;
  /** Waits for queued writes (and writes counts held back by the rate limit). */
  flush(): Promise<void>;
}

/** Where events go (the API server in production, an array in unit tests). */
export interface EventSink {
  /** Creates an Event; resolves with its name. */
  create(event: ForgeEvent, count: number, first: Date, last: Date): Promise<string>;
  /** Updates count and last time of an Event; rejects with `{ code: 404 }` when it is gone. */
  update(name: string, count: number, last: Date): Promise<void>;
}

export interface EventRecorderOptions {
  /** Same key within this window aggregates (client-go: 10 minutes). */
  readonly aggregationWindowMs: number;
  /** Token bucket: at most `burst` writes at once, one more every `refillMs`. */
  readonly burst: number;
  readonly refillMs: number;
}

export const DEFAULT_EVENT_RECORDER_OPTIONS: EventRecorderOptions = {
  aggregationWindowMs: 10 * 60_000,
  burst: 25,
  refillMs: 10_000,
};

interface Series {
  name: string | null;
  count: number;
  /** Count the API server has (the rest is held back by the rate limit). */
  sentCount: number;
  first: Date;
  last: Date;
  firstMs: number;
}

const keyOf = (e: ForgeEvent) => `${e.type}\u0000${e.reason}\u0000${e.message}`;

export function createEventRecorder(
  deps: { clock: Clock; sink: EventSink; logger: Logger },
  options: EventRecorderOptions = DEFAULT_EVENT_RECORDER_OPTIONS,
): EventRecorder {
  const { clock, sink, logger } = deps;
  const series = new Map<string, { event: ForgeEvent; state: Series }>();
  let tokens = options.burst;
  let refilledAtMs = clock.monotonicMs();
  let queue: Promise<void> = Promise.resolve();

  const takeToken = (): boolean => {
    const now = clock.monotonicMs();
    const earned = Math.floor((now - refilledAtMs) / options.refillMs);
    if (earned > 0) {
      tokens = Math.min(options.burst, tokens + earned);
      refilledAtMs += earned * options.refillMs;
    }
    if (tokens === 0) return false;
    tokens -= 1;
    return true;
  };

  const send = (event: ForgeEvent, state: Series): void => {
    const count = state.count;
    const last = state.last;
    queue = queue.then(async () => {
      try {
        if (state.name === null) {
          state.name = await sink.create(event, count, state.first, last);
        } else {
          try {
            await sink.update(state.name, count, last);
          } catch (error) {
            if ((error as { code?: unknown }).code !== 404) throw error;
            state.name = await sink.create(event, count, state.first, last);
          }
        }
        state.sentCount = Math.max(state.sentCount, count);
      } catch (error) {
        logger.warn({ err: error, reason: event.reason }, 'Kubernetes Event not written');
      }
    });
  };

  const flushHeldBack = (): void => {
    for (const { event, state } of series.values())
      if (state.count > state.sentCount && state.name !== null && takeToken()) send(event, state);
  };

  return {
    record(event) {
      const now = clock.monotonicMs();
      const wall = clock.wallNow();
      const key = keyOf(event);
      let entry = series.get(key);
      if (entry && now - entry.state.firstMs > options.aggregationWindowMs) entry = undefined;
      if (!entry) {
        entry = {
          event,
          state: { name: null, count: 1, sentCount: 0, first: wall, last: wall, firstMs: now },
        };
        series.set(key, entry);
      } else {
        entry.state.count += 1;
        entry.state.last = wall;
      }
      // Drop series whose window has passed, so memory stays bounded.
      for (const [k, v] of series)
        if (now - v.state.firstMs > options.aggregationWindowMs && k !== key) series.delete(k);
      if (takeToken()) send(entry.event, entry.state);
      else logger.debug({ reason: event.reason }, 'Kubernetes Event held back by the rate limit');
    },
    async flush() {
      flushHeldBack();
      await queue;
    },
  };
}
