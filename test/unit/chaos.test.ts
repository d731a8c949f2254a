// The chaos engine's pure parts: seeded schedule, invariant checks over synthetic event logs, the
// incremental log reader, the Secret-volume rotation layout and the command line.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFile, lstat, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SimEvent } from '../cardano-node-sim/events.ts';
import { checkCredentialFile, KES_KEY_TYPE } from '../cardano-node-sim/credentials.ts';
import { parseCli } from '../chaos/cli.ts';
import { DEFAULT_FAULTS, FAULT_KINDS, parseFaultList } from '../chaos/faults.ts';
import { EventLogTail, checkInvariant, forgingStats } from '../chaos/monitor.ts';
import { SeededRandom } from '../chaos/prng.ts';
import { holdFor, writeSecretGeneration } from '../chaos/world.ts';

function ev(ts: number, identity: string, event: SimEvent['event'], pid = 100): SimEvent {
  return { ts, identity, pool: 'p', pid, event, reason: 'test' };
}

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chaos-unit-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SeededRandom', () => {
  it('one seed gives one sequence; another seed another', () => {
    const draw = (seed: number) => {
      const r = new SeededRandom(seed);
      return Array.from({ length: 20 }, () => r.int(0, 1000));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('weighted never picks a zero weight, and int stays in range', () => {
    const r = new SeededRandom(1);
    for (let i = 0; i < 500; i++) {
      expect(
        r.weighted([
          { item: 'a', weight: 1 },
          { item: 'never', weight: 0 },
          { item: 'b', weight: 2 },
        ]),
      ).not.toBe('never');
      const n = r.int(3, 5);
      expect(n).toBeGreaterThanOrEqual(3);
      expect(n).toBeLessThanOrEqual(5);
    }
  });
});

describe('checkInvariant', () => {
  it('reports two forgers at once, including a still-open interval', () => {
    const events = [ev(0, 'a', 'forging-on', 1), ev(500, 'b', 'forging-on', 2)];
    const v = checkInvariant({ events, nowMs: 800, healthySinceMs: null, livenessBoundMs: 10_000 });
    expect(v?.kind).toBe('overlap');
    expect(v?.kind === 'overlap' && v.overlaps[0]).toMatchObject({
      a: 'a',
      b: 'b',
      startMs: 500,
      endMs: 800,
    });
  });

  it('a handoff that touches is not an overlap; a SIGKILLed forger ends at its exit', () => {
    const events = [
      ev(0, 'a', 'forging-on', 1),
      ev(100, 'a', 'forging-off', 1),
      ev(100, 'b', 'forging-on', 2),
      ev(200, 'b', 'exit', 2),
      ev(200, 'c', 'forging-on', 3),
    ];
    expect(checkInvariant({ events, nowMs: 300, healthySinceMs: null, livenessBoundMs: 1000 })).toBeNull();
  });

  it('liveness: whole for longer than the bound with nobody forging is a violation; within the bound it is not', () => {
    const events = [ev(0, 'a', 'forging-on'), ev(1000, 'a', 'forging-off')];
    expect(checkInvariant({ events, nowMs: 5000, healthySinceMs: 2000, livenessBoundMs: 3500 })).toBeNull();
    expect(
      checkInvariant({ events, nowMs: 6000, healthySinceMs: 2000, livenessBoundMs: 3500 }),
    ).toMatchObject({
      kind: 'liveness',
      healthySinceMs: 2000,
    });
    const forging = [...events, ev(5500, 'b', 'forging-on', 2)];
    expect(
      checkInvariant({ events: forging, nowMs: 6000, healthySinceMs: 2000, livenessBoundMs: 3500 }),
    ).toBeNull();
    // While faults are active (not whole) there is no liveness claim.
    expect(checkInvariant({ events, nowMs: 60_000, healthySinceMs: null, livenessBoundMs: 3500 })).toBeNull();
  });
});

describe('forgingStats', () => {
  it('sums the forging union and finds the longest gap, including one still running at the end', () => {
    const events = [
      ev(1000, 'a', 'forging-on', 1),
      ev(3000, 'a', 'forging-off', 1),
      ev(4000, 'b', 'forging-on', 2),
      ev(5000, 'b', 'exit', 2),
    ];
    expect(forgingStats(events, 6000)).toMatchObject({
      totalForgingMs: 3000,
      maxGapMs: 1000,
      maxGapStartMs: 3000,
    });
    expect(forgingStats(events, 9000)).toMatchObject({ maxGapMs: 4000, maxGapStartMs: 5000 });
  });
});

describe('EventLogTail', () => {
  it('reads appended lines incrementally and waits for a torn line to be finished', async () => {
    const path = join(dir, 'events.jsonl');
    const tail = new EventLogTail(path);
    await tail.poll(); // no file yet
    expect(tail.events).toEqual([]);
    const line = (e: SimEvent) => `${JSON.stringify(e)}\n`;
    await writeFile(path, line(ev(1, 'a', 'start')));
    const torn = line(ev(2, 'a', 'forging-on'));
    await appendFile(path, torn.slice(0, 10));
    await tail.poll();
    expect(tail.events.map((e) => e.event)).toEqual(['start']);
    await appendFile(path, torn.slice(10));
    await tail.poll();
    expect(tail.events.map((e) => e.event)).toEqual(['start', 'forging-on']);
  });
});

describe("holdFor (the chaos world's hold)", () => {
  it('never asks for a negative or zero sleep, even when the clock moves between readings', async () => {
    // A clock that moves 0.3 ms on every reading as well as by each sleep. With 201.65 ms, a
    // loop that reads it once for the test and again for the step's length finds 0.05 ms left,
    // then asks for -0.15 ms (what the old hold did).
    let t = 1000.25;
    const now = (): number => (t += 0.3);
    const steps: number[] = [];
    const sleep = async (ms: number): Promise<void> => {
      steps.push(ms);
      t += ms;
    };
    await holdFor(201.65, { now, sleep, stopping: () => false });
    expect(steps.length).toBeGreaterThan(2);
    expect(steps.every((ms) => ms > 0 && ms <= 100)).toBe(true);
    expect(t - 1000.25).toBeGreaterThanOrEqual(201.65);
  });

  it('returns at once when the run is stopping', async () => {
    const steps: number[] = [];
    await holdFor(5000, { now: () => 0, sleep: async (ms) => void steps.push(ms), stopping: () => true });
    expect(steps).toEqual([]);
  });
});

describe('writeSecretGeneration (kubelet atomic writer layout)', () => {
  it('files are symlinks through ..data; a rotation swaps ..data, keeps VRF, changes KES, removes the old generation', async () => {
    const first = await writeSecretGeneration(dir, 1, 'first');
    expect(await readlink(join(dir, '..data'))).toBe(first);
    expect(await readlink(join(dir, 'kes.skey'))).toBe(join('..data', 'kes.skey'));
    expect(await checkCredentialFile(join(dir, 'kes.skey'), KES_KEY_TYPE)).toEqual({ valid: true });
    const kes1 = await readFile(join(dir, 'kes.skey'), 'utf8');
    const vrf1 = await readFile(join(dir, 'vrf.skey'), 'utf8');
    const second = await writeSecretGeneration(dir, 2, 'second');
    expect(await readlink(join(dir, '..data'))).toBe(second);
    expect(await readFile(join(dir, 'kes.skey'), 'utf8')).not.toBe(kes1);
    expect(await readFile(join(dir, 'vrf.skey'), 'utf8')).toBe(vrf1);
    await expect(lstat(join(dir, first))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('chaos command line', () => {
  it('defaults: short timings, every kind except the opt-in ones', () => {
    const parsed = parseCli(['--seed', '42']);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.options).toMatchObject({
      seed: 42,
      minutes: 5,
      timings: { leaseDuration: 6, renewDeadline: 3, retryPeriod: 1 },
    });
    expect(parsed.options.faults.map((f) => f.name)).toEqual(DEFAULT_FAULTS);
    expect(DEFAULT_FAULTS).not.toContain('sigstop-sidecar-long');
    expect(FAULT_KINDS.length).toBeGreaterThan(DEFAULT_FAULTS.length);
  });

  it('bad input names the flag and what is expected', () => {
    expect(parseCli(['--minutes', 'abc'])).toMatchObject({
      ok: false,
      message: expect.stringContaining('--minutes must be a positive number, got "abc"'),
    });
    expect(parseCli(['--seed=1.5'])).toMatchObject({
      ok: false,
      message: expect.stringContaining('--seed must be a non-negative integer'),
    });
    expect(parseCli(['--lease-duration', '3', '--renew-deadline', '3'])).toMatchObject({
      ok: false,
      message: expect.stringContaining('need --lease-duration > --renew-deadline > --retry-period'),
    });
    expect(parseCli(['--bogus'])).toMatchObject({ ok: false, message: expect.stringContaining('--bogus') });
    expect(parseCli(['--min-faults', '2.5'])).toMatchObject({
      ok: false,
      message: expect.stringContaining('--min-faults must be a positive integer, got "2.5"'),
    });
  });

  it('--min-faults: absent means time alone (0); a count is passed through', () => {
    const absent = parseCli(['--seed', '1']);
    expect(absent.ok && absent.options.minFaults).toBe(0);
    const given = parseCli(['--seed', '1', '--min-faults', '12']);
    expect(given.ok && given.options.minFaults).toBe(12);
  });

  it('--faults picks kinds by name and rejects unknown ones with the list of known kinds', () => {
    const picked = parseFaultList('sigkill-sidecar,lease-delete');
    expect(picked.ok && picked.kinds.map((k) => k.name)).toEqual(['sigkill-sidecar', 'lease-delete']);
    const bad = parseFaultList('sigkill-sidecar,nope');
    expect(bad).toMatchObject({
      ok: false,
      message: expect.stringContaining('unknown fault kind(s) nope; known: sigkill-sidecar'),
    });
    const all = parseFaultList('all');
    expect(all.ok && all.kinds.length).toBe(FAULT_KINDS.length);
  });
});
