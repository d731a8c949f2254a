/**
 * Named scenarios, one per defect of issue 8: scripted fault sequences on the same simulated
 * world, checked against the same invariant (at most one node forges at every instant; one forges
 * within the liveness bound once faults stop) plus, where the defect is not about forging, the
 * scenario's own requirement.
 *
 * In every scenario pool-0 becomes the leader first (its node and sidecar start first) and forges
 * from about 11 s (the takeover grace after creating the Lease); pool-1 is the standby.
 */
import { failSafeTargetsFromSettings, layerFromText, type FailSafeTargets } from './framework.ts';
import { podSpec, runScenario, type FaultStep, type RunResult, type Scenario } from './scenario.ts';
import { LIVENESS_BOUND_MS, World, type SimPod } from './world.ts';

export interface DefectScenario {
  readonly id: string;
  readonly item: string;
  readonly title: string;
  build(world: World): Scenario;
}

const NODE = { nonProducingFlag: true, handlerDelayMs: 100, socketDelayMs: 1000 } as const;

function leaderAndStandby(world: World, extra = 0): Scenario['pods'] {
  return Array.from({ length: 2 + extra }, (_, i) =>
    podSpec(world, `pool-${i}`, { node: NODE, clockRate: 1 + (i % 2 === 0 ? 0.0005 : -0.0005) }),
  );
}

const STARTS = [
  { nodeAtMs: 0, sidecarAtMs: 0 },
  { nodeAtMs: 0, sidecarAtMs: 4000 },
  { nodeAtMs: 0, sidecarAtMs: 5000 },
];

export function scripted(
  world: World,
  name: string,
  faults: FaultStep[],
  options: Partial<Pick<Scenario, 'quietFromMs' | 'checkLiveness' | 'check' | 'setup'>> & {
    pods?: number;
  } = {},
): Scenario {
  const quietFromMs = options.quietFromMs ?? Math.max(20_000, ...faults.map((f) => f.atMs));
  return {
    name,
    pods: leaderAndStandby(world, (options.pods ?? 2) - 2),
    starts: STARTS,
    faults,
    quietFromMs,
    endMs: quietFromMs + LIVENESS_BOUND_MS + 5000,
    checkLiveness: options.checkLiveness ?? true,
    setup: (w) => {
      for (const p of w.pods) p.node.sighupDelayMs = () => 100;
      options.setup?.(w);
    },
    ...(options.check ? { check: options.check } : {}),
  };
}

const leader = (w: World): SimPod => w.pods[0]!;

/** The pod's forge.config.yaml after a bad edit: a tab indent makes it invalid YAML. */
const BROKEN_CONFIG = [
  'credentials:',
  '  source: { kesKey: /secrets/kes.skey, vrfKey: /secrets/vrf.skey, opCert: /secrets/node.cert }',
  '  target:',
  '    kesKey: /opt/cardano/keys/kes.skey',
  '    vrfKey: /opt/cardano/keys/vrf.skey',
  '    opCert: /opt/cardano/keys/node.cert',
  'node:',
  '\tsocketPath: /ipc/node.socket',
  '  metricsUrl: http://127.0.0.1:12798/metrics',
].join('\n');

/**
 * What the CLI's fail-safe resolves from that file: the real lenient text scan (layerFromText) and
 * failSafeTargetsFromSettings; the merge with the defaults mirrors config/lenient.ts
 * readFailSafeSettings (which reads the file from disk, outside the simulated world).
 */
function brokenConfigTargets(): FailSafeTargets {
  const layer = layerFromText(BROKEN_CONFIG);
  const defaults = [
    '/opt/cardano/secrets/kes.skey',
    '/opt/cardano/secrets/vrf.skey',
    '/opt/cardano/secrets/node.cert',
  ];
  return failSafeTargetsFromSettings({
    credentialTargets: [...new Set([...layer.targets, ...defaults])],
    socketPaths: [...new Set([...(layer.socketPath ? [layer.socketPath] : []), '/ipc/node.socket'])],
    processName: layer.processName ?? 'cardano-node',
    pidDiscovery: layer.pidDiscovery ?? 'socket',
    metricsUrl: layer.metricsUrl,
    notes: [],
  });
}

/** A crash-looping sidecar that cannot load its config: each start runs the CLI's fail-safe and exits. */
function brokenConfigLoop(w: World, p: SimPod, everyMs: number): void {
  p.killSidecar();
  const targets = brokenConfigTargets();
  const attempt = (): void => {
    w.sim.log(p.spec.label, 'sidecar starts with a broken forge.config.yaml (tab indent): fail-safe, exit 1');
    void p.failSafe(targets);
    w.sim.at(w.sim.world, everyMs, attempt);
  };
  attempt();
}

export const DEFECT_SCENARIOS: readonly DefectScenario[] = [
  {
    id: 'failsafe-forgets-config-paths',
    item: '1',
    title: 'a broken config file: the fail-safe falls back to env/default paths and leaves the node forging',
    build: (world) =>
      scripted(world, 'failsafe-forgets-config-paths', [
        {
          atMs: 25_000,
          what: 'pool-0 sidecar restarts with a broken config file and crash-loops',
          run: (w) => brokenConfigLoop(w, leader(w), 5000),
        },
      ]),
  },
  {
    id: 'unknown-node-state-counts-as-not-forging',
    item: '2',
    title: 'observe() times out (hung /proc, hung metrics): the leader releases without a SIGHUP',
    build: (world) =>
      scripted(world, 'unknown-node-state-counts-as-not-forging', [
        {
          atMs: 25_000,
          what: "pool-0's /proc reads hang (30 s) and its node's metrics stop answering",
          run: (w) => {
            leader(w).node.procHangMs = 30_000;
            leader(w).node.metricsHung = true;
          },
        },
        // A node that stays unobservable for ever keeps its pod's lease with nothing forging (the
        // stated residual risk): liveness is checked from its recovery on.
        {
          atMs: 60_000,
          what: "pool-0's /proc and node metrics answer again",
          run: (w) => {
            leader(w).node.procHangMs = 0;
            leader(w).node.metricsHung = false;
          },
        },
      ]),
  },
  {
    id: 'failed-revoke-then-sigterm',
    item: '3',
    title: 'read-only credential target (EROFS), then SIGTERM: the node keeps its keys while the lease moves',
    build: (world) =>
      scripted(world, 'failed-revoke-then-sigterm', [
        {
          atMs: 25_000,
          what: "pool-0's credential targets become read-only (EROFS)",
          run: (w) => void (leader(w).fs.targetFault = 'EROFS'),
        },
        { atMs: 26_000, what: 'SIGTERM pool-0 sidecar', run: (w) => leader(w).terminateSidecar() },
      ]),
  },
  {
    id: 'release-before-node-confirms',
    item: '4',
    title: 'a node slow to handle SIGHUP (3 s): the planned handoff releases before it stopped forging',
    build: (world) =>
      scripted(world, 'release-before-node-confirms', [
        {
          atMs: 24_000,
          what: "pool-0's node takes 3 s to act on SIGHUP",
          run: (w) => void (leader(w).node.sighupDelayMs = () => 3000),
        },
        { atMs: 25_000, what: 'SIGTERM pool-0 sidecar', run: (w) => leader(w).terminateSidecar() },
      ]),
  },
  {
    id: 'duplicate-pod-name',
    item: '5',
    title: 'a second sidecar with the same POD_NAME (pool deployed twice): both act as leader',
    build: (world) =>
      scripted(world, 'duplicate-pod-name', [
        {
          atMs: 20_000,
          what: 'a second pod named pool-0 (own node and disk) starts',
          run: (w) => {
            const twin = w.addPod(podSpec(w, 'pool-0', { label: 'pool-0-twin', node: NODE }));
            twin.node.sighupDelayMs = () => 100;
            twin.startNode();
            twin.startSidecar();
          },
        },
      ]),
  },
  {
    id: 'hand-edit-holder-to-standby',
    item: '6',
    title:
      'holderIdentity patched to the standby while the leader cannot reach the apiserver: the standby acts at once',
    build: (world) =>
      scripted(world, 'hand-edit-holder-to-standby', [
        {
          atMs: 24_900,
          what: 'pool-0 partitioned from the apiserver',
          run: (w) => w.api.setPartitioned('pool-0', true),
        },
        { atMs: 40_000, what: 'partition heals', run: (w) => w.api.setPartitioned('pool-0', false) },
        {
          atMs: 25_000,
          what: "kubectl edit: holderIdentity = pool-1's identity",
          run: (w) => {
            const standby = w.pods[1]!.sidecar?.elector.identity ?? 'pool-1';
            w.api.handEdit(`holderIdentity=${standby}`, (spec) => void (spec.holderIdentity = standby));
          },
        },
      ]),
  },
  {
    id: 'hand-edit-short-duration',
    item: '6',
    title: 'leaseDurationSeconds shortened to 1 while the leader cannot reach the apiserver',
    build: (world) =>
      scripted(world, 'hand-edit-short-duration', [
        {
          atMs: 24_100,
          what: 'pool-0 partitioned from the apiserver',
          run: (w) => w.api.setPartitioned('pool-0', true),
        },
        {
          atMs: 24_200,
          what: 'kubectl edit: leaseDurationSeconds = 1',
          run: (w) =>
            w.api.handEdit('leaseDurationSeconds=1', (spec) => void (spec.leaseDurationSeconds = 1)),
        },
        { atMs: 45_000, what: 'partition heals', run: (w) => w.api.setPartitioned('pool-0', false) },
      ]),
  },
  {
    id: 'takeover-grace-zero-margin',
    item: '7',
    title:
      "holder cleared by hand right after the leader's renew, leader partitioned: grace ends as the old leader fences",
    build: (world) =>
      scripted(world, 'takeover-grace-zero-margin', [
        {
          atMs: 20_000,
          what: 'pool-0 partitioned right after its next renew; holderIdentity cleared by hand; its node takes 800 ms per SIGHUP',
          run: (w) => {
            const apiserver = w.api;
            const rv = apiserver.lease?.metadata?.resourceVersion;
            const wait = (): void => {
              if (apiserver.lease?.metadata?.resourceVersion === rv) {
                w.sim.at(w.sim.world, 1, wait);
                return;
              }
              apiserver.setPartitioned('pool-0', true);
              apiserver.handEdit('holderIdentity=""', (spec) => void (spec.holderIdentity = ''));
              leader(w).node.sighupDelayMs = () => 800;
            };
            wait();
          },
        },
        { atMs: 45_000, what: 'partition heals', run: (w) => w.api.setPartitioned('pool-0', false) },
      ]),
  },
  {
    id: 'revocation-chain-over-budget',
    item: '8',
    title:
      'leader partitioned while /proc reads are slow: observe + revoke + signal, each within its timeout, overrun LD − RD together',
    build: (world) =>
      scripted(world, 'revocation-chain-over-budget', [
        {
          atMs: 24_000,
          what: "pool-0's /proc reads take 820 ms each (an observation 2.46 s, a PID lookup 1.64 s), its fsync 1 s (a revoke 1 s): each call within its 2.5 s timeout; its node takes 1 s per SIGHUP (the stated bound)",
          run: (w) => {
            leader(w).node.procHangMs = 820;
            leader(w).fs.fsyncDelayMs = 1000;
            leader(w).node.sighupDelayMs = () => 1000;
          },
        },
        {
          atMs: 25_000,
          what: 'pool-0 partitioned from the apiserver',
          run: (w) => w.api.setPartitioned('pool-0', true),
        },
        { atMs: 60_000, what: 'partition heals', run: (w) => w.api.setPartitioned('pool-0', false) },
      ]),
  },
  {
    id: 'leader-cannot-signal-node',
    item: '10',
    title: 'the leader cannot signal its node (EPERM): it keeps the lease while nothing forges',
    build: (world) =>
      scripted(world, 'leader-cannot-signal-node', [], {
        quietFromMs: 20_000,
        setup: (w) => void (leader(w).node.signalDenied = true),
      }),
  },
  {
    id: 'deleted-cluster-object-reenables',
    item: '10',
    title: 'a Disabled CardanoForgeCluster is deleted: it must not come back enabled',
    build: (world) =>
      scripted(
        world,
        'deleted-cluster-object-reenables',
        [
          {
            atMs: 25_000,
            what: 'operator sets spec.forgeState=Disabled',
            run: (w) => w.cluster?.setForgeState('Disabled'),
          },
          { atMs: 35_000, what: 'operator deletes the CardanoForgeCluster', run: (w) => w.cluster?.delete() },
        ],
        {
          checkLiveness: false,
          setup: (w) => {
            w.enableClusterManagement();
            w.sim.at(w.sim.world, 30_000, () => {
              const watchForging = (who: string, forging: boolean): void => {
                if (forging) w.requirementBroken(`${who} forges although the operator disabled the cluster`);
              };
              w.forgingListeners.push(watchForging);
            });
          },
        },
      ),
  },
  {
    id: 'sighup-before-handler',
    item: '11',
    title:
      'the node installs its SIGHUP handler 7 s after its socket is up; a sidecar starting in between must not kill it',
    build: (world) =>
      scripted(world, 'sighup-before-handler', [], {
        quietFromMs: 20_000,
        setup: (w) => {
          for (const p of w.pods) {
            p.nextNodeStart = { nonProducingFlag: true, handlerDelayMs: 8000, socketDelayMs: 1000 };
          }
        },
        check: (w) => {
          const killed = w.pods
            .filter((p) => p.node.killedBySighup > 0)
            .map((p) => `${p.spec.label} (${p.node.killedBySighup}×)`);
          return killed.length === 0
            ? null
            : `SIGHUP killed a node before it installed its handler: ${killed.join(', ')}`;
        },
      }),
  },
  {
    id: 'renewal-detected-by-wall-clock',
    item: '11',
    title:
      "the leader's wall clock stops: its renewals look like no change, the standby takes over a live lease",
    build: (world) =>
      scripted(world, 'renewal-detected-by-wall-clock', [
        {
          atMs: 20_000,
          what: "pool-0's wall clock stops advancing",
          run: (w) => void (leader(w).clock.wallStuckAtMs = leader(w).clock.wallNow().getTime()),
        },
      ]),
  },
];

/** Runs one named scenario on its fixed seed (verbose: the real code's log lines are in the timeline). */
export async function runDefect(scenario: DefectScenario, seed = 8): Promise<RunResult> {
  const world = new World(seed, true);
  return runScenario(world, scenario.build(world), seed);
}
