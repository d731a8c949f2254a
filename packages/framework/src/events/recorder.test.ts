import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { Clock } from '../contracts/index.js';
import { createEventRecorder, type EventSink } from './recorder.js';
import type { ForgeEvent } from './transitions.js';

function setup(options = { aggregationWindowMs: 60_000, burst: 3, refillMs: 10_000 }) {
  let nowMs = 0;
  const clock: Clock = {
    monotonicMs: () => nowMs,
    wallNow: () => new Date(Date.UTC(2026, 0, 1) + nowMs),
    sleep: () => Promise.resolve(),
  };
  const stored = new Map<string, { event: ForgeEvent; count: number; last: Date }>();
  const calls: string[] = [];
  let failNextUpdateWith404 = false;
  const sink: EventSink = {
    create: async (event, count, _first, last) => {
      const name = `ev-${stored.size}`;
      stored.set(name, { event, count, last });
      calls.push(`create ${event.reason} ${count}`);
      return name;
    },
    update: async (name, count, last) => {
      if (failNextUpdateWith404) {
        failNextUpdateWith404 = false;
        stored.delete(name);
        throw Object.assign(new Error('not found'), { code: 404 });
      }
      stored.get(name)!.count = count;
      stored.get(name)!.last = last;
      calls.push(`update ${name} ${count}`);
    },
  };
  const recorder = createEventRecorder({ clock, sink, logger: pino({ level: 'silent' }) }, options);
  return {
    recorder,
    stored,
    calls,
    advance: (ms: number) => (nowMs += ms),
    expire: () => (failNextUpdateWith404 = true),
  };
}

const lost: ForgeEvent = { type: 'Warning', reason: 'RevocationFailed', message: 'EACCES' };
const gained: ForgeEvent = { type: 'Normal', reason: 'LeadershipGained', message: 'holds lease x' };

describe('event recorder', () => {
  it('aggregates the same event within the window into one object with a count', async () => {
    const { recorder, stored, calls, advance } = setup();
    recorder.record(lost);
    advance(1000);
    recorder.record(lost);
    await recorder.flush();
    expect(calls).toEqual(['create RevocationFailed 1', 'update ev-0 2']);
    expect(stored.size).toBe(1);
    expect(stored.get('ev-0')!.last.toISOString()).toBe('2026-01-01T00:00:01.000Z');
  });

  it('starts a new object after the window', async () => {
    const { recorder, stored, advance } = setup();
    recorder.record(gained);
    advance(61_000);
    recorder.record(gained);
    await recorder.flush();
    expect([...stored.values()].map((s) => s.count)).toEqual([1, 1]);
  });

  it('rate-limits writes and sends the held-back count later', async () => {
    const { recorder, stored, calls, advance } = setup();
    for (let i = 0; i < 10; i++) recorder.record(lost);
    await Promise.resolve();
    // burst 3: one create and two updates reach the API server, the rest wait for a token.
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['create RevocationFailed 1', 'update ev-0 2', 'update ev-0 3']);
    advance(10_000);
    await recorder.flush();
    expect(stored.get('ev-0')!.count).toBe(10);
    expect(calls).toHaveLength(4);
  });

  it('re-creates an event that was deleted (TTL) instead of losing the count', async () => {
    const { recorder, stored, expire } = setup();
    recorder.record(lost);
    await recorder.flush();
    expire();
    recorder.record(lost);
    await recorder.flush();
    expect([...stored.values()].map((s) => s.count)).toEqual([2]);
  });
});
