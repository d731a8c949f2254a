// Cold start, planned handoff and unplanned failover, measured from the simulated nodes' own event
// logs (when a node turned forging on or off), never from what the sidecars say they did.
import { hostClockMs } from '../../test/cardano-node-sim/events.ts';
import { computeOverlap, readEvents } from '../../test/cardano-node-sim/overlap.ts';
import type { Figure } from '../figures.ts';
import { createPodSet, forger, waitFor } from '../pods.ts';
import type { BenchContext, Scenario } from './types.ts';

const SECTION = 'Leadership changes (3 pods, real apiserver, simulated nodes)';

export const failoverScenario: Scenario = {
  id: 'failover',
  title: SECTION,
  method:
    'Per run, in a fresh namespace: three sidecars and three simulated nodes start together (cold ' +
    'start → the first node that turns forging on, from the simulators’ event logs); once one ' +
    'forges, its sidecar gets SIGTERM (planned handoff → the next node forging on); then the new ' +
    'leader’s sidecar and node are SIGKILLed together, as when a pod is killed (unplanned failover → ' +
    'the last node forging on). Overlap is the time two nodes forged at once, summed over every ' +
    'run (checked from the same logs).',
  async run(ctx: BenchContext): Promise<Figure[]> {
    const cp = await ctx.controlPlane();
    const cold: number[] = [];
    const sidecarStart: number[] = [];
    const handoff: number[] = [];
    const failover: number[] = [];
    const overlap: number[] = [];
    for (let run = 0; run < ctx.runs; run++) {
      const set = await createPodSet(cp, {
        namespace: `bench-failover-${run}`,
        dir: await ctx.runDir(`failover-${run}`),
        timings: ctx.timings,
      });
      try {
        const t0 = hostClockMs();
        await Promise.all(
          set.pods.map(async (p) => {
            const s0 = performance.now();
            await p.startSidecar();
            sidecarStart.push(performance.now() - s0);
            await p.waitStartupReady();
            await p.startNode();
          }),
        );
        const first = await waitFor(() => forger(set.pods), 60_000, 'a first forger');
        const firstOn = (await readEvents([set.eventLog])).find((e) => e.event === 'forging-on');
        cold.push(firstOn!.ts - t0);

        // Planned handoff: the leader's sidecar is told to stop.
        const t1 = hostClockMs();
        await first.stopSidecar();
        const second = await waitFor(
          async () => {
            const f = await forger(set.pods);
            return f !== null && f !== first ? f : null;
          },
          60_000,
          'a forger after the handoff',
        );
        handoff.push(forgingOnAfter(await readEvents([set.eventLog]), t1, first.options.name) - t1);

        // Unplanned failover: the new leader's pod dies (sidecar and node killed at once).
        const t2 = hostClockMs();
        second.killSidecar('SIGKILL');
        second.node!.kill('SIGKILL');
        await waitFor(
          async () => {
            const f = await forger(set.pods);
            return f !== null && f !== first && f !== second ? f : null;
          },
          120_000,
          'a forger after the failover',
        );
        const events = await readEvents([set.eventLog]);
        failover.push(forgingOnAfter(events, t2, second.options.name) - t2);
        overlap.push(computeOverlap(events).totalOverlapMs);
        ctx.log(
          `  run ${run + 1}: cold start ${cold.at(-1)!.toFixed(0)} ms, handoff ${handoff.at(-1)!.toFixed(0)} ms, failover ${failover.at(-1)!.toFixed(0)} ms`,
        );
      } finally {
        await set.dispose();
      }
    }
    const lease = ctx.timings.leaseDuration;
    return [
      {
        id: 'failover.coldStartMs',
        section: SECTION,
        label: 'cold start → first node forging',
        unit: 'ms',
        samples: cold,
        note: 'a new Lease is acted on only after leaseDuration + 0.5 s (the grace of a created lease, safety §4)',
        underLoad: 'about leaseDuration + 0.5 s + sidecar start-up unloaded',
      },
      {
        id: 'failover.sidecarStartMs',
        section: SECTION,
        label: 'sidecar start → HTTP /health answers',
        unit: 'ms',
        samples: sidecarStart,
        underLoad: 'shorter unloaded (CPU-bound module loading; three start at once)',
      },
      {
        id: 'failover.plannedHandoffMs',
        section: SECTION,
        label: 'planned handoff (leader SIGTERM → next node forging)',
        unit: 'ms',
        samples: handoff,
        target: { max: 2000, source: 'integration test bound' },
        underLoad: 'shorter unloaded',
      },
      {
        id: 'failover.unplannedFailoverMs',
        section: SECTION,
        label: 'unplanned failover (leader pod killed → next node forging)',
        unit: 'ms',
        samples: failover,
        target: {
          max: (lease + ctx.timings.retryPeriod + 1) * 1000,
          source: 'leaseDuration + retryPeriod + 1 s',
        },
        note: `dominated by leaseDuration (${lease} s) by design`,
        underLoad: 'about the same: waits out the lease',
      },
      {
        id: 'failover.overlapMs',
        section: SECTION,
        label: 'two nodes forging at once (per run)',
        unit: 'ms',
        samples: overlap,
        target: { max: 0, source: 'the invariant' },
      },
    ];
  },
};

function forgingOnAfter(
  events: ReadonlyArray<{ event: string; ts: number; identity: string }>,
  sinceMs: number,
  notIdentity: string,
): number {
  const on = events.find((e) => e.event === 'forging-on' && e.ts >= sinceMs && e.identity !== notIdentity);
  if (on === undefined) throw new Error('bench: no forging-on event after the leader change');
  return on.ts;
}
