// Real simulator processes (test/cardano-node-sim/main.ts run by Node 24), driven by PID.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { lstat, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFakeCredentials } from '../cardano-node-sim/credentials.ts';
import { computeOverlap, handoffGapMs, readEvents } from '../cardano-node-sim/overlap.ts';
import { hostClockMs } from '../cardano-node-sim/events.ts';
import type { SimEvent } from '../cardano-node-sim/overlap.ts';
import { createSimNodeGroup } from '../cardano-node-sim/spawn.ts';
import type { SimNode } from '../cardano-node-sim/spawn.ts';

const sims = createSimNodeGroup();
let dir = '';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sim-test-'));
});

afterEach(async () => {
  await sims.stopAll(2_000);
  await rm(dir, { recursive: true, force: true });
});

function tryConnect(path: string): Promise<'connected' | string> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

async function eventsOf(node: SimNode): Promise<SimEvent[]> {
  return (await readEvents([node.eventLog])).filter((event) => event.pid === node.pid);
}

async function waitUntil(what: string, predicate: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** libfaketime's preload library (Debian's faketime package, installed by .ci/run). */
function libfaketime(): string {
  const found = readdirSync('/usr/lib', { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join('/usr/lib', entry.name, 'faketime', 'libfaketime.so.1'))
    .find((path) => existsSync(path));
  if (found === undefined)
    throw new Error('libfaketime.so.1 not found: apt-get install faketime (.ci/run does)');
  return found;
}

describe('simulated cardano-node', () => {
  it('stamps events on the host clock: a node started after a 30 s wall-clock step still agrees with the test', async () => {
    // libfaketime moves the child's wall clock 30 s ahead and leaves its monotonic clock alone: the
    // child is a process started after the host's wall clock stepped. Its events must still fall
    // between two readings of the test's clock (a per-process wall-clock origin put them 30 s off).
    const before = hostClockMs();
    const node = await sims.spawn({
      identity: 'stepped',
      pool: 'pool1',
      workDir: dir,
      extraEnv: { LD_PRELOAD: libfaketime(), FAKETIME: '+30s', DONT_FAKE_MONOTONIC: '1' },
    });
    const after = hostClockMs();
    const [start] = (await eventsOf(node)).filter((event) => event.event === 'start');
    expect(start).toBeDefined();
    // The step took effect in the child (its wall clock is 30 s ahead of ours)...
    expect(start!.wallMs! - Date.now()).toBeGreaterThan(25_000);
    // ...and its event time did not move with it.
    expect(start!.ts).toBeGreaterThanOrEqual(before);
    expect(start!.ts).toBeLessThanOrEqual(after);
  });

  it('runs as a process named cardano-node with a connectable socket', async () => {
    const node = await sims.spawn({
      identity: 'a',
      pool: 'p1',
      eventLog: join(dir, 'events.jsonl'),
      credentials: 'none',
    });
    expect((await readFile(`/proc/${node.pid}/comm`, 'utf8')).trim()).toBe('cardano-node');
    expect(await tryConnect(node.socketPath)).toBe('connected');
    const metrics = await node.metrics();
    expect(metrics.up).toBe(true);
    expect(metrics.forgingEnabled).toBe(false);
  });

  it('creates the socket only after the start delay', async () => {
    const node = await sims.spawn({
      identity: 'a',
      pool: 'p1',
      eventLog: join(dir, 'events.jsonl'),
      credentials: 'none',
      startDelayMs: 400,
      waitForSocket: false,
    });
    expect(await tryConnect(node.socketPath)).toBe('ENOENT');
    expect((await node.metrics()).up).toBe(false);
    await waitUntil('the socket', async () => (await node.metrics()).up);
    expect(await tryConnect(node.socketPath)).toBe('connected');
  });

  it('starts non-forging with --start-as-non-producing-node despite valid credentials, then forges on SIGHUP', async () => {
    const credentials = await writeFakeCredentials(join(dir, 'creds'));
    const node = await sims.spawn({
      identity: 'a',
      pool: 'p1',
      eventLog: join(dir, 'events.jsonl'),
      credentials,
      startAsNonProducing: true,
    });
    expect((await node.metrics()).forgingEnabled).toBe(false);
    expect((await eventsOf(node)).map((event) => event.event)).toEqual(['start']);

    const beforeHup = hostClockMs();
    node.hup();
    await node.waitForForging(true);
    const on = (await eventsOf(node)).filter((event) => event.event === 'forging-on');
    expect(on).toHaveLength(1);
    expect(on[0]?.ts).toBeGreaterThanOrEqual(beforeHup);
    expect(on[0]).toMatchObject({ identity: 'a', pool: 'p1', pid: node.pid });
  });

  it('stops forging when a credential file is removed and SIGHUP is sent', async () => {
    const credentials = await writeFakeCredentials(join(dir, 'creds'));
    const node = await sims.spawn({
      identity: 'a',
      pool: 'p1',
      eventLog: join(dir, 'events.jsonl'),
      credentials,
    });
    await node.waitForForging(true);
    await unlink(credentials.vrfKey);
    node.hup();
    await node.waitForForging(false);
    const off = (await eventsOf(node)).filter((event) => event.event === 'forging-off');
    expect(off).toHaveLength(1);
    expect(off[0]?.reason).toContain('missing');
  });

  it('does not forge with an invalid envelope, and forges once it is fixed', async () => {
    const credentials = await writeFakeCredentials(join(dir, 'creds'));
    const validOpCert = await readFile(credentials.opCert, 'utf8');
    await writeFile(
      credentials.opCert,
      JSON.stringify({ type: 'NodeOperationalCertificate', description: '', cborHex: 'zz' }),
    );
    const node = await sims.spawn({
      identity: 'a',
      pool: 'p1',
      eventLog: join(dir, 'events.jsonl'),
      credentials,
    });
    expect((await node.metrics()).forgingEnabled).toBe(false);

    // Wrong envelope type for the KES slot (a VRF key) is refused as well.
    const vrfText = await readFile(credentials.vrfKey, 'utf8');
    await writeFile(credentials.opCert, validOpCert);
    await writeFile(credentials.kesKey, vrfText);
    node.hup();
    await waitUntil('the SIGHUP to be handled', async () =>
      (await eventsOf(node)).some((event) => event.event === 'sighup'),
    );
    expect((await node.metrics()).forgingEnabled).toBe(false);
    expect((await eventsOf(node)).find((event) => event.event === 'sighup')?.reason).toContain('wrong-type');

    await writeFakeCredentials(join(dir, 'creds'));
    node.hup();
    await node.waitForForging(true);
  });

  it('crash leaves a stale socket file that refuses connect(), and the exit is logged', async () => {
    const credentials = await writeFakeCredentials(join(dir, 'creds'));
    const node = await sims.spawn({
      identity: 'a',
      pool: 'p1',
      eventLog: join(dir, 'events.jsonl'),
      credentials,
    });
    await node.waitForForging(true);
    expect(await tryConnect(node.socketPath)).toBe('connected');

    const exit = await node.crash();
    expect(exit.signal).toBe('SIGKILL');
    expect((await lstat(node.socketPath)).isSocket()).toBe(true);
    expect(await tryConnect(node.socketPath)).toBe('ECONNREFUSED');
    const events = await eventsOf(node);
    expect(events.at(-1)?.event).toBe('exit');
    expect(computeOverlap(events).overlaps).toEqual([]);
  });

  it('a graceful stop logs forging-off then exit and removes the socket', async () => {
    const credentials = await writeFakeCredentials(join(dir, 'creds'));
    const node = await sims.spawn({
      identity: 'a',
      pool: 'p1',
      eventLog: join(dir, 'events.jsonl'),
      credentials,
    });
    await node.waitForForging(true);
    const exit = await node.stop();
    expect(exit.code).toBe(0);
    expect((await eventsOf(node)).map((event) => event.event)).toEqual([
      'start',
      'forging-on',
      'forging-off',
      'exit',
    ]);
    await expect(lstat(node.socketPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a hung node answers neither metrics nor SIGTERM; stop() escalates to SIGKILL and the exit is recorded', async () => {
    const credentials = await writeFakeCredentials(join(dir, 'creds'));
    const node = await sims.spawn({
      identity: 'a',
      pool: 'p1',
      eventLog: join(dir, 'events.jsonl'),
      credentials,
    });
    await node.waitForForging(true);
    await node.hang();
    await expect(node.metrics(500)).rejects.toThrow();
    const exit = await node.stop(500);
    expect(exit.signal).toBe('SIGKILL');
    const events = await eventsOf(node);
    expect(events.at(-1)).toMatchObject({ event: 'exit' });
    expect(events.at(-1)?.reason).toContain('observed');
  });

  it('slow-sighup delays the effect of a SIGHUP, and the transition is logged when it takes effect', async () => {
    const credentials = await writeFakeCredentials(join(dir, 'creds'));
    const node = await sims.spawn({
      identity: 'a',
      pool: 'p1',
      eventLog: join(dir, 'events.jsonl'),
      credentials,
    });
    await node.waitForForging(true);
    const bad = await fetch(`${node.controlUrl}/slow-sighup?ms=-5`, { method: 'POST' });
    expect(bad.status).toBe(400);
    await node.slowSighup(800);
    expect((await node.metrics()).raw.get('cardano_node_sim_sighup_delay_ms')).toBe(800);
    await unlink(credentials.vrfKey);
    const sentAt = hostClockMs();
    node.hup();
    await new Promise((resolve) => setTimeout(resolve, 400));
    // Still forging: the SIGHUP has arrived but not taken effect.
    expect((await node.metrics()).forgingEnabled).toBe(true);
    await node.waitForForging(false);
    const off = (await eventsOf(node)).filter((event) => event.event === 'forging-off');
    expect(off).toHaveLength(1);
    expect(off[0]!.ts - sentAt).toBeGreaterThanOrEqual(800);
    // Back to prompt handling: the next SIGHUP takes effect at once.
    await node.slowSighup(0);
    await writeFakeCredentials(join(dir, 'creds'));
    const again = hostClockMs();
    node.hup();
    await node.waitForForging(true);
    const on = (await eventsOf(node)).filter((event) => event.event === 'forging-on').at(-1);
    expect(on!.ts - again).toBeLessThan(500);
  });

  it('behind makes the tip lag by N slots and catchup restores it', async () => {
    const systemStartMs = Date.now() - 1_000_000;
    const wallSlot = (): number => Math.floor((Date.now() - systemStartMs) / 1000);
    const node = await sims.spawn({
      identity: 'a',
      pool: 'p1',
      eventLog: join(dir, 'events.jsonl'),
      credentials: 'none',
      slotLengthMs: 1000,
      extraArgs: ['--system-start-ms', String(systemStartMs)],
    });
    // Bracketing each read with the test's own wall-clock slot keeps this exact under any load.
    const inSync = { from: wallSlot(), slot: (await node.metrics()).slot, to: wallSlot() };
    expect(inSync.slot).toBeGreaterThanOrEqual(inSync.from);
    expect(inSync.slot).toBeLessThanOrEqual(inSync.to);

    await node.behind(50);
    const lagging = { from: wallSlot(), slot: (await node.metrics()).slot, to: wallSlot() };
    expect(lagging.slot).toBeGreaterThanOrEqual(lagging.from - 50);
    expect(lagging.slot).toBeLessThanOrEqual(lagging.to - 50);

    await node.catchup();
    const caughtUp = { from: wallSlot(), slot: (await node.metrics()).slot, to: wallSlot() };
    expect(caughtUp.slot).toBeGreaterThanOrEqual(caughtUp.from);
    expect(caughtUp.slot).toBeLessThanOrEqual(caughtUp.to);
  });

  it('the slot advances every --slot-length-ms', async () => {
    const systemStartMs = Date.now() - 1_000_000;
    const wallSlot = (): number => Math.floor((Date.now() - systemStartMs) / 50);
    const node = await sims.spawn({
      identity: 'a',
      pool: 'p1',
      eventLog: join(dir, 'events.jsonl'),
      credentials: 'none',
      slotLengthMs: 50,
      extraArgs: ['--system-start-ms', String(systemStartMs)],
    });
    const first = { from: wallSlot(), slot: (await node.metrics()).slot, to: wallSlot() };
    await new Promise((resolve) => setTimeout(resolve, 260));
    const second = { from: wallSlot(), slot: (await node.metrics()).slot, to: wallSlot() };
    for (const reading of [first, second]) {
      expect(reading.slot).toBeGreaterThanOrEqual(reading.from);
      expect(reading.slot).toBeLessThanOrEqual(reading.to);
    }
    expect(second.slot - first.slot).toBeGreaterThanOrEqual(5);
  });

  it('the checker measures a real overlap of two forgers, and none for a sequential handoff', async () => {
    const eventLog = join(dir, 'events.jsonl');
    const credsA = await writeFakeCredentials(join(dir, 'a'));
    const credsB = await writeFakeCredentials(join(dir, 'b'));
    const credsC = await writeFakeCredentials(join(dir, 'c'));
    const credsD = await writeFakeCredentials(join(dir, 'd'));
    const a = await sims.spawn({ identity: 'a', pool: 'overlapping', eventLog, credentials: credsA });
    const b = await sims.spawn({ identity: 'b', pool: 'overlapping', eventLog, credentials: credsB });
    await Promise.all([a.waitForForging(true), b.waitForForging(true)]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await a.stop();

    // Sequential handoff: c stops forging (credentials removed + SIGHUP) before d gets them.
    const c = await sims.spawn({ identity: 'c', pool: 'sequential', eventLog, credentials: credsC });
    const d = await sims.spawn({
      identity: 'd',
      pool: 'sequential',
      eventLog,
      credentials: { ...credsD, kesKey: join(dir, 'd', 'not-yet.skey') },
    });
    await c.waitForForging(true);
    expect((await d.metrics()).forgingEnabled).toBe(false);
    await unlink(credsC.kesKey);
    c.hup();
    await c.waitForForging(false);
    await writeFile(join(dir, 'd', 'not-yet.skey'), await readFile(credsD.kesKey, 'utf8'));
    d.hup();
    await d.waitForForging(true);

    const untilMs = hostClockMs();
    const report = computeOverlap(await readEvents([eventLog]), { untilMs });
    expect(report.byPool.overlapping).toBeGreaterThan(150);
    expect(report.overlaps.filter((overlap) => overlap.pool === 'overlapping')).toHaveLength(1);
    expect(report.byPool.sequential).toBe(0);
    const gap = handoffGapMs(await readEvents([eventLog]), {
      from: 'c',
      to: 'd',
      pool: 'sequential',
      untilMs,
    });
    expect(gap).toBeGreaterThan(0);
  });
});
