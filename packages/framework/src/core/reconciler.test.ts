import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { FakeCredentials, FakeElector, FakeNode } from '../testing/fakes.js';
import { createSystemClock } from './clock.js';
import { Reconciler } from './reconciler.js';

const clock = createSystemClock();
const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await clock.sleep(5);
  }
};

function setup(callTimeoutMs = 1000, disableSocketCheck = false) {
  const calls: string[] = [];
  const elector = new FakeElector(calls);
  const credentials = new FakeCredentials(calls);
  const node = new FakeNode(calls);
  const reconciler = new Reconciler(
    {
      clock,
      logger: pino({ level: 'silent' }),
      node,
      credentials,
      elector,
      policy: { snapshot: () => ({ forgingAllowed: true, reason: 'ok', message: 'ok' }) },
    },
    { intervalMs: 10_000, callTimeoutMs, config: { startAsNonProducing: true, disableSocketCheck } },
  );
  return { calls, elector, credentials, node, reconciler };
}

let active: Reconciler | null = null;
afterEach(async () => {
  await active?.shutdown(500);
  active = null;
});

describe('Reconciler', () => {
  it('first makes sure a running node of unknown state is not forging, then on becoming leader provisions and signals', async () => {
    const t = setup();
    active = t.reconciler;
    t.reconciler.start();
    await until(() => t.reconciler.current() !== null);
    t.elector.set({ holder: 'bp-0', leaderUntilMs: clock.monotonicMs() + 60_000 });
    await until(() => t.calls.includes('signal:enable_forging'));
    expect(t.calls).toEqual(['signal:startup_cleanup', 'provision', 'signal:enable_forging']);
    await clock.sleep(100);
    expect(t.calls).toHaveLength(3);
    expect(t.reconciler.current()?.decision.forge).toBe(true);
  });

  it('fences on its own timer: revokes at leaderUntilMs although the elector reports nothing', async () => {
    const t = setup();
    active = t.reconciler;
    t.reconciler.start();
    const deadline = clock.monotonicMs() + 300;
    t.elector.set({ holder: 'bp-0', leaderUntilMs: deadline });
    await until(() => t.calls.includes('signal:enable_forging'));
    await until(() => t.calls.includes('signal:disable_forging'), 2000);
    const revokedAt = clock.monotonicMs();
    expect(revokedAt).toBeGreaterThanOrEqual(deadline);
    // The interval is 10 s: only the deadline timer can explain a revoke this soon after it.
    expect(revokedAt - deadline).toBeLessThan(1000);
    expect(t.calls.slice(t.calls.indexOf('signal:enable_forging') + 1)).toEqual([
      'revoke',
      'signal:disable_forging',
    ]);
  });

  it('shuts down in order: revoke, signal, release', async () => {
    const t = setup();
    t.reconciler.start();
    t.elector.set({ holder: 'bp-0', leaderUntilMs: clock.monotonicMs() + 60_000 });
    await until(() => t.calls.includes('signal:enable_forging'));
    const converged = await t.reconciler.shutdown(3000);
    expect(converged).toBe(true);
    expect(t.calls.slice(t.calls.indexOf('signal:enable_forging') + 1)).toEqual([
      'revoke',
      'signal:disable_forging',
      'release',
    ]);
    expect(t.credentials.presence).toBe('none');
  });

  it('keeps running when an observation throws, and never provisions on unknown credentials', async () => {
    const t = setup();
    active = t.reconciler;
    t.credentials.failInspect = true;
    t.reconciler.start();
    t.elector.set({ holder: 'bp-0', leaderUntilMs: clock.monotonicMs() + 60_000 });
    await until(() => (t.reconciler.current()?.decision.reason ?? '') !== '');
    expect(t.reconciler.current()?.decision.forge).toBe(false);
    expect(t.calls).not.toContain('provision');
    t.credentials.failInspect = false;
    t.reconciler.trigger();
    await until(() => t.calls.includes('signal:enable_forging'));
  });

  it('a plugin call that never settles does not stall the loop: it is abandoned after callTimeoutMs', async () => {
    const t = setup(200);
    active = t.reconciler;
    t.credentials.hangProvision = true;
    t.reconciler.start();
    t.elector.set({ holder: 'bp-0', leaderUntilMs: clock.monotonicMs() + 60_000 });
    await until(() => t.calls.filter((c) => c === 'provision').length >= 2, 3000);
    const tick = t.reconciler.current();
    expect(tick?.results.find((r) => r.action.type === 'provision')?.ok).toBe(false);
    // Never told the node to forge after a provision that did not complete.
    expect(t.calls).not.toContain('signal:enable_forging');
  });

  it('a node restarted WITHOUT --start-as-non-producing-node is taken to forge with the files it found, and startup credentials stop', async () => {
    const t = setup();
    active = t.reconciler;
    t.elector.set({ holder: 'bp-1', leaderUntilMs: 0 }); // someone else leads
    t.node.state = { socket: 'missing', pid: null, startsNonProducing: null };
    t.reconciler.start();
    // Node down, startAsNonProducing configured: startup credentials are provided.
    await until(() => t.calls.includes('provision'));
    // The node comes up, but its command line lacks the flag: it loaded the keys at start.
    t.node.state = { socket: 'up', pid: 8, startsNonProducing: false };
    t.reconciler.trigger();
    await until(() => t.calls.includes('signal:disable_forging'));
    expect(t.calls.slice(t.calls.indexOf('provision') + 1)).toEqual(['revoke', 'signal:disable_forging']);
    // From now on a node that goes down gets no startup credentials.
    const before = t.calls.length;
    t.node.state = { socket: 'missing', pid: null, startsNonProducing: null };
    t.reconciler.trigger();
    await until(() => t.reconciler.current()?.observation.node.socket === 'missing');
    await clock.sleep(50);
    expect(t.calls.slice(before)).not.toContain('provision');
    expect(t.reconciler.current()?.observation.config.startAsNonProducing).toBe(false);
  });

  it('with disableSocketCheck a leader forges without any node socket (Python G16)', async () => {
    const t = setup(1000, true);
    active = t.reconciler;
    t.node.state = { socket: 'missing', pid: null, startsNonProducing: null };
    t.reconciler.start();
    t.elector.set({ holder: 'bp-0', leaderUntilMs: clock.monotonicMs() + 60_000 });
    await until(() => t.reconciler.current()?.decision.forge === true);
    expect(t.reconciler.current()?.observation.phase).toBe('running');
    expect(t.calls).toContain('provision');
  });
});
