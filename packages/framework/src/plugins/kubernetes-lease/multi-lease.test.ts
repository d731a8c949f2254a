import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { LeaderElector } from '../../contracts/index.js';
import { FakeClock } from '../../testing/manual-clock.js';
import { createLeaseElector } from './elector.js';
import { FakeLeaseStore, type FakeLeaseApi } from './fake-lease-api.js';
import { createMultiLeaseElector } from './multi-lease.js';

const silent = pino({ level: 'silent' });
const timing = { leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.5 };
const LEASE_DURATION_MS = 3000;
const RENEW_DEADLINE_MS = 2000;
const TAKEOVER_MARGIN_MS = 500;
/** The Python sidecar's lease duration (LEASE_DURATION default), written into its record. */
const PYTHON_LEASE_SECONDS = 15;

interface Pod {
  readonly name: string;
  readonly elector: LeaderElector;
  readonly primaryApi: FakeLeaseApi;
  readonly legacyApi: FakeLeaseApi;
  readonly controller: AbortController;
}

describe('two leases held as one lock (migration from the Python sidecar)', () => {
  let clock: FakeClock;
  let primary: FakeLeaseStore;
  let legacy: FakeLeaseStore;
  const started: Pod[] = [];

  function setup(): void {
    clock = new FakeClock();
    primary = new FakeLeaseStore({ namespace: 'ns', name: 'cardano-leader-mainnet-pool1abcde', clock });
    legacy = new FakeLeaseStore({ namespace: 'ns', name: 'cardano-node-leader', clock });
  }

  function pod(name: string, random = 0.5): Pod {
    const incarnationId = `inc-${name}`;
    const deps = { clock, logger: silent, random: () => random, incarnationId };
    const primaryApi = primary.api(name);
    const legacyApi = legacy.api(name);
    const options = { namespace: 'ns', identity: name, ...timing };
    const elector = createMultiLeaseElector(
      createLeaseElector(primaryApi, deps, { ...options, leaseName: primary.name }),
      createLeaseElector(legacyApi, deps, { ...options, leaseName: legacy.name }),
    );
    const p = { name, elector, primaryApi, legacyApi, controller: new AbortController() };
    started.push(p);
    return p;
  }

  async function start(...pods: Pod[]): Promise<void> {
    for (const p of pods) await p.elector.start(p.controller.signal);
    await clock.advance(0);
  }

  const leads = (p: Pod): boolean => p.elector.snapshot().leaderUntilMs > clock.monotonicMs();
  const acts = (p: Pod): boolean => leads(p) && clock.monotonicMs() >= (p.elector.snapshot().actAfterMs ?? 0);

  /** A Python sidecar's lease record: holder = the bare pod name, its own duration. */
  function pythonRenews(podName: string): void {
    const at = clock.wallNow().toISOString().replace('Z', '000Z');
    legacy.edit((l) => {
      l.spec = {
        ...l.spec,
        holderIdentity: podName,
        leaseDurationSeconds: PYTHON_LEASE_SECONDS,
        renewTime: at as never,
        acquireTime: (l.spec?.acquireTime ?? at) as never,
      };
    });
  }

  afterEach(async () => {
    for (const p of started.splice(0)) await p.elector.stop();
  });

  it('a Python holder of the legacy lease blocks every new pod until it stops renewing and its lease expires', async () => {
    setup();
    pythonRenews('forge-0');
    const pods = [pod('forge-1'), pod('forge-2', 0.3)];
    await start(...pods);
    // The Python leader renews every 4 s for 30 s: no new pod may lead meanwhile.
    let lastPythonRenew = clock.monotonicMs();
    for (let t = 0; t < 30_000; t += 100) {
      await clock.advance(100);
      if (t % 4000 === 0) {
        pythonRenews('forge-0');
        lastPythonRenew = clock.monotonicMs();
      }
      for (const p of pods) expect(leads(p)).toBe(false);
    }
    expect(primary.lease()).toBeNull(); // nobody even took the primary lease
    expect(pods[0]!.elector.snapshot().holder).toBe('forge-0');
    // The Python pod is gone: its 15 s lease expires, then exactly one new pod leads.
    let actedAt: number | null = null;
    for (let t = 0; t < 20_000; t += 50) {
      await clock.advance(50);
      expect(pods.filter(leads).length).toBeLessThanOrEqual(1);
      if (actedAt === null && pods.some(acts)) actedAt = clock.monotonicMs();
    }
    expect(actedAt).not.toBeNull();
    expect(actedAt! - lastPythonRenew).toBeGreaterThanOrEqual(
      PYTHON_LEASE_SECONDS * 1000 + TAKEOVER_MARGIN_MS,
    );
    const leader = pods.find(leads)!;
    expect(legacy.lease()!.spec?.holderIdentity).toBe(leader.elector.identity);
    expect(primary.lease()!.spec?.holderIdentity).toBe(leader.elector.identity);
  });

  it('a new leader holds the legacy lease, so a Python pod sees it held (never vacant or expired) while it renews', async () => {
    setup();
    const a = pod('forge-1');
    await start(a);
    await clock.advance(LEASE_DURATION_MS + TAKEOVER_MARGIN_MS + 100);
    expect(acts(a)).toBe(true);
    const legacyWritesBefore = legacy.writes.length;
    await clock.advance(5000);
    expect(legacy.writes.length).toBeGreaterThan(legacyWritesBefore + 5);
    expect(legacy.lease()!.spec?.holderIdentity).toBe(a.elector.identity);
    expect(legacy.lease()!.spec?.holderIdentity).not.toBe('');
  });

  it('two new pods starting together: exactly one leads, no deadlock, and the other never holds the primary lease', async () => {
    setup();
    const a = pod('forge-1', 0.1);
    const b = pod('forge-2', 0.9);
    await a.elector.start(a.controller.signal);
    await b.elector.start(b.controller.signal);
    for (let t = 0; t < 10_000; t += 50) {
      await clock.advance(50);
      expect([a, b].filter(leads).length).toBeLessThanOrEqual(1);
    }
    const leader = [a, b].find(leads);
    expect(leader).toBeDefined();
    const other = leader === a ? b : a;
    expect(primary.writes.filter((w) => w.by === other.name)).toHaveLength(0);
    // The leader dies without releasing: the other takes BOTH leases after they expire.
    await leader!.elector.stop();
    for (let t = 0; t < 8000; t += 50) await clock.advance(50);
    expect(acts(other)).toBe(true);
  });

  it('fences on the earlier deadline: losing the legacy lease ends leadership although the primary renews', async () => {
    setup();
    const a = pod('forge-1');
    await start(a);
    await clock.advance(1000);
    expect(leads(a)).toBe(true);
    a.legacyApi.fault = 'hang';
    const lastLegacyRenew = a.legacyApi.calls.filter((c) => c.op === 'replace').at(-1)!.atMs;
    let lostAt: number | null = null;
    for (let t = 0; t < 4000 && lostAt === null; t += 10) {
      await clock.advance(10);
      if (!leads(a)) lostAt = clock.monotonicMs();
    }
    expect(lostAt).not.toBeNull();
    expect(lostAt!).toBeLessThanOrEqual(lastLegacyRenew + RENEW_DEADLINE_MS);
    // ...and the primary stops renewing too (its candidacy follows the legacy lease).
    const primaryRenewsAfter = a.primaryApi.calls.filter((c) => c.op === 'replace' && c.atMs > lostAt!);
    await clock.advance(2000);
    expect(a.primaryApi.calls.filter((c) => c.op === 'replace' && c.atMs > lostAt!)).toHaveLength(
      primaryRenewsAfter.length,
    );
  });

  it('release frees both leases, and a watching new pod takes both at once', async () => {
    setup();
    const a = pod('forge-1');
    const b = pod('forge-2');
    await start(a);
    await clock.advance(100);
    await start(b);
    // Past a's takeover grace (it created both leases): only then is its release a clean handover.
    await clock.advance(20_000);
    expect(leads(a)).toBe(true);
    a.elector.setCandidacy(false, 'shutting down');
    await a.elector.release(new AbortController().signal);
    expect(a.elector.snapshot().holder).not.toBe(a.elector.identity);
    await clock.advance(0);
    expect(acts(b)).toBe(true);
    expect(b.elector.snapshot().acquiredFromRelease).toBe(true);
    expect(legacy.lease()!.spec?.holderIdentity).toBe(b.elector.identity);
    expect(primary.lease()!.spec?.holderIdentity).toBe(b.elector.identity);
  });
});
