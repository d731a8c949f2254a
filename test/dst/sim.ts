/**
 * The simulation kernel: one seeded PRNG, true simulated time, virtual timers, and a scheduler
 * that advances time only when every simulated task is idle.
 *
 * All simulated code (the real sidecar modules and the models) makes progress only through
 * promises and the timers here, never through real I/O or real timers. So after a timer fires,
 * one `setImmediate` turn runs every microtask chain it started to completion; then the earliest
 * remaining timer is popped. Timers fire one at a time in (due, sequence) order, which makes a run
 * a pure function of the seed.
 *
 * Timers belong to an Owner (a sidecar incarnation, a node process, the API server). A frozen
 * owner's timers are held back until it thaws (SIGSTOP: its clock keeps running, its tasks do
 * not); a killed owner's timers are dropped (SIGKILL: no cleanup runs).
 */
import type { Logger } from 'pino';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import type { Clock } from './framework.ts';

export class Rng {
  readonly #gen;
  constructor(seed: number) {
    this.#gen = xoroshiro128plus(seed);
  }
  /** Uniform in [0, 1). */
  next(): number {
    return uniformFloat64(this.#gen);
  }
  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }
  int(min: number, maxInclusive: number): number {
    return Math.min(maxInclusive, Math.floor(this.between(min, maxInclusive + 1)));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)] as T;
  }
}

export class Owner {
  frozen = false;
  dead = false;
  readonly held: Timer[] = [];
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}

interface Timer {
  readonly due: number;
  readonly seq: number;
  readonly owner: Owner;
  readonly fire: () => void;
  cancelled: boolean;
}

export interface TimelineEntry {
  readonly atMs: number;
  readonly who: string;
  readonly what: string;
}

/** A min-heap of timers by (due, seq). */
class TimerHeap {
  readonly #items: Timer[] = [];
  get size(): number {
    return this.#items.length;
  }
  #less(a: Timer, b: Timer): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }
  push(timer: Timer): void {
    const items = this.#items;
    items.push(timer);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }
  pop(): Timer | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.#less(items[l]!, items[m]!)) m = l;
        if (r < items.length && this.#less(items[r]!, items[m]!)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return top;
  }
}

const idle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Sim {
  /** True simulated time in ms (no pod sees it directly: each has a drifting clock). */
  now = 0;
  readonly rng: Rng;
  readonly timeline: TimelineEntry[] = [];
  /** Also record the real code's log lines (replay); off in bulk runs to stay cheap. */
  readonly verbose: boolean;
  readonly server = new Owner('apiserver');
  readonly world = new Owner('world');
  #seq = 0;
  readonly #timers = new TimerHeap();
  #stopped: string | null = null;

  constructor(seed: number, verbose = false) {
    this.rng = new Rng(seed);
    this.verbose = verbose;
  }

  log(who: string, what: string): void {
    this.timeline.push({ atMs: this.now, who, what });
  }

  /** Runs `fire` after `delayMs` of true time, as a task of `owner`. Returns a cancel function. */
  at(owner: Owner, delayMs: number, fire: () => void): () => void {
    const timer: Timer = {
      due: this.now + Math.max(0, delayMs),
      seq: this.#seq++,
      owner,
      fire,
      cancelled: false,
    };
    if (!owner.dead) this.#timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  freeze(owner: Owner): void {
    owner.frozen = true;
  }

  thaw(owner: Owner): void {
    owner.frozen = false;
    for (const timer of owner.held.splice(0)) if (!timer.cancelled) this.at(owner, 0, timer.fire);
  }

  kill(owner: Owner): void {
    owner.dead = true;
    owner.held.length = 0;
  }

  /** Ends the run early (a violation was found). */
  stop(why: string): void {
    this.#stopped ??= why;
  }

  get stoppedBecause(): string | null {
    return this.#stopped;
  }

  /** Advances time to `untilMs`, firing timers in order and letting every task settle between them. */
  async run(untilMs: number): Promise<void> {
    await idle();
    while (this.#stopped === null) {
      const timer = this.#timers.pop();
      if (timer === undefined || timer.due > untilMs) {
        if (timer !== undefined) this.#timers.push(timer);
        this.now = untilMs;
        return;
      }
      if (timer.cancelled || timer.owner.dead) continue;
      this.now = Math.max(this.now, timer.due);
      if (timer.owner.frozen) {
        timer.owner.held.push(timer);
        continue;
      }
      timer.fire();
      await idle();
    }
  }
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/**
 * A pod's clock: monotonic and wall time run at `rate` (1 ± ε) relative to true time; sleeps are
 * timers of the pod's current incarnation (`owner()`), so they stop with it.
 */
export interface PodClock extends Clock {
  /** A wall clock that stopped advancing (a broken RTC, repeated NTP steps back). */
  wallStuckAtMs: number | null;
}

export function podClock(sim: Sim, owner: () => Owner, rate: number, wallOffsetMs: number): PodClock {
  const epoch = Date.UTC(2026, 0, 1);
  const offset = 1_000_000;
  const clock: PodClock = {
    wallStuckAtMs: null,
    monotonicMs: () => offset + sim.now * rate,
    wallNow: () => new Date(clock.wallStuckAtMs ?? epoch + wallOffsetMs + sim.now * rate),
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(abortError(signal));
          return;
        }
        const onAbort = (): void => {
          cancel();
          reject(abortError(signal!));
        };
        const cancel = sim.at(owner(), Math.max(0, ms) / rate, () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
  };
  return clock;
}

type LogFn = (objOrMsg: unknown, msg?: string) => void;

/** A pino-compatible logger that writes into the timeline (only in verbose runs). */
export function simLogger(sim: Sim, who: string, bindings: Record<string, unknown> = {}): Logger {
  const write =
    (level: string): LogFn =>
    (objOrMsg, msg) => {
      if (!sim.verbose) return;
      if (level === 'debug' || level === 'trace') return;
      const text = typeof objOrMsg === 'string' ? objOrMsg : (msg ?? '');
      const component = typeof bindings.component === 'string' ? `${bindings.component}: ` : '';
      let fields = '';
      if (typeof objOrMsg === 'object' && objOrMsg !== null) {
        const shown = Object.entries(objOrMsg as Record<string, unknown>)
          .filter(([k, v]) => k !== 'err' && (typeof v !== 'object' || v === null))
          .map(([k, v]) => `${k}=${String(v)}`);
        const err = (objOrMsg as { err?: unknown }).err;
        if (err instanceof Error) shown.push(`err=${err.message}`);
        if (shown.length > 0) fields = ` {${shown.join(' ')}}`;
      }
      sim.log(who, `[${level}] ${component}${text}${fields}`);
    };
  const logger = {
    level: 'info',
    trace: write('trace'),
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    fatal: write('fatal'),
    child: (more: Record<string, unknown>) => simLogger(sim, who, { ...bindings, ...more }),
    isLevelEnabled: () => sim.verbose,
  };
  return logger as unknown as Logger;
}

export function formatTimeline(entries: readonly TimelineEntry[]): string {
  return entries
    .map((e) => `${(e.atMs / 1000).toFixed(3).padStart(9)}s  ${e.who.padEnd(14)} ${e.what}`)
    .join('\n');
}
