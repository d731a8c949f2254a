// The fault kinds, one function each, so a run can enable any subset (`--faults a,b,c`). A fault takes
// the locks of what it touches (or is skipped), injects, holds for a seeded duration, undoes what it
// can itself (SIGCONT, unmount, clear a delay) and releases its locks; exited containers are then
// restarted by the world's kubelet-like supervisor under the same pod name. Erasable TypeScript only.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostClockMs } from '../cardano-node-sim/events.ts';
import type { SeededRandom } from './prng.ts';
import type { ForgePod } from '../support/forge-pod.ts';
import { firstLine } from './world.ts';
import type { ChaosWorld } from './world.ts';

export interface FaultContext {
  readonly world: ChaosWorld;
  readonly rng: SeededRandom;
  /** Identities forging right now according to the event log. */
  forgers(): string[];
}

export interface FaultKind {
  readonly name: string;
  /** Relative frequency among the enabled kinds. */
  readonly weight: number;
  /** Off unless named in --faults: a known residual risk rather than a defect. */
  readonly optIn?: string;
  readonly describe: string;
  /** Returns false when its targets are busy (nothing was done). */
  run(ctx: FaultContext): Promise<boolean>;
}

/** The forging pod with probability pForger (faults on the leader find the interesting bugs), else any. */
function pickPod(ctx: FaultContext, pForger = 0.6): ForgePod {
  const forging = ctx.forgers();
  const leader = ctx.world.pods.find((p) => forging.includes(p.options.name));
  if (leader !== undefined && ctx.rng.chance(pForger)) return leader;
  return ctx.rng.pick(ctx.world.pods);
}

/** Held while the apiserver is stopped or frozen: no Lease can be renewed. */
const OUTAGE = 'apiserver-outage';

/**
 * A sidecar that dies or freezes without revoking leaves its node forging until it is back: the
 * residual risk of docs/safety.md §8, whose window is the restart time only if the Lease was renewed
 * recently. Right after an apiserver outage the holder's last renewal may be RD old and the window
 * shrinks to LD − RD, which no restart meets; so such faults wait until renewals have resumed for LD.
 */
function renewalsSettled(ctx: FaultContext): boolean {
  const { world } = ctx;
  return (
    !world.isLocked(OUTAGE) &&
    world.nowRel() - world.lastOutageEndRel > world.timings.leaseDuration * 1000 + 1000
  );
}

/** Runs body under the locks; false when they are taken or body found nothing to do. */
/**
 * A slow or frozen node is combined with a planned handoff, never with an apiserver outage or a
 * Lease edit: those make the leader fence on its own deadline, and the margin for the node to act on
 * the SIGHUP is then LD − RD (1 s with the short timings) — a node slower than that overlaps whatever
 * the sidecar does (the node SIGHUP-latency assumption of docs/safety.md). Slow-node faults take the
 * 'apiserver' lock that outages and Lease edits take too.
 */
const SLOW_NODE_EXCLUSIVE = 'apiserver';

async function withLocks(
  ctx: FaultContext,
  keys: string[],
  body: () => Promise<boolean | void>,
): Promise<boolean> {
  if (!ctx.world.tryLock(keys)) return false;
  try {
    return (await body()) !== false;
  } finally {
    ctx.world.unlock(keys);
  }
}

function forgingNote(ctx: FaultContext, pod: ForgePod): string {
  return ctx.forgers().includes(pod.options.name) ? ' (forging)' : '';
}

async function killSidecar(
  ctx: FaultContext,
  signal: 'SIGKILL' | 'SIGTERM',
  kind: string,
  downRange: [number, number],
): Promise<boolean> {
  const pod = pickPod(ctx);
  const name = pod.options.name;
  if (signal === 'SIGKILL' && !renewalsSettled(ctx)) return false;
  return withLocks(ctx, [`sidecar:${name}`], async () => {
    if (!ctx.world.sidecarSettled(pod)) return false;
    const downMs = ctx.rng.int(downRange[0], downRange[1]);
    ctx.world.record(kind, name, `${signal} sidecar pid ${pod.sidecar?.pid}${forgingNote(ctx, pod)}`);
    if (signal === 'SIGKILL') {
      ctx.world.sidecarGone(name);
      pod.killSidecar('SIGKILL');
      await pod.sidecarExit;
    } else {
      // kubelet's grace period, then SIGKILL.
      const code = await pod.stopSidecar(15_000);
      ctx.world.record(kind, name, `sidecar exited with ${String(code)}`);
    }
    await ctx.world.hold(downMs);
  });
}

async function signalNode(ctx: FaultContext, signal: 'SIGKILL' | 'SIGTERM', kind: string): Promise<boolean> {
  const pod = pickPod(ctx);
  const name = pod.options.name;
  return withLocks(ctx, [`node:${name}`], async () => {
    const node = pod.node;
    if (node === null || !node.isRunning()) return false;
    const downMs = ctx.rng.int(0, 4000);
    ctx.world.record(kind, name, `${signal} node pid ${node.pid}${forgingNote(ctx, pod)}`);
    if (signal === 'SIGKILL') node.kill('SIGKILL');
    else void node.stop(10_000);
    await node.exited;
    await ctx.world.hold(downMs);
  });
}

async function freeze(
  ctx: FaultContext,
  kind: string,
  container: 'sidecar' | 'node',
  range: [number, number],
): Promise<boolean> {
  const pod = pickPod(ctx);
  const name = pod.options.name;
  if (!renewalsSettled(ctx)) return false;
  // A frozen node's own sidecar is left alone too: any sidecar exit would have to fence through it.
  const keys =
    container === 'node' ? [`node:${name}`, `sidecar:${name}`, SLOW_NODE_EXCLUSIVE] : [`sidecar:${name}`];
  return withLocks(ctx, keys, async () => {
    const pid = container === 'sidecar' ? pod.sidecar?.pid : pod.node?.pid;
    const running = container === 'sidecar' ? ctx.world.sidecarSettled(pod) : ctx.world.nodeRunning(pod);
    if (!running) return false;
    const ms = ctx.rng.int(range[0], range[1]);
    if (container === 'sidecar') ctx.world.sidecarGone(name);
    if (!ctx.world.freeze(pid)) return false;
    ctx.world.record(kind, name, `SIGSTOP ${container} pid ${pid} for ${ms} ms${forgingNote(ctx, pod)}`);
    await ctx.world.hold(ms);
    ctx.world.thaw(pid);
    if (container === 'sidecar') ctx.world.sidecarBack(name);
    ctx.world.record(kind, name, `SIGCONT ${container} pid ${pid}`);
  });
}

/** The pod's LEASE_DURATION (its env, as the sidecar reads it). */
function leaseDurationOf(pod: ForgePod): number {
  return Number(pod.env()['LEASE_DURATION'] ?? 15);
}

const BROKEN_CONFIGS: ReadonlyArray<{
  what: string;
  env: (pod: ForgePod) => Promise<Record<string, string>>;
}> = [
  { what: 'LEASE_DURATION=abc', env: async () => ({ LEASE_DURATION: 'abc' }) },
  {
    what: 'RENEW_DEADLINE > LEASE_DURATION',
    env: async (pod) => ({ RENEW_DEADLINE: String(leaseDurationOf(pod) + 3) }),
  },
  {
    what: 'FORGE_CONFIG with a tab-indented YAML file',
    env: async (pod) => {
      const file = join(pod.options.workDir, 'broken.forge.config.yaml');
      await writeFile(file, 'election:\n\tleaseDurationSeconds: 4\n');
      return { FORGE_CONFIG: file };
    },
  },
];

export const FAULT_KINDS: readonly FaultKind[] = [
  {
    name: 'sigkill-sidecar',
    weight: 3,
    describe:
      'SIGKILL a sidecar; kubelet restarts it 0–0.5 s later (a crashed native sidecar is restarted at once)',
    run: (ctx) => killSidecar(ctx, 'SIGKILL', 'sigkill-sidecar', [0, 500]),
  },
  {
    name: 'sigkill-sidecar-stay-down',
    weight: 1,
    optIn:
      'a leader sidecar that is killed and stays dead past the lease leaves its node forging: docs/safety.md §8 residual risk (no dead-man switch in the node)',
    describe: 'SIGKILL a sidecar and keep it down for LD+1 .. LD+4 s',
    run: (ctx) => {
      const ld = ctx.world.timings.leaseDuration * 1000;
      return killSidecar(ctx, 'SIGKILL', 'sigkill-sidecar-stay-down', [ld + 1000, ld + 4000]);
    },
  },
  {
    name: 'sigterm-sidecar',
    weight: 3,
    describe: 'SIGTERM a sidecar (graceful, 15 s grace); restarted 0–3 s after it exits',
    run: (ctx) => killSidecar(ctx, 'SIGTERM', 'sigterm-sidecar', [0, 3000]),
  },
  {
    name: 'sigstop-sidecar',
    weight: 2,
    describe: 'freeze a sidecar for 0.3–2 s (below RD − RP, where a frozen leader can still fence itself)',
    run: (ctx) => freeze(ctx, 'sigstop-sidecar', 'sidecar', [300, 2000]),
  },
  {
    name: 'sigstop-sidecar-long',
    weight: 1,
    optIn:
      'a leader sidecar frozen past the lease with credentials loaded is a documented residual risk (docs/safety.md §8): nothing but the node itself could fence it',
    describe: 'freeze a sidecar for LD+1 .. LD+4 s',
    run: (ctx) => {
      const ld = ctx.world.timings.leaseDuration * 1000;
      return freeze(ctx, 'sigstop-sidecar-long', 'sidecar', [ld + 1000, ld + 4000]);
    },
  },
  {
    name: 'sigkill-node',
    weight: 2,
    describe: 'SIGKILL a node (stale socket left); restarted 0–4 s later',
    run: (ctx) => signalNode(ctx, 'SIGKILL', 'sigkill-node'),
  },
  {
    name: 'sigterm-node',
    weight: 1,
    describe: 'SIGTERM a node; restarted 0–4 s after it exits',
    run: (ctx) => signalNode(ctx, 'SIGTERM', 'sigterm-node'),
  },
  {
    name: 'sigstop-node',
    weight: 2,
    describe: 'freeze a node for 0.5–8 s (no metrics answers, SIGHUP handled only after SIGCONT)',
    run: (ctx) => freeze(ctx, 'sigstop-node', 'node', [500, 8000]),
  },
  {
    name: 'apiserver-stop',
    weight: 1,
    describe: 'stop kube-apiserver for 1–10 s, then start it again (same port)',
    run: (ctx) =>
      withLocks(ctx, ['apiserver', OUTAGE], async () => {
        const ms = ctx.rng.int(1000, 10_000);
        ctx.world.record('apiserver-stop', 'apiserver', `stop for ${ms} ms`);
        await ctx.world.controlPlane.stopApiserver();
        await ctx.world.hold(ms);
        if (ctx.world.stopping) return;
        await ctx.world.controlPlane.startApiserver();
        ctx.world.record('apiserver-stop', 'apiserver', 'started and ready');
      }),
  },
  {
    name: 'apiserver-freeze',
    weight: 1,
    describe: 'SIGSTOP kube-apiserver for 1–8 s (connections hang instead of failing)',
    run: (ctx) =>
      withLocks(ctx, ['apiserver', OUTAGE], async () => {
        const pid = ctx.world.controlPlane.processIds().kubeApiserver;
        const ms = ctx.rng.int(1000, 8000);
        if (!ctx.world.freeze(pid)) return false;
        ctx.world.record('apiserver-freeze', 'apiserver', `SIGSTOP pid ${pid} for ${ms} ms`);
        await ctx.world.hold(ms);
        ctx.world.thaw(pid);
        ctx.world.record('apiserver-freeze', 'apiserver', 'SIGCONT');
      }),
  },
  {
    name: 'readonly-target',
    weight: 2,
    describe:
      'make a credential target directory read-only (writes/unlinks fail) for 2–10 s; half the time SIGTERM that sidecar meanwhile',
    run: async (ctx) => {
      const pod = pickPod(ctx, 0.7);
      const name = pod.options.name;
      const alsoTerm = ctx.rng.chance(0.5);
      const keys = [`target:${name}`, ...(alsoTerm ? [`sidecar:${name}`] : [])];
      return withLocks(ctx, keys, async () => {
        const ms = ctx.rng.int(2000, 10_000);
        const termAfter = ctx.rng.int(0, Math.min(3000, ms));
        if (!(await ctx.world.makeReadOnly(pod.targetDir))) return false;
        try {
          ctx.world.record(
            'readonly-target',
            name,
            `target dir read-only (${ctx.world.readOnlyMethod}) for ${ms} ms${forgingNote(ctx, pod)}`,
          );
          if (alsoTerm && ctx.world.sidecarSettled(pod)) {
            await ctx.world.hold(termAfter);
            ctx.world.record(
              'readonly-target',
              name,
              `SIGTERM sidecar pid ${pod.sidecar?.pid} while read-only`,
            );
            const code = await pod.stopSidecar(15_000);
            ctx.world.record('readonly-target', name, `sidecar exited with ${String(code)}`);
            await ctx.world.hold(ms - termAfter);
          } else await ctx.world.hold(ms);
        } finally {
          await ctx.world.makeWritable(pod.targetDir);
          ctx.world.record('readonly-target', name, 'target dir writable again');
        }
      });
    },
  },
  {
    name: 'source-rotation',
    weight: 2,
    describe: 'Secret-style ..data symlink swap of the credential source to a new KES key and opcert',
    run: (ctx) =>
      withLocks(ctx, ['source'], async () => {
        await ctx.world.rotateSource('rotated by chaos');
        ctx.world.record(
          'source-rotation',
          'secret',
          '..data now points at a new generation (new KES, opcert)',
        );
      }),
  },
  {
    name: 'slow-sighup',
    weight: 2,
    describe:
      'the forging node handles SIGHUP 0.5–4 s late; 70 % of the time its sidecar is SIGTERMed meanwhile (planned handoff)',
    run: async (ctx) => {
      const pod = pickPod(ctx, 0.8);
      const name = pod.options.name;
      if (!renewalsSettled(ctx)) return false;
      return withLocks(ctx, [`node:${name}`, `sidecar:${name}`, SLOW_NODE_EXCLUSIVE], async () => {
        const node = pod.node;
        if (node === null || !node.isRunning()) return false;
        const delay = ctx.rng.int(500, 4000);
        const hold = ctx.rng.int(delay + 1000, delay + 6000);
        const term = ctx.rng.chance(0.7);
        await node.slowSighup(delay);
        ctx.world.record(
          'slow-sighup',
          name,
          `node pid ${node.pid} handles SIGHUP ${delay} ms late${forgingNote(ctx, pod)}`,
        );
        if (term && ctx.world.sidecarSettled(pod)) {
          ctx.world.record('slow-sighup', name, `SIGTERM sidecar pid ${pod.sidecar?.pid}`);
          const code = await pod.stopSidecar(15_000);
          ctx.world.record('slow-sighup', name, `sidecar exited with ${String(code)}`);
        }
        await ctx.world.hold(hold);
        if (node.isRunning()) await node.slowSighup(0).catch(() => undefined);
        ctx.world.record('slow-sighup', name, 'SIGHUP handling prompt again');
      });
    },
  },
  {
    name: 'lease-holder-edit',
    weight: 1,
    describe: 'hand-edit the Lease: holderIdentity set to another (standby) identity',
    run: (ctx) =>
      withLocks(ctx, ['apiserver'], async () => {
        let from = '';
        let to = '';
        await ctx.world.editLease((lease) => {
          from = lease.spec?.holderIdentity ?? '';
          const others = [...ctx.world.seenHolders, ...ctx.world.pods.map((p) => p.options.name)].filter(
            (h) => h !== from && h !== '',
          );
          to = ctx.rng.pick([...new Set(others)].sort());
          lease.spec = { ...lease.spec, holderIdentity: to };
        });
        ctx.world.record('lease-holder-edit', 'lease', `holderIdentity ${from || '(none)'} → ${to}`);
      }),
  },
  {
    name: 'lease-duration-edit',
    weight: 1,
    describe: 'hand-edit the Lease: leaseDurationSeconds shortened to 1',
    run: (ctx) =>
      withLocks(ctx, ['apiserver'], async () => {
        let was: number | undefined;
        await ctx.world.editLease((lease) => {
          was = lease.spec?.leaseDurationSeconds;
          lease.spec = { ...lease.spec, leaseDurationSeconds: 1 };
        });
        ctx.world.record('lease-duration-edit', 'lease', `leaseDurationSeconds ${String(was)} → 1`);
      }),
  },
  {
    name: 'lease-delete',
    weight: 1,
    describe: 'delete the Lease',
    run: (ctx) =>
      withLocks(ctx, ['apiserver'], async () => {
        await ctx.world.deleteLease();
        ctx.world.record('lease-delete', 'lease', 'deleted');
      }),
  },
  {
    name: 'config-breakage',
    weight: 2,
    describe:
      'SIGKILL a sidecar, restart it with a broken configuration (crash loop for 2–10 s), then with the fixed one',
    run: async (ctx) => {
      const pod = pickPod(ctx);
      const name = pod.options.name;
      if (!renewalsSettled(ctx)) return false;
      return withLocks(ctx, [`sidecar:${name}`], async () => {
        if (!ctx.world.sidecarSettled(pod)) return false;
        const broken = ctx.rng.pick(BROKEN_CONFIGS);
        const ms = ctx.rng.int(2000, 10_000);
        ctx.world.record(
          'config-breakage',
          name,
          `SIGKILL sidecar pid ${pod.sidecar?.pid}${forgingNote(ctx, pod)}; crash loop with ${broken.what} for ${ms} ms`,
        );
        ctx.world.sidecarGone(name);
        pod.killSidecar('SIGKILL');
        await pod.sidecarExit;
        const until = hostClockMs() + ms;
        while (!ctx.world.stopping && hostClockMs() < until) {
          const result = await ctx.world.runBrokenSidecar(pod, await broken.env(pod), 20_000);
          ctx.world.record(
            'config-breakage',
            name,
            `broken sidecar exited code=${String(result.code)} signal=${String(result.signal)}: ${result.firstError}`,
          );
          await ctx.world.hold(500);
        }
      });
    },
  },
];

export function faultByName(name: string): FaultKind | undefined {
  return FAULT_KINDS.find((f) => f.name === name);
}

export const DEFAULT_FAULTS: readonly string[] = FAULT_KINDS.filter((f) => f.optIn === undefined).map(
  (f) => f.name,
);

/** Parses `--faults a,b`; unknown names are an error that lists the known ones. */
export function parseFaultList(
  text: string | undefined,
): { ok: true; kinds: FaultKind[] } | { ok: false; message: string } {
  if (text === undefined || text.trim() === '' || text.trim() === 'default')
    return { ok: true, kinds: FAULT_KINDS.filter((f) => f.optIn === undefined) };
  if (text.trim() === 'all') return { ok: true, kinds: [...FAULT_KINDS] };
  const names = text
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const unknown = names.filter((n) => faultByName(n) === undefined);
  if (unknown.length > 0)
    return {
      ok: false,
      message: `--faults: unknown fault kind(s) ${unknown.join(', ')}; known: ${FAULT_KINDS.map((f) => f.name).join(', ')} (or "default", "all")`,
    };
  return { ok: true, kinds: names.map((n) => faultByName(n) as FaultKind) };
}

export { firstLine };
