import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createSystemClock } from './clock.js';

describe('system clock sleep', () => {
  const clock = createSystemClock();

  it('resolves after the time and leaves no listener on the signal', async () => {
    const signal = new AbortController().signal;
    const start = clock.monotonicMs();
    await clock.sleep(30, signal);
    expect(clock.monotonicMs() - start).toBeGreaterThanOrEqual(29);
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('an abort rejects at once with the signal’s reason', async () => {
    const controller = new AbortController();
    const start = clock.monotonicMs();
    const sleeping = clock.sleep(10_000, controller.signal);
    controller.abort('stopped');
    await expect(sleeping).rejects.toBe('stopped');
    expect(clock.monotonicMs() - start).toBeLessThan(1000);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('an already aborted signal rejects without waiting', async () => {
    const reason = new Error('gone');
    await expect(clock.sleep(10_000, AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it('a negative time is no time', async () => {
    await expect(clock.sleep(-5)).resolves.toBeUndefined();
  });
});
