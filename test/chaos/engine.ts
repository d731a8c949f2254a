// The chaos engine: a seeded schedule of faults against real processes while a monitor checks the
// invariant from the simulators' event log every tick. Returns a result instead of exiting, so the CLI
// and the CI test share it. Erasable TypeScript only.
import { readFile } from 'node:fs/promises';
import { FAULT_KINDS } from './faults.ts';
import type { FaultContext, FaultKind } from './faults.ts';
import { EventLogTail, checkInvariant, currentForgers, forgingStats } from './monitor.ts';
import type { ForgingStats, Violation } from './monitor.ts';
import { SeededRandom } from './prng.ts';
import { ChaosWorld, firstLine, formatRel } from './world.ts';
import type { Timings, TimelineEntry } from './world.ts';
import type { SimEvent } from '../cardano-node-sim/overlap.ts';
import { hostClockMs } from '../cardano-node-sim/events.ts';

export interface ChaosOptions {
  seed: number;
  durationMs: number;
  faults: readonly FaultKind[];
  timings: Timings;
  /** Seconds added to LD + RD + RP for the liveness bound. */
  livenessSlackS: number;
  /** At most this many faults active at once. */
  concurrency: number;
  /**
   * Keep injecting past `durationMs` until this many faults have run, for at most `durationMs` more:
   * how many fit in a fixed time depends on the machine (a slow CI runner fitted 9 where this one fits
   * 15), and a short run should cover a known number. Default 0 (time alone).
   */
  minFaults?: number;
  /** Keep the run directory (sidecar logs, event log) even on success. */
  keep: boolean;
  log: (line: string) => void;
  /** Resolves when the caller wants to stop early (Ctrl-C). */
  interrupted?: Promise<void>;
}

export interface ChaosResult {
  seed: number;
  durationMs: number;
  /** How long faults were injected: durationMs, longer when minFaults had not been reached by then. */
  faultPhaseMs: number;
  elapsedMs: number;
  violation: Violation | null;
  faultCounts: Record<string, number>;
  faultErrors: number;
  stats: ForgingStats;
  livenessBoundMs: number;
  /** How many times the system was whole and fault-free for longer than the liveness bound. */
  livenessWindows: number;
  readOnlyMethod: string;
  interrupted: boolean;
  timeline: TimelineEntry[];
  events: SimEvent[];
  startWallMs: number;
  runDir: string | null;
  /** Overlaps explained by a sidecar that was SIGKILLed or frozen and not back yet (safety.md §8). */
  residualRiskNotes: string[];
  report: string;
}

const TICK_MS = 200;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function livenessBoundMs(timings: Timings, slackS: number): number {
  return (timings.leaseDuration + timings.renewDeadline + timings.retryPeriod + slackS) * 1000;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const rng = new SeededRandom(options.seed);
  const boundMs = livenessBoundMs(options.timings, options.livenessSlackS);
  const log = options.log;
  log(
    `chaos: seed ${options.seed}, ${(options.durationMs / 60_000).toFixed(2)} min, faults ${options.faults.map((f) => f.name).join(',')}`,
  );
  log(
    `chaos: timings LD ${options.timings.leaseDuration} s / RD ${options.timings.renewDeadline} s / RP ${options.timings.retryPeriod} s; liveness bound ${boundMs / 1000} s (LD + RD + RP + ${options.livenessSlackS} s)`,
  );
  const world = await ChaosWorld.create({ timings: options.timings, size: 3, log });
  try {
    return await runInWorld(world, options, rng, boundMs);
  } catch (error) {
    await world.cleanup(true);
    throw error;
  }
}

async function runInWorld(
  world: ChaosWorld,
  options: ChaosOptions,
  rng: SeededRandom,
  boundMs: number,
): Promise<ChaosResult> {
  const log = options.log;
  log(`chaos: run dir ${world.dir}; read-only target via ${world.readOnlyMethod}`);
  const tail = new EventLogTail(world.eventLog);
  const faultCounts: Record<string, number> = {};
  let faultErrors = 0;
  let violation: Violation | null = null;
  let healthySince: number | null = null;
  let livenessWindows = 0;
  const residualNotes: string[] = [];
  let countedWindow = false;
  let interrupted = false;
  void options.interrupted?.then(() => {
    interrupted = true;
  });
  const stopRequested = (): boolean => violation !== null || interrupted;

  const ctx: FaultContext = {
    world,
    rng,
    forgers: () => currentForgers(tail.events, hostClockMs()),
  };

  // Monitor + kubelet: every tick, read the log, check the invariant, restart exited containers.
  let monitorRunning = true;
  const monitor = (async () => {
    let lastLeasePoll = 0;
    let lastHolder: string | undefined;
    let leasePollInFlight = false;
    while (monitorRunning) {
      await tail.poll();
      const now = hostClockMs();
      if (world.whole()) {
        const since = Math.max(healthySince ?? now, world.lastDisturbanceMs);
        if (since !== healthySince) {
          healthySince = since;
          countedWindow = false;
        }
      } else {
        healthySince = null;
        countedWindow = false;
      }
      if (healthySince !== null && !countedWindow && now - healthySince > boundMs) {
        livenessWindows += 1;
        countedWindow = true;
      }
      const found = checkInvariant({
        events: tail.events,
        nowMs: now,
        healthySinceMs: healthySince,
        livenessBoundMs: boundMs,
      });
      if (found !== null && violation === null) {
        violation = found;
        world.stopping = true;
        if (found.kind === 'overlap') residualNotes.push(...residualRiskNotes(world, found, options.timings));
        log(`chaos: VIOLATION (${found.kind}) at ${formatRel(found.atMs - world.startMs)}`);
        break;
      }
      // Never awaited here: a frozen apiserver must not stall the invariant checks.
      if (hostClockMs() - lastLeasePoll > 1000 && !world.stopping && !leasePollInFlight) {
        lastLeasePoll = hostClockMs();
        leasePollInFlight = true;
        void world
          .readLease()
          .then((lease) => {
            const holder = lease?.spec?.holderIdentity ?? undefined;
            if (holder) world.seenHolders.add(holder);
            if (lease !== null && holder !== lastHolder && !world.stopping) {
              world.record(
                'lease',
                'lease',
                `holder now ${holder ?? '(none)'} (rv ${lease.metadata?.resourceVersion})`,
              );
              lastHolder = holder;
            }
          })
          .finally(() => {
            leasePollInFlight = false;
          });
      }
      void world.superviseOnce();
      await sleep(TICK_MS);
    }
  })();

  const active = new Set<Promise<void>>();
  const startFault = (kind: FaultKind): void => {
    const running = kind
      .run(ctx)
      .then((ran) => {
        if (ran) faultCounts[kind.name] = (faultCounts[kind.name] ?? 0) + 1;
      })
      .catch((error: unknown) => {
        faultErrors += 1;
        world.record(kind.name, 'error', `fault failed: ${firstLine(error)}`);
      })
      .finally(() => active.delete(running));
    active.add(running);
  };

  // Every schedule below runs on the monotonic host clock: a wall-clock step (NTP, a resumed VM) must
  // not shorten or stretch the fault phase.
  const startedAt = hostClockMs();
  const minFaults = options.minFaults ?? 0;
  const faultsRun = (): number => Object.values(faultCounts).reduce((a, b) => a + b, 0);
  let faultPhaseMs: number;
  try {
    // Warm-up: one forger before the first fault, so the first fault meets a settled system.
    while (!stopRequested() && currentForgers(tail.events, hostClockMs()).length === 0) {
      if (hostClockMs() - startedAt > 60_000) throw new Error('no node forged within 60 s of the start');
      await sleep(TICK_MS);
    }
    world.record('chaos', '-', 'first forger seen; faults begin');
    const faultsFrom = hostClockMs();
    const faultPhaseGoesOn = (): boolean => {
      const elapsed = hostClockMs() - faultsFrom;
      return elapsed < options.durationMs || (faultsRun() < minFaults && elapsed < 2 * options.durationMs);
    };
    const weighted = options.faults.map((item) => ({ item, weight: item.weight }));
    while (!stopRequested() && faultPhaseGoesOn()) {
      if (active.size < options.concurrency) startFault(rng.weighted(weighted));
      await sleep(rng.int(300, 3000));
      // Now and then a quiet period longer than the liveness bound: faults stop, one node must forge.
      if (rng.chance(0.12)) {
        const quietMs = boundMs + rng.int(1000, 3000);
        world.record('chaos', '-', `quiet: waiting for active faults, then ${quietMs} ms without faults`);
        while (active.size > 0 && !stopRequested()) await sleep(TICK_MS);
        const quietUntil = hostClockMs() + quietMs;
        while (!stopRequested() && hostClockMs() < quietUntil) await sleep(TICK_MS);
      }
    }
    faultPhaseMs = hostClockMs() - faultsFrom;
    // Final quiet period: every fault undone, the system must settle on exactly one forger.
    world.record('chaos', '-', 'faults end; final quiet period');
    while (active.size > 0 && !stopRequested()) await sleep(TICK_MS);
    // Whole and fault-free for longer than the bound (the monitor checks a node forges by then);
    // a system that does not even become whole again within a minute is a failure too.
    const giveUpAt = hostClockMs() + boundMs + 60_000;
    const settled = (): boolean => healthySince !== null && hostClockMs() - healthySince > boundMs + 1000;
    while (!stopRequested() && !settled()) {
      if (hostClockMs() > giveUpAt) {
        violation = {
          kind: 'not-recovered',
          atMs: hostClockMs(),
          what: world.notWhole().join('; '),
        };
        world.stopping = true;
        log(`chaos: VIOLATION (not-recovered): ${violation.what}`);
        break;
      }
      await sleep(TICK_MS);
    }
  } finally {
    monitorRunning = false;
    await monitor;
  }
  await tail.poll();
  const endWallMs = hostClockMs();
  const finalViolation =
    violation ??
    checkInvariant({ events: tail.events, nowMs: endWallMs, healthySinceMs: null, livenessBoundMs: boundMs });
  world.stopping = true;
  // Faults in flight see `stopping` and return; then everything is undone and stopped.
  await Promise.race([Promise.allSettled([...active]), sleep(20_000)]);
  const keepDir = options.keep || finalViolation !== null;
  const stats = forgingStats(tail.events, endWallMs);
  const result: ChaosResult = {
    seed: options.seed,
    durationMs: options.durationMs,
    faultPhaseMs,
    elapsedMs: hostClockMs() - startedAt,
    violation: finalViolation,
    faultCounts,
    faultErrors,
    stats,
    livenessBoundMs: boundMs,
    livenessWindows,
    readOnlyMethod: world.readOnlyMethod,
    interrupted,
    timeline: [...world.timeline],
    events: [...tail.events],
    startWallMs: world.startMs,
    runDir: keepDir ? world.dir : null,
    residualRiskNotes: residualNotes,
    report: '',
  };
  await world.cleanup(keepDir);
  result.report = finalViolation === null ? summaryReport(result, options) : violationReport(result, options);
  return result;
}

function rel(result: ChaosResult, wallMs: number): string {
  return formatRel(wallMs - result.startWallMs);
}

export function summaryReport(result: ChaosResult, options: ChaosOptions): string {
  const counts = Object.entries(result.faultCounts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `  ${k.padEnd(25)} ${v}`)
    .join('\n');
  const total = Object.values(result.faultCounts).reduce((a, b) => a + b, 0);
  return [
    `chaos: OK${result.interrupted ? ' (interrupted)' : ''}`,
    `  seed                   ${result.seed}`,
    `  minutes                ${(result.faultPhaseMs / 60_000).toFixed(2)} of faults (asked ${(options.durationMs / 60_000).toFixed(2)}), ${(result.elapsedMs / 60_000).toFixed(2)} in all`,
    `  faults injected        ${total}${options.minFaults ? ` (asked at least ${options.minFaults})` : ''}, ${result.faultErrors} failed to inject`,
    counts,
    `  total forging time     ${(result.stats.totalForgingMs / 1000).toFixed(1)} s over ${result.stats.forgingIntervals} forging intervals`,
    `  max gap with no forger ${(result.stats.maxGapMs / 1000).toFixed(2)} s${result.stats.maxGapStartMs === null ? '' : ` (from ${rel(result, result.stats.maxGapStartMs)})`}`,
    `  liveness windows       ${result.livenessWindows} (system whole and fault-free > ${result.livenessBoundMs / 1000} s: a node forged in each)`,
    `  overlap                0 ms`,
    `  read-only target via   ${result.readOnlyMethod}`,
  ].join('\n');
}

const VIOLATION_TITLES: Record<Violation['kind'], string> = {
  overlap: 'two nodes forged at once',
  liveness: 'no node forged after the liveness bound',
  'not-recovered': 'the system did not recover after the faults stopped',
};

export function violationReport(result: ChaosResult, options: ChaosOptions): string {
  const v = result.violation as Violation;
  const lines: string[] = [];
  lines.push(`chaos: VIOLATION: ${VIOLATION_TITLES[v.kind]}`);
  lines.push(
    `  seed ${result.seed}  (replay: npm run chaos -- --seed ${result.seed} --minutes ${(options.durationMs / 60_000).toFixed(2)}${options.minFaults ? ` --min-faults ${options.minFaults}` : ''} --faults ${options.faults.map((f) => f.name).join(',')})`,
  );
  let centre: number;
  if (v.kind === 'overlap') {
    for (const o of v.overlaps)
      lines.push(
        `  overlap: ${o.a} (pid ${o.aPid}) and ${o.b} (pid ${o.bPid}) both forging from ${rel(result, o.startMs)} to ${rel(result, o.endMs)} (${o.ms.toFixed(1)} ms so far)`,
      );
    centre = Math.min(...v.overlaps.map((o) => o.startMs));
  } else if (v.kind === 'not-recovered') {
    lines.push(`  a minute after the last fault the system was still not whole: ${v.what}`);
    centre = v.atMs;
  } else {
    lines.push(
      `  whole and fault-free since ${rel(result, v.healthySinceMs)}, nobody forging at ${rel(result, v.atMs)} (bound ${v.boundMs / 1000} s)`,
    );
    centre = v.atMs;
  }
  for (const note of result.residualRiskNotes) lines.push(`  note: ${note}`);
  // The whole timeline for short runs; for long ones the last minute before the violation.
  const recent = result.timeline.filter((e) => e.atMs >= centre - result.startWallMs - 60_000);
  const shown = result.timeline.length <= 200 ? result.timeline : recent;
  lines.push(
    '',
    shown === result.timeline
      ? 'fault timeline (relative to the start):'
      : `fault timeline, last 60 s before the violation (${result.timeline.length - shown.length} earlier entries left out):`,
  );
  for (const e of shown)
    lines.push(`  ${formatRel(e.atMs)}  ${e.kind.padEnd(25)} ${e.target.padEnd(10)} ${e.what}`);
  lines.push(
    '',
    `forging timeline around the violation (${rel(result, centre - 20_000)} .. ${rel(result, centre + 5000)}):`,
  );
  for (const e of result.events.filter((e) => e.ts >= centre - 20_000 && e.ts <= centre + 5000))
    lines.push(
      `  ${rel(result, e.ts)}  ${e.identity.padEnd(6)} pid ${String(e.pid).padEnd(7)} ${e.event.padEnd(11)} ${e.reason}`,
    );
  if (result.runDir !== null)
    lines.push('', `kept for diagnosis: ${result.runDir} (sidecar logs in bp-*/sidecar-*.log, events.jsonl)`);
  return lines.join('\n');
}

/**
 * A pod whose sidecar was SIGKILLed or frozen and had not come back when the overlap began: its node
 * kept its keys with nothing able to revoke them, the residual risk that docs/safety.md §8 states (the
 * window is the sidecar's restart time). Still a violation; labelled so it is not mistaken for a
 * defect of the running code.
 */
function residualRiskNotes(
  world: ChaosWorld,
  violation: Extract<Violation, { kind: 'overlap' }>,
  timings: Timings,
): string[] {
  const notes: string[] = [];
  for (const overlap of violation.overlaps) {
    for (const pod of [overlap.a, overlap.b]) {
      const since = world.sidecarGoneSince.get(pod);
      if (since === undefined || since > overlap.startMs) continue;
      notes.push(
        `${pod}'s sidecar had been SIGKILLed/frozen for ${((overlap.startMs - since) / 1000).toFixed(1)} s with no working replacement when the overlap began (LD − RP = ${timings.leaseDuration - timings.retryPeriod} s): the residual risk of docs/safety.md §8 (a dead sidecar cannot revoke; the window is its restart time) — unless a Lease edit in the timeline let the other take over early`,
      );
    }
  }
  return notes;
}

/** Seeds that once failed, with a note each (test/chaos/regression-seeds.json). */
export async function readRegressionSeeds(path: string): Promise<Array<{ seed: number; note: string }>> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as { seeds: Array<{ seed: number; note: string }> };
  return parsed.seeds;
}

export { FAULT_KINDS };
