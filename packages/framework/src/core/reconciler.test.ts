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

interface SetupOptions {
  callTimeoutMs?: number;
  disableSocketCheck?: boolean;
  metricsConfigured?: boolean;
  sighupLatencyBoundMs?: number;
  confirmTimeoutMs?: number;
  handoverHoldDownMs?: number;
  logger?: pino.Logger;
  onTick?: () => void;
}

function setup(callTimeoutMs = 1000, disableSocketCheck = false, more: SetupOptions = {}) {
  const calls: string[] = [];
  const elector = new FakeElector(calls);
  const credentials = new FakeCredentials(calls);
  const node = new FakeNode(calls);
  node.filesPresent = () => credentials.presence === 'all';
  const policy = { allowed: true };
  const reconciler = new Reconciler(
    {
      clock,
      logger: more.logger ?? pino({ level: 'silent' }),
      node,
      credentials,
      elector,
      policy: {
        snapshot: () => ({ forgingAllowed: policy.allowed, reason: 'ok', message: 'ok' }),
      },
      ...(more.onTick ? { onTick: more.onTick } : {}),
    },
    {
      intervalMs: 10_000,
      callTimeoutMs,
      config: {
        startAsNonProducing: true,
        disableSocketCheck,
        confirmTimeoutMs: more.confirmTimeoutMs ?? 2000,
        handoverHoldDownMs: more.handoverHoldDownMs ?? 30_000,
      },
      metricsConfigured: more.metricsConfigured ?? false,
      sighupLatencyBoundMs: more.sighupLatencyBoundMs ?? 50,
      terminateGraceMs: 200,
    },
  );
  return { calls, elector, credentials, node, reconciler, policy };
}

/** A leader whose node confirmed (by its metric) that it forges. */
async function forgingLeader(more: SetupOptions = {}) {
  const t = setup(more.callTimeoutMs ?? 1000, false, { metricsConfigured: true, ...more });
  t.node.metricsFollowNode = true;
  t.reconciler.start();
  t.elector.set({ holder: 'bp-0', leaderUntilMs: clock.monotonicMs() + 60_000 });
  await until(() => t.reconciler.current()?.nodeLoaded.forging === true && t.node.loaded);
  return t;
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

  it('a renewal alone does not tick; a holder change, a shorter deadline or the end of leadership does', async () => {
    let ticks = 0;
    const t = setup(1000, false, { onTick: () => void ticks++ });
    active = t.reconciler;
    t.reconciler.start();
    let deadline = clock.monotonicMs() + 60_000;
    t.elector.set({ holder: 'bp-0', leaderUntilMs: deadline, reason: 'Renewed' });
    await until(() => t.calls.includes('signal:enable_forging'));
    await clock.sleep(100); // converging ticks (50 ms apart) are over
    const settled = ticks;
    for (let i = 1; i <= 5; i++) {
      deadline += 2000;
      t.elector.set({ leaderUntilMs: deadline, observedAtMs: clock.monotonicMs(), message: `renewed ${i}` });
      await clock.sleep(10);
    }
    // The interval is 10 s: any tick in this window came from a renewal.
    expect(ticks).toBe(settled);
    // A deadline moved earlier must be acted on at once, not at the interval.
    const shorter = clock.monotonicMs() + 200;
    t.elector.set({ leaderUntilMs: shorter });
    await until(() => ticks > settled, 1000);
    await until(() => t.calls.includes('signal:disable_forging'), 2000);
    expect(clock.monotonicMs()).toBeGreaterThanOrEqual(shorter);
    expect(clock.monotonicMs() - shorter).toBeLessThan(1000);
    // Another holder: ticks at once.
    const before = ticks;
    t.elector.set({ holder: 'bp-1', leaderUntilMs: 0, reason: 'HeldByOther' });
    await until(() => ticks > before, 1000);
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

  // ---- issue 8 regressions -------------------------------------------------------------------

  it('an observation that times out is "may be forging", not "node down": the leader keeps the lease', async () => {
    const t = await forgingLeader();
    active = t.reconciler;
    t.node.failObserve = true;
    t.reconciler.trigger();
    await until(() => t.reconciler.current()?.observation.node.socket === 'unknown');
    await clock.sleep(300);
    const tick = t.reconciler.current()!;
    expect(tick.nodeLoaded.forging).not.toBe(false);
    expect(tick.decision.candidate).toBe(true);
    expect(t.calls).not.toContain('release');
    expect(t.elector.released).toBe(0);
    expect(tick.observation.phase).toBe('running'); // not "starting": no startup credentials either
  });

  it('a read-only target at shutdown: no SIGHUP after the failed revoke, the node is stopped, then the lease goes; not "converged"', async () => {
    const t = await forgingLeader();
    t.credentials.revokeError = 'EROFS';
    const from = t.calls.length;
    const converged = await t.reconciler.shutdown(3000);
    const after = t.calls.slice(from);
    expect(after[0]).toBe('revoke');
    expect(after[1]).toMatch(/^terminate:/);
    expect(after).not.toContain('signal:disable_forging');
    expect(after.indexOf('release')).toBeGreaterThan(after.indexOf(after[1]!));
    expect(t.node.loaded).toBe(false);
    expect(converged).toBe(false); // files are still there: the process must not exit 0
    expect(t.reconciler.current()?.credentialsUnrevocable).toBe(true);
  });

  it('a leader whose revoke fails keeps the lease (keeps renewing) until its node is stopped', async () => {
    const t = await forgingLeader();
    active = t.reconciler;
    t.credentials.revokeError = 'EIO';
    t.node.terminate = async (reason: string) => {
      t.calls.push(`terminate-failed:${reason}`);
      return { delivered: false, pid: 7, reason: 'StillRunning', message: 'still running' };
    };
    t.policy.allowed = false;
    t.reconciler.trigger();
    await until(() => t.calls.some((c) => c.startsWith('terminate-failed')));
    await clock.sleep(200);
    expect(t.calls).not.toContain('release');
    expect(t.calls).not.toContain('signal:disable_forging');
    expect(t.elector.candidacy.at(-1)).toBe(true);
  });

  it('a node slow to handle SIGHUP: the lease is released only after its forging metric says 0', async () => {
    const t = await forgingLeader();
    t.node.slowSighup = true;
    const stopping = t.reconciler.shutdown(5000);
    await until(() => t.calls.includes('signal:disable_forging'));
    await clock.sleep(400);
    expect(t.calls).not.toContain('release'); // the node still forges: no standby may start
    expect(t.node.loaded).toBe(true);
    t.node.applyPending();
    expect(await stopping).toBe(true);
    expect(t.calls.at(-1)).toBe('release');
  });

  it('without node metrics a delivered SIGHUP counts only after the SIGHUP latency bound', async () => {
    const t = setup(1000, false, { sighupLatencyBoundMs: 400 });
    t.reconciler.start();
    t.elector.set({ holder: 'bp-0', leaderUntilMs: clock.monotonicMs() + 60_000 });
    await until(() => t.reconciler.current()?.nodeLoaded.forging === true, 5000);
    const stopping = t.reconciler.shutdown(5000);
    await until(() => t.calls.includes('signal:disable_forging'));
    const signalledAt = clock.monotonicMs();
    await until(() => t.calls.includes('release'), 5000);
    expect(clock.monotonicMs() - signalledAt).toBeGreaterThanOrEqual(390);
    expect(await stopping).toBe(true);
  });

  it('the enable SIGHUP re-checks the fencing deadline right before it is sent', async () => {
    const t = setup();
    active = t.reconciler;
    t.node.state = { socket: 'up', pid: 7, startsNonProducing: null };
    t.reconciler.start();
    await until(() => t.reconciler.current() !== null && t.calls.includes('signal:startup_cleanup'));
    await clock.sleep(100);
    // A slow provision carries the tick past the deadline: the enable must not go out.
    t.credentials.provisionDelayMs = 300;
    const deadline = clock.monotonicMs() + 150;
    t.elector.set({ holder: 'bp-0', leaderUntilMs: deadline });
    await until(() => t.calls.includes('provision'));
    await until(() => t.calls.some((c) => c.endsWith(':enable_forging')), 3000);
    expect(t.calls).not.toContain('signal:enable_forging');
    expect(t.calls).toContain('refused:enable_forging');
  });

  it('a leader whose SIGHUP fails (EPERM) reports it and hands over after the hold-down', async () => {
    const t = setup(1000, false, { metricsConfigured: true, handoverHoldDownMs: 500 });
    active = t.reconciler;
    t.node.metricsFollowNode = true;
    t.node.reloadFailure = { delivered: false, pid: 7, reason: 'PermissionDenied', message: 'EPERM' };
    t.reconciler.start();
    const tookAt = clock.monotonicMs();
    t.elector.set({ holder: 'bp-0', leaderUntilMs: clock.monotonicMs() + 60_000 });
    await until(() => t.reconciler.current()?.decision.reason === 'SignalFailed');
    expect(t.reconciler.current()?.decision.leader).toBe(true);
    await until(() => t.calls.includes('release'), 3000);
    expect(clock.monotonicMs() - tookAt).toBeGreaterThanOrEqual(450);
    expect(t.credentials.presence).toBe('none');
    t.reconciler.trigger();
    await until(() => t.reconciler.current()?.decision.candidate === false);
    expect(t.reconciler.current()?.decision.reason).toBe('SignalFailed');
  });

  it('a clean shutdown that cuts a call short logs no error', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const t = await forgingLeader({ logger });
    t.credentials.hangRevoke = true;
    await t.reconciler.shutdown(300);
    const errors = lines
      .map((line) => JSON.parse(line) as { level: number })
      .filter((l) => l.level >= 50 && /reconciler stopped/.test(JSON.stringify(l)));
    expect(errors).toEqual([]);
    expect(lines.some((line) => /interrupted: the reconciler is stopping/.test(line))).toBe(true);
  });
});
