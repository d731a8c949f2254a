import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Clock } from '../contracts/index.js';

/** The real clock: performance.now() is monotonic (immune to wall-clock steps). */
export function createSystemClock(): Clock {
  return {
    monotonicMs: () => performance.now(),
    wallNow: () => new Date(),
    sleep: (ms, signal) => sleepFor(Math.max(0, ms), undefined, signal ? { signal } : undefined),
  };
}
