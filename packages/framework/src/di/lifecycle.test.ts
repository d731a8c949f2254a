import { describe, expect, it } from 'vitest';
import { createRootContainer } from './container.js';
import { Lifecycle, LifecycleStartError } from './lifecycle.js';
import { token } from './token.js';

function recorder() {
  const events: string[] = [];
  const component = (
    name: string,
    behaviour: { failStart?: boolean; hangStop?: boolean; failStop?: boolean } = {},
  ) => ({
    name,
    start: async () => {
      events.push(`start ${name}`);
      if (behaviour.failStart) throw new Error(`${name} cannot start`);
    },
    stop: async (signal: AbortSignal) => {
      events.push(`stop ${name}`);
      if (behaviour.failStop) throw new Error(`${name} stop failed`);
      if (behaviour.hangStop) await new Promise((resolve) => signal.addEventListener('abort', resolve));
    },
  });
  return { events, component };
}

describe('Lifecycle', () => {
  it('starts in order and stops in reverse order', async () => {
    const { events, component } = recorder();
    const lifecycle = new Lifecycle()
      .add(component('elector'))
      .add(component('credentials'))
      .add(component('http'));
    await lifecycle.start();
    const results = await lifecycle.stop();
    expect(events).toEqual([
      'start elector',
      'start credentials',
      'start http',
      'stop http',
      'stop credentials',
      'stop elector',
    ]);
    expect(results.map((r) => r.reason)).toEqual(['ok', 'ok', 'ok']);
    expect(await lifecycle.stop()).toEqual([]); // idempotent
  });

  it('bounds each stop by its timeout and still stops the rest', async () => {
    const { events, component } = recorder();
    const lifecycle = new Lifecycle({ defaultStopTimeoutMs: 50 })
      .add(component('a'))
      .add(component('b', { hangStop: true }))
      .add(component('c', { failStop: true }));
    await lifecycle.start();
    const results = await lifecycle.stop();
    expect(events.slice(3)).toEqual(['stop c', 'stop b', 'stop a']);
    expect(results.map((r) => [r.name, r.reason])).toEqual([
      ['c', 'error'],
      ['b', 'timeout'],
      ['a', 'ok'],
    ]);
  });

  it('rolls back the started components when one fails to start', async () => {
    const { events, component } = recorder();
    const lifecycle = new Lifecycle()
      .add(component('a'))
      .add(component('b'))
      .add(component('c', { failStart: true }))
      .add(component('d'));
    const error = await lifecycle.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LifecycleStartError);
    expect((error as Error).message).toContain('"c" failed to start: c cannot start');
    expect(events).toEqual(['start a', 'start b', 'start c', 'stop b', 'stop a']);
  });

  it('rejects duplicate names and additions after start', async () => {
    const lifecycle = new Lifecycle().add({ name: 'x' });
    expect(() => lifecycle.add({ name: 'x' })).toThrow(/duplicate/);
    await lifecycle.start();
    expect(() => lifecycle.add({ name: 'y' })).toThrow(/after start/);
  });
});

describe('Container', () => {
  const GREETING = token<string>('test.Greeting');
  const COUNTER = token<{ n: number }>('test.Counter');

  it('isolates roots and lets children override locally', () => {
    const a = createRootContainer().registerValue(GREETING, 'a');
    const b = createRootContainer();
    expect(a.resolve(GREETING)).toBe('a');
    expect(b.isRegistered(GREETING)).toBe(false);
    expect(() => b.resolve(GREETING)).toThrow('DI: nothing registered for cardano-forge.test.Greeting');
    const child = a.createChild().registerValue(GREETING, 'child');
    expect(child.resolve(GREETING)).toBe('child');
    expect(a.resolve(GREETING)).toBe('a');
  });

  it('builds factory values once per container', () => {
    let built = 0;
    const root = createRootContainer().registerFactory(COUNTER, () => ({ n: ++built }));
    expect(root.resolve(COUNTER)).toBe(root.resolve(COUNTER));
    expect(built).toBe(1);
  });

  it('uses global symbols so tokens survive duplicate framework copies', () => {
    expect(token('x')).toBe(Symbol.for('cardano-forge.x'));
  });
});
