import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/manual-clock.js';
import { createBackoff } from './backoff.js';
import { clockTimeout, sleepUnlessAborted, withDeadline } from './deadline.js';
import { createMutex } from './mutex.js';

describe('withDeadline (on the injected clock)', () => {
  it('settles at the deadline even when the call ignores its signal, and aborts that signal', async () => {
    const clock = new FakeClock();
    let seen: AbortSignal | undefined;
    const result = withDeadline(clock, 100, (signal) => {
      seen = signal;
      return new Promise<string>(() => undefined);
    });
    const outcome = result.then(
      () => 'resolved',
      (error: Error) => error.name,
    );
    await clock.advance(99);
    expect(seen?.aborted).toBe(false);
    await clock.advance(1);
    expect(await outcome).toBe('TimeoutError');
    expect(seen?.aborted).toBe(true);
  });

  it('yields onTimeout() instead of rejecting when given; the call result when it is first', async () => {
    const clock = new FakeClock();
    const late = withDeadline(clock, 50, () => new Promise<string>(() => undefined), {
      onTimeout: () => 'late',
    });
    await clock.advance(50);
    expect(await late).toBe('late');
    expect(await withDeadline(clock, 50, async () => 'fast')).toBe('fast');
  });

  it('a parent abort ends the wait at once with its reason, also with onTimeout', async () => {
    const clock = new FakeClock();
    const parent = new AbortController();
    const pending = withDeadline(clock, 1000, () => new Promise<string>(() => undefined), {
      parent: parent.signal,
      onTimeout: () => 'timeout',
    });
    parent.abort(new Error('stopping'));
    await expect(pending).rejects.toThrow('stopping');
  });

  it('clockTimeout fires on the clock and cancel() stops it; sleepUnlessAborted says whether it slept', async () => {
    const clock = new FakeClock();
    const fired = clockTimeout(clock, 10);
    const cancelled = clockTimeout(clock, 10);
    cancelled.cancel();
    await clock.advance(10);
    expect(fired.signal.aborted).toBe(true);
    expect(cancelled.signal.aborted).toBe(false);
    const stop = new AbortController();
    const slept = sleepUnlessAborted(clock, 10, stop.signal);
    await clock.advance(10);
    expect(await slept).toBe(true);
    const interrupted = sleepUnlessAborted(clock, 10, stop.signal);
    stop.abort();
    expect(await interrupted).toBe(false);
  });
});

describe('createBackoff', () => {
  it('doubles up to the cap and starts over after reset', () => {
    const backoff = createBackoff({ initialMs: 1000, maxMs: 5000 });
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([
      1000, 2000, 4000, 5000,
    ]);
    backoff.reset();
    expect(backoff.next()).toBe(1000);
  });

  it('adds the jitter share from the injected random source; rejects a policy that makes no sense', () => {
    const backoff = createBackoff({ initialMs: 100, maxMs: 1000, jitter: 0.2, random: () => 0.5 });
    expect(backoff.next()).toBeCloseTo(110);
    expect(() => createBackoff({ initialMs: 0, maxMs: 10 })).toThrow('0 < initialMs <= maxMs');
    expect(() => createBackoff({ initialMs: 1, maxMs: 10, jitter: 0.1 })).toThrow('random source');
  });
});

describe('createMutex', () => {
  it('runs work one after another in call order, and a failure does not block the next', async () => {
    const exclusive = createMutex();
    const order: string[] = [];
    const step =
      (label: string, fail = false) =>
      async () => {
        order.push(`${label} start`);
        await new Promise((r) => setTimeout(r, 5));
        order.push(`${label} end`);
        if (fail) throw new Error(label);
        return label;
      };
    const a = exclusive(step('a', true));
    const b = exclusive(step('b'));
    await expect(a).rejects.toThrow('a');
    expect(await b).toBe('b');
    expect(order).toEqual(['a start', 'a end', 'b start', 'b end']);
  });
});
