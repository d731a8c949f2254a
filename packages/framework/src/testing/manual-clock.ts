/** A manual clock for unit tests of timer-driven code (the lease elector): time moves only when told. */
import type { Clock } from '../contracts/index.js';

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
  signal?: AbortSignal | undefined;
  onAbort?: () => void;
}

/** A manual clock: sleeps resolve only when the test advances time. */
export class FakeClock implements Clock {
  #now = 1_000_000;
  #wallOffsetMs = Date.UTC(2026, 0, 1);
  #timers: Timer[] = [];
  #seq = 0;

  monotonicMs(): number {
    return this.#now;
  }
  #wallFrozenAt: number | null = null;
  wallNow(): Date {
    return new Date(this.#wallFrozenAt ?? this.#wallOffsetMs + this.#now);
  }
  /** The wall clock stops (a stuck clock source); monotonic time goes on. */
  freezeWall(): void {
    this.#wallFrozenAt = this.#wallOffsetMs + this.#now;
  }
  /** Moves only the wall clock (clock skew / NTP step); expiry must not care. */
  skewWall(ms: number): void {
    this.#wallOffsetMs += ms;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, resolve, signal };
      if (signal) {
        timer.onAbort = () => {
          this.#timers = this.#timers.filter((t) => t !== timer);
          reject(signal.reason);
        };
        signal.addEventListener('abort', timer.onAbort, { once: true });
      }
      this.#timers.push(timer);
    });
  }
  /** Advances time in timer order, letting promise chains run between timers. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await flush();
    for (;;) {
      const next = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (next === undefined) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = Math.max(this.#now, next.at);
      if (next.signal && next.onAbort) next.signal.removeEventListener('abort', next.onAbort);
      next.resolve();
      await flush();
    }
    this.#now = target;
    await flush();
  }
}

export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}
