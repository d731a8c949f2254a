// Three real regions of one pool (test/regions/harness.ts): a real 3-member etcd cluster whose
// links the test cuts, one real kube-apiserver per region, two forge-manager pods per region beside
// simulated cardano-nodes, priorities 1/2/3 (eu/us/ap) and an HTTP health endpoint per region.
// The scenarios run in order on one harness (startup costs ~25 s on the 2-core machine); each starts
// from the same baseline (every link healed, every member and pod up, eu healthy and Priority-based,
// eu forging). In every scenario: zero overlap from the six simulators' forging transitions, and the
// failover/failback times printed against the issue-9 targets.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ARBITER_TIMINGS, arbiterSetup } from '../regions/arbiter-config.ts';
import { startRegions, type Regions } from '../regions/harness.ts';
import { waitFor } from '../support/forge-pod.ts';
import {
  regionChanges,
  regionIntervals,
  regionMove,
  forgingTimeBetween,
  transitionsBetween,
  type RegionMove,
} from '../regions/timeline.ts';
import { regionOfIdentity } from '../regions/timeline.ts';
import { hostClockMs } from '../cardano-node-sim/events.ts';

const { ttlSeconds, holdDownSeconds } = ARBITER_TIMINGS;
const SIDECAR_TIMINGS = { leaseDuration: 6, renewDeadline: 3, retryPeriod: 1 } as const;
const TTL_MS = ttlSeconds * 1000;
const HOLD_DOWN_MS = holdDownSeconds * 1000;
const RETRY_MS = ARBITER_TIMINGS.retryPeriodSeconds * 1000;
/** Issue-9 targets. */
const PLANNED_TARGET_MS = 5_000;
const UNPLANNED_TARGET_MS = TTL_MS + RETRY_MS + 2_000;
/**
 * Liveness bounds asserted here are the targets plus slack for a 2-core machine shared by several
 * test workers (load average 10+): a slow scheduler delays a takeover, it never makes it unsafe.
 * The measured figures are printed against the targets themselves.
 */
const LOAD_SLACK_MS = 6_000;
const STARTUP_MS = 120_000;

interface Figure {
  readonly scenario: string;
  readonly what: string;
  readonly value: number;
  readonly unit: 'ms' | 'count';
  readonly target: string;
}
const figures: Figure[] = [];
function record(
  scenario: string,
  what: string,
  value: number,
  target: string,
  unit: 'ms' | 'count' = 'ms',
): void {
  figures.push({ scenario, what, value: Math.round(value), unit, target });
  const shown = unit === 'ms' ? `${Math.round(value)} ms` : String(value);
  console.log(`[regions] ${scenario}: ${what} ${shown} (target ${target})`);
}

let regions: Regions;
const runStartedAt = hostClockMs();

/** Sum of every sample of one metric in a Prometheus exposition. */
function sampleSum(exposition: string, metric: string): number {
  return exposition
    .split('\n')
    .filter((line) => line.startsWith(`${metric}{`) || line.startsWith(`${metric} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function expectZeroOverlap(): Promise<void> {
  const report = await regions.overlap();
  expect(report.overlaps).toEqual([]);
  expect(report.totalOverlapMs).toBe(0);
}

async function moveTo(region: string, actionMs: number, timeoutMs: number): Promise<RegionMove> {
  await regions.waitForForgerIn(region, timeoutMs);
  const move = regionMove(await regions.events(), actionMs, region, hostClockMs());
  if (move === undefined) throw new Error(`no forging-on in ${region} after the action`);
  return move;
}

/** Every link healed, every member and pod up, policies back to normal, eu (priority 1) forging. */
async function baseline(): Promise<void> {
  regions.etcd.healAll();
  for (const member of regions.etcd.members) if (member.pid === undefined) await member.restart();
  for (const region of regions.regions) {
    region.health.setHealthy(true);
    if (region.controlPlane.processIds().kubeApiserver === undefined)
      await region.controlPlane.startApiserver();
    await region.startPods();
  }
  await regions.trackPods();
  for (const region of regions.regions) {
    await region.patchClusterSpec({ forgeState: 'Priority-based', override: null });
  }
  await regions.waitForForgerIn('eu', STARTUP_MS);
}

describe('three regions on one etcd cluster: only the best healthy region forges', () => {
  beforeAll(async () => {
    regions = await startRegions({
      timings: SIDECAR_TIMINGS,
      arbiter: arbiterSetup,
      log: (line) => console.log(line),
    });
  });

  // A failed scenario keeps the logs (sidecars, event log, etcd members, apiservers) for diagnosis.
  let failed = false;
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      failed = true;
    });
  });

  afterAll(async () => {
    if ((regions as Regions | undefined) === undefined) return; // startup failed (and cleaned up)
    const keep = failed || process.env.FORGE_KEEP_TEST_DIRS !== undefined;
    if (keep) await regions.collectLogs();
    await regions.stop({ keepDir: keep });
    if (keep) console.log(`[regions] kept ${regions.dir} (sidecar logs, event log, etcd and apiserver logs)`);
    console.log(
      `[regions] figures (etcd TTL ${ttlSeconds} s, hold-down ${holdDownSeconds} s, Lease ${SIDECAR_TIMINGS.leaseDuration}/${SIDECAR_TIMINGS.renewDeadline}/${SIDECAR_TIMINGS.retryPeriod} s), ` +
        `whole file ${Math.round((hostClockMs() - runStartedAt) / 1000)} s:\n` +
        figures
          .map(
            (f) =>
              `  ${f.scenario.padEnd(24)} ${f.what.padEnd(44)} ${String(f.value).padStart(6)} ${f.unit === 'ms' ? 'ms' : '  '}  target ${f.target}`,
          )
          .join('\n'),
    );
  });

  it('normal: only priority 1 (eu) forges; us and ap stay standby', async () => {
    const forger = await regions.waitForForgerIn('eu', STARTUP_MS);
    const begin = hostClockMs();
    record('normal', 'start → eu forging', hostClockMs() - runStartedAt, 'none');
    // Two TTLs with nothing moving: the standby regions never take the key.
    await sleep(2 * TTL_MS);
    const { forging } = await regions.observeForgers();
    expect(forging.map((pod) => pod.options.name)).toEqual([forger.options.name]);
    const events = await regions.events();
    const intervals = regionIntervals(events, hostClockMs());
    expect(new Set(intervals.map((interval) => interval.region))).toEqual(new Set(['eu']));
    expect(regionChanges(events, begin, hostClockMs())).toEqual([]);
    await expectZeroOverlap();

    // Every region's CardanoForgeCluster names the forging region and its own rank...
    const ranks = await waitFor(
      'every CardanoForgeCluster to name eu as the forging region',
      async () => {
        const arbiters = await Promise.all(
          regions.regions.map(
            async (region) =>
              (await region.readCluster()).status?.globalArbiter as
                { forgingRegion?: string; rank?: number } | undefined,
          ),
        );
        return arbiters.every((arbiter) => arbiter?.forgingRegion === 'eu')
          ? arbiters.map((arbiter) => arbiter?.rank)
          : null;
      },
      30_000,
    );
    expect(ranks).toEqual([1, 2, 3]);
    // ...and cardano_cluster_forge_enabled is 1 in the forging region only: the per-pool sum is 1.
    const enabled = await Promise.all(
      regions.allPods().map(async (pod) => ({
        pod: pod.options.name,
        value: sampleSum(await pod.metricsText(), 'cardano_cluster_forge_enabled'),
      })),
    );
    expect(enabled.reduce((sum, e) => sum + e.value, 0)).toBe(1);
    expect(enabled.filter((e) => e.value === 1).map((e) => regionOfIdentity(e.pod))).toEqual(['eu']);
  });

  it('planned maintenance: forgeState Disabled moves forging to us within seconds; back to eu after the hold-down', async () => {
    await baseline();
    const eu = regions.region('eu');
    const disabledAt = hostClockMs();
    await eu.patchClusterSpec({ forgeState: 'Disabled' });
    const failover = await moveTo('us', disabledAt, PLANNED_TARGET_MS + LOAD_SLACK_MS + HOLD_DOWN_MS);
    record(
      'planned maintenance',
      'eu Disabled → us forging',
      failover.onAfterMs,
      `≤ ${PLANNED_TARGET_MS} ms`,
    );
    record('planned maintenance', 'gap without a forger', failover.gapMs ?? Number.NaN, '≥ 0');
    expect(failover.fromRegion).toBe('eu');
    expect(failover.gapMs).toBeGreaterThanOrEqual(0);
    expect(failover.onAfterMs).toBeLessThanOrEqual(PLANNED_TARGET_MS + LOAD_SLACK_MS);
    await expectZeroOverlap();

    // Maintenance over: eu is the best candidate again, and takes over only after the hold-down.
    const enabledAt = hostClockMs();
    await eu.patchClusterSpec({ forgeState: 'Priority-based' });
    const failback = await moveTo('eu', enabledAt, HOLD_DOWN_MS + PLANNED_TARGET_MS + LOAD_SLACK_MS);
    record(
      'planned maintenance',
      'eu Priority-based → eu forging',
      failback.onAfterMs,
      `≥ hold-down ${HOLD_DOWN_MS} ms`,
    );
    expect(failback.fromRegion).toBe('us');
    expect(failback.onAfterMs).toBeGreaterThanOrEqual(HOLD_DOWN_MS);
    expect(failback.gapMs).toBeGreaterThanOrEqual(0);
    await expectZeroOverlap();
  });

  it('planned maintenance by override: forceState Disabled with an expiry moves forging, and back when it expires', async () => {
    await baseline();
    const eu = regions.region('eu');
    const overrideAt = hostClockMs();
    // expiresAt is wall-clock time (the sidecar reads it so); the test's instants are on the host clock.
    const expiresAt = new Date(Date.now() + 15_000).toISOString();
    await eu.patchClusterSpec({
      override: { enabled: true, forceState: 'Disabled', reason: 'kernel upgrade', expiresAt },
    });
    const failover = await moveTo('us', overrideAt, PLANNED_TARGET_MS + LOAD_SLACK_MS + HOLD_DOWN_MS);
    record(
      'override',
      'eu forceState Disabled → us forging',
      failover.onAfterMs,
      `≤ ${PLANNED_TARGET_MS} ms`,
    );
    expect(failover.onAfterMs).toBeLessThanOrEqual(PLANNED_TARGET_MS + LOAD_SLACK_MS);
    const expiry = overrideAt + 15_000;
    const failback = await moveTo('eu', expiry, 15_000 + HOLD_DOWN_MS + PLANNED_TARGET_MS + LOAD_SLACK_MS);
    record('override', 'override expired → eu forging', failback.onAfterMs, `≥ hold-down ${HOLD_DOWN_MS} ms`);
    expect(failback.onAfterMs).toBeGreaterThanOrEqual(HOLD_DOWN_MS);
    await expectZeroOverlap();
  });

  it('health: eu unhealthy → us forges; a health signal alternating every interval never moves it back; steady health fails back after the hold-down', async () => {
    await baseline();
    const eu = regions.region('eu');
    const unhealthyAt = hostClockMs();
    eu.health.setHealthy(false);
    const failover = await moveTo('us', unhealthyAt, PLANNED_TARGET_MS + LOAD_SLACK_MS + HOLD_DOWN_MS);
    record('health', 'eu health 503 → us forging', failover.onAfterMs, `≤ ${PLANNED_TARGET_MS} ms + probe`);
    expect(failover.fromRegion).toBe('eu');
    await expectZeroOverlap();

    // Alternating every probe interval (1 s) for two hold-downs: eu is "better" for one interval at
    // a time, never for a whole hold-down, so forging stays in us.
    const alternateFrom = hostClockMs();
    const probesBefore = eu.health.requests;
    eu.health.alternate(1_000);
    await sleep(Math.max(2 * HOLD_DOWN_MS, 10_000));
    const alternateTo = hostClockMs();
    const flaps = regionChanges(await regions.events(), alternateFrom, alternateTo);
    record(
      'health',
      `flaps during ${Math.round((alternateTo - alternateFrom) / 1000)} s of alternating health`,
      flaps.length,
      '0',
      'count',
    );
    expect(flaps).toEqual([]);
    // The probes kept polling the alternating endpoint (two sidecars, one probe a second each).
    expect(eu.health.requests - probesBefore).toBeGreaterThanOrEqual(5);
    expect(regionOfIdentity((await regions.waitForForgerIn('us', 5_000)).options.name)).toBe('us');

    // The alternation may have left eu healthy (and seen as better) a moment ago: make it plainly
    // unhealthy for two probe intervals first, so the hold-down is measured from this action.
    eu.health.setHealthy(false);
    await sleep(2_500);
    const healthyAt = hostClockMs();
    eu.health.setHealthy(true);
    const failback = await moveTo('eu', healthyAt, HOLD_DOWN_MS + PLANNED_TARGET_MS + LOAD_SLACK_MS);
    record('health', 'eu healthy → eu forging', failback.onAfterMs, `≥ hold-down ${HOLD_DOWN_MS} ms`);
    expect(failback.onAfterMs).toBeGreaterThanOrEqual(HOLD_DOWN_MS);
    await expectZeroOverlap();
  });

  it('loss of one etcd member (a follower, then the Raft leader): nothing changes', async () => {
    await baseline();
    for (const which of ['follower', 'leader'] as const) {
      const leader = await regions.etcd.leaderSeenBy('m1');
      expect(leader).toBeDefined();
      const victim =
        which === 'leader'
          ? leader!
          : regions.etcd.members.map((m) => m.name).find((name) => name !== leader)!;
      const forgerAtStart = await regions.waitForForgerIn('eu', 5_000);
      const from = hostClockMs();
      await regions.etcd.member(victim).kill();
      await sleep(2 * TTL_MS);
      const to = hostClockMs();
      const events = await regions.events();
      const changed = transitionsBetween(events, from, to);
      record(
        'one etcd member lost',
        `${which} ${victim} SIGKILLed: forging transitions in ${Math.round((to - from) / 1000)} s`,
        changed.length,
        '0',
        'count',
      );
      // Issue 9 asks for no transition at all, and the printed count shows whether that held. The
      // region and the pod must never change; a same-node blip is bounded (load-tolerant): seen when
      // the sidecar could not observe its node in time on the loaded machine (NodeUnobservable),
      // and — before the arbiter set a failed member aside — when its etcd client kept calling the
      // killed member past the renew deadline (docs/coordination.md, "Measured on this machine").
      expect(regionChanges(events, from, to)).toEqual([]);
      expect(new Set(changed.map((event) => event.identity))).toEqual(
        new Set(changed.length === 0 ? [] : [forgerAtStart.options.name]),
      );
      const offline = to - from - forgingTimeBetween(regionIntervals(events, to), from, to);
      record(
        'one etcd member lost',
        `${which} ${victim}: time without a forger`,
        offline,
        '0 (≤ 2 s under load)',
      );
      expect(offline).toBeLessThanOrEqual(2_000);
      await regions.waitForForgerIn('eu', 5_000);
      await regions.etcd.member(victim).restart();
    }
    await expectZeroOverlap();
  });

  it('eu partitioned from the etcd majority: eu stops forging, us takes over; healed, eu fails back after the hold-down', async () => {
    await baseline();
    const eu = regions.region('eu');
    const cutAt = hostClockMs();
    // eu's member loses its peers, and eu's pods reach only that member: cut off from the quorum.
    regions.etcd.isolate(eu.member.name);
    eu.links.cut(regions.etcd.members.map((m) => m.name).filter((name) => name !== eu.member.name));
    const failover = await moveTo('us', cutAt, UNPLANNED_TARGET_MS + LOAD_SLACK_MS + HOLD_DOWN_MS);
    record(
      'eu partitioned',
      'cut → eu stopped forging',
      failover.offAfterMs ?? Number.NaN,
      `< TTL ${TTL_MS} ms`,
    );
    record(
      'eu partitioned',
      'cut → us forging',
      failover.onAfterMs,
      `≤ TTL + retry + 2 s = ${UNPLANNED_TARGET_MS} ms`,
    );
    expect(failover.fromRegion).toBe('eu');
    expect(failover.offAfterMs).toBeLessThan(TTL_MS);
    expect(failover.gapMs).toBeGreaterThanOrEqual(0);
    expect(failover.onAfterMs).toBeLessThanOrEqual(UNPLANNED_TARGET_MS + LOAD_SLACK_MS);
    await expectZeroOverlap();

    const healedAt = hostClockMs();
    regions.etcd.healAll();
    const failback = await moveTo('eu', healedAt, HOLD_DOWN_MS + UNPLANNED_TARGET_MS + LOAD_SLACK_MS);
    record('eu partitioned', 'healed → eu forging', failback.onAfterMs, `≥ hold-down ${HOLD_DOWN_MS} ms`);
    expect(failback.onAfterMs).toBeGreaterThanOrEqual(HOLD_DOWN_MS);
    await expectZeroOverlap();
  });

  it('loss of etcd quorum: nobody forges; once quorum is back, eu forges again', async () => {
    await baseline();
    const lostAt = hostClockMs();
    const [, second, third] = regions.etcd.members;
    await Promise.all([second!.kill(), third!.kill()]);
    await regions.waitForNoForger(TTL_MS + LOAD_SLACK_MS);
    const stoppedAfter = hostClockMs() - lostAt;
    const events = await regions.events();
    const lastOff = regionIntervals(events, hostClockMs()).reduce(
      (latest, i) => Math.max(latest, i.endMs),
      0,
    );
    record(
      'etcd quorum lost',
      'two members SIGKILLed → no node forging',
      lastOff - lostAt,
      `< TTL ${TTL_MS} ms`,
    );
    expect(lastOff - lostAt).toBeLessThan(TTL_MS);
    expect(stoppedAfter).toBeLessThan(TTL_MS + LOAD_SLACK_MS);
    // Nobody forges while there is no quorum.
    await sleep(TTL_MS);
    const quietTo = hostClockMs();
    expect(forgingTimeBetween(regionIntervals(await regions.events(), quietTo), lastOff, quietTo)).toBe(0);

    const restoredAt = hostClockMs();
    await Promise.all([second!.restart(), third!.restart()]);
    const recovery = await moveTo('eu', restoredAt, UNPLANNED_TARGET_MS + HOLD_DOWN_MS + LOAD_SLACK_MS);
    record('etcd quorum lost', 'quorum back → eu forging', recovery.onAfterMs, 'none (recovery)');
    await expectZeroOverlap();
  });

  it('region loss: eu apiserver, pods and etcd member stopped → us forges within TTL + retry + 2 s; eu back → fails back', async () => {
    await baseline();
    const eu = regions.region('eu');
    const lostAt = hostClockMs();
    await Promise.all([eu.killPods(), eu.member.kill(), eu.controlPlane.stopApiserver()]);
    const failover = await moveTo('us', lostAt, UNPLANNED_TARGET_MS + LOAD_SLACK_MS);
    record(
      'region loss',
      'eu lost → us forging',
      failover.onAfterMs,
      `≤ TTL + retry + 2 s = ${UNPLANNED_TARGET_MS} ms`,
    );
    expect(failover.fromRegion).toBe('eu');
    expect(failover.onAfterMs).toBeLessThanOrEqual(UNPLANNED_TARGET_MS + LOAD_SLACK_MS);
    await expectZeroOverlap();

    const backAt = hostClockMs();
    await eu.member.restart();
    await eu.controlPlane.startApiserver();
    await eu.startPods();
    await regions.trackPods();
    const failback = await moveTo('eu', backAt, STARTUP_MS);
    record(
      'region loss',
      'eu back (member, apiserver, pods) → eu forging',
      failback.onAfterMs,
      `≥ hold-down ${HOLD_DOWN_MS} ms`,
    );
    expect(failback.onAfterMs).toBeGreaterThanOrEqual(HOLD_DOWN_MS);
    await expectZeroOverlap();
  });
});
