// Three (or two) real regions of one stake pool for the cross-region end-to-end test and the lab:
//  - one real 3-member etcd cluster (test/etcd/cluster.ts: the control plane's etcd binary), member i
//    "in" region i, with TCP proxies between members and, per region, proxies to every member
//    (cluster.clientLinks(region)) so a test can cut a region off from any member;
//  - per region one real kube-apiserver with its own backing etcd (test/controlplane, a separate
//    instance per region), a namespace, the CRDs, and the region's CardanoForgeCluster (created by
//    its sidecars with CLUSTER_PRIORITY 1/2/3);
//  - per region two pods: a real `forge-manager run` (the built CLI) beside a simulated cardano-node,
//    cluster management on, and an HTTP health probe against the region's controllable endpoint.
// All six simulated nodes write one event log: overlap and handoff times come from it alone.
// Every process is stopped by its own PID; a crashed runner is cleaned up by the watchdogs of the
// control planes, of the etcd cluster and of test/regions/reaper.ts (sidecars, nodes, work dir).
// Erasable-only TypeScript with `.ts` specifiers (the lab runs it under Node 24 directly).
import {
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFakeCredentials } from '../cardano-node-sim/credentials.ts';
import { readEvents, type SimEvent } from '../cardano-node-sim/events.ts';
import { computeOverlap, type OverlapReport } from '../cardano-node-sim/overlap.ts';
import { startControlPlane, type ControlPlane } from '../controlplane/index.ts';
import { startEtcdCluster, type ClientLinks, type EtcdCluster, type EtcdMember } from '../etcd/cluster.ts';
import { ForgePod } from '../support/forge-pod.ts';
import { startHealthEndpoint, type HealthEndpoint } from './health-endpoint.ts';
import { startReaper, type ProcessReaper } from './reaper.ts';
import { regionOfIdentity } from './timeline.ts';

export const REGIONS_NAMESPACE = 'cardano-regions';
export const REGIONS_POOL_ID = 'pool1rgns0000000000000000000000000000000000000000000000';
export const REGIONS_LEASE_NAME = 'cardano-node-leader';
const CRD = { group: 'cardano.io', version: 'v1', plural: 'cardanoforgeclusters' } as const;

export interface RegionSpec {
  /** Lower-case letters only: pod identities are `<region>-bp-<i>`. */
  readonly name: string;
  readonly priority: number;
}

export const DEFAULT_REGIONS: readonly RegionSpec[] = [
  { name: 'eu', priority: 1 },
  { name: 'us', priority: 2 },
  { name: 'ap', priority: 3 },
];

export interface SidecarTimings {
  readonly leaseDuration: number;
  readonly renewDeadline: number;
  readonly retryPeriod: number;
  readonly interval?: number;
}

/** What a region's sidecars need to reach the arbiter. */
export interface ArbiterContext {
  readonly region: string;
  /** Client URLs through this region's own proxies, one per etcd member (its local member first). */
  readonly endpoints: readonly string[];
  /** The etcd cluster's --election-timeout (ms), which the arbiter's fencing margin must cover. */
  readonly electionTimeoutMs: number;
}

export interface ArbiterSetup {
  readonly env?: Record<string, string>;
  readonly configYaml?: string;
}

export interface StartRegionsOptions {
  readonly regions?: readonly RegionSpec[];
  readonly replicas?: number;
  readonly timings?: SidecarTimings;
  /**
   * The arbiter's configuration for a region's sidecars: environment variables and/or a config
   * file (YAML, written to the region's directory and named by FORGE_CONFIG).
   */
  readonly arbiter: (context: ArbiterContext) => ArbiterSetup;
  readonly etcd?: { readonly heartbeatMs?: number; readonly electionMs?: number };
  /** The HTTP health probe: every interval, demoted after failureThreshold failures (default 1 s, 1, 1). */
  readonly health?: {
    readonly intervalSeconds?: number;
    readonly failureThreshold?: number;
    readonly recoveryThreshold?: number;
  };
  readonly logLevel?: string;
  /** Progress lines (startup steps); default silent. */
  readonly log?: (line: string) => void;
}

export interface Region {
  readonly name: string;
  readonly priority: number;
  readonly controlPlane: ControlPlane;
  /** The etcd member that lives in this region. */
  readonly member: EtcdMember;
  /** This region's client links to every etcd member. */
  readonly links: ClientLinks;
  readonly health: HealthEndpoint;
  readonly pods: readonly ForgePod[];
  kubeConfig(): KubeConfig;
  /** Name of the region's CardanoForgeCluster (created by its sidecars); waits for it. */
  clusterName(): Promise<string>;
  readCluster(): Promise<{ spec?: Record<string, unknown>; status?: Record<string, unknown> }>;
  /** `kubectl patch cfc <name> --type merge -p '{"spec": …}'` on this region's apiserver. */
  patchClusterSpec(spec: Record<string, unknown>): Promise<void>;
  /** Starts the region's pods (sidecar, startup credentials, node) that are not running. */
  startPods(): Promise<void>;
  /** SIGKILL every sidecar and node of the region by PID (a lost region: no graceful anything). */
  killPods(): Promise<void>;
}

export interface Regions {
  readonly etcd: EtcdCluster;
  readonly regions: readonly Region[];
  readonly eventLog: string;
  readonly dir: string;
  region(name: string): Region;
  allPods(): ForgePod[];
  /** Pods whose node reports forging (its own metric); a node whose metric fails is listed in `unknown`. */
  observeForgers(): Promise<{ forging: ForgePod[]; unknown: ForgePod[] }>;
  /** Exactly one node forges across every region, in `region` (any pod of it). */
  waitForForgerIn(region: string, timeoutMs: number): Promise<ForgePod>;
  /** No node of any region forges (and none is unknown). */
  waitForNoForger(timeoutMs: number): Promise<void>;
  events(): Promise<SimEvent[]>;
  overlap(): Promise<OverlapReport>;
  /** Tracks a process started later (a restarted sidecar or node) for crash cleanup. */
  trackPods(): Promise<void>;
  /** Copies the etcd members' and apiservers' logs into `dir`/logs (before stop() removes them). */
  collectLogs(): Promise<string>;
  stop(options?: { readonly keepDir?: boolean }): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(everyMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError === undefined ? '' : `: ${String(lastError)}`}`,
  );
}

function isRunning(pod: ForgePod): boolean {
  return pod.sidecar !== null && pod.sidecar.exitCode === null && pod.sidecar.signalCode === null;
}

export async function startRegions(options: StartRegionsOptions): Promise<Regions> {
  const specs = options.regions ?? DEFAULT_REGIONS;
  const replicas = options.replicas ?? 2;
  const log = options.log ?? (() => undefined);
  if (specs.length < 2 || specs.length > 3)
    throw new Error(`startRegions: 2 or 3 regions, got ${specs.length}`);
  for (const spec of specs) {
    if (!/^[a-z]+$/.test(spec.name))
      throw new Error(`startRegions: region name ${JSON.stringify(spec.name)} must be lower-case letters`);
  }
  const timings = options.timings ?? { leaseDuration: 6, renewDeadline: 3, retryPeriod: 1 };
  const tag = `${process.pid}-${randomBytes(2).toString('hex')}`;
  const dir = await mkdtemp(join(tmpdir(), 'forge-regions-'));
  const reaper: ProcessReaper = await startReaper(`regions-${tag}`, dir);
  const controlPlanes: ControlPlane[] = [];
  const healths: HealthEndpoint[] = [];
  const pods: ForgePod[] = [];
  let etcd: EtcdCluster | undefined;

  const stopEverything = async (): Promise<void> => {
    await Promise.all(pods.map((pod) => pod.dispose().catch(() => undefined)));
    await Promise.all(healths.map((health) => health.close().catch(() => undefined)));
    await Promise.all(controlPlanes.map((cp) => cp.stop().catch(() => undefined)));
    await etcd?.stop().catch(() => undefined);
  };

  try {
    const begin = performance.now();
    // One at a time would triple the startup; all at once is what a 2-core machine can take.
    const started = await Promise.all([
      startEtcdCluster({
        members: 3,
        heartbeatMs: options.etcd?.heartbeatMs ?? 100,
        electionMs: options.etcd?.electionMs ?? 1_000,
      }),
      ...specs.map((spec) => startControlPlane({ name: `regions-${spec.name}-${tag}` })),
    ]);
    etcd = started[0] as EtcdCluster;
    controlPlanes.push(...(started.slice(1) as ControlPlane[]));
    log(
      `[regions] etcd (3 members) and ${specs.length} kube-apiservers ready in ${Math.round(performance.now() - begin)} ms`,
    );
    const cluster = etcd;

    const sourceDir = join(dir, 'secrets');
    await writeFakeCredentials(sourceDir); // one pool: the same keys in every region
    const eventLog = join(dir, 'events.jsonl');

    const regions: Region[] = [];
    for (const [index, spec] of specs.entries()) {
      const controlPlane = controlPlanes[index] as ControlPlane;
      const member = cluster.members[index] as EtcdMember;
      const links = await cluster.clientLinks(spec.name);
      const health = await startHealthEndpoint();
      healths.push(health);
      await controlPlane
        .kubeConfig()
        .makeApiClient(CoreV1Api)
        .createNamespace({ body: { metadata: { name: REGIONS_NAMESPACE } } });
      // The local member first: what an SPO lists first in a region.
      const endpoints = [links.endpoints[index] as string, ...links.endpoints.filter((_, i) => i !== index)];
      const arbiter = options.arbiter({
        region: spec.name,
        endpoints,
        electionTimeoutMs: cluster.electionMs,
      });
      const configEnv: Record<string, string> = {};
      if (arbiter.configYaml !== undefined) {
        const configFile = join(dir, `forge-${spec.name}.yaml`);
        await writeFile(configFile, arbiter.configYaml);
        configEnv.FORGE_CONFIG = configFile;
      }
      const regionPods: ForgePod[] = [];
      for (let i = 0; i < replicas; i++) {
        const name = `${spec.name}-bp-${i}`;
        regionPods.push(
          new ForgePod({
            name,
            namespace: REGIONS_NAMESPACE,
            kubeconfigPath: controlPlane.kubeconfigPath,
            pool: 'pool1regions',
            sourceDir,
            eventLog,
            workDir: join(dir, name),
            leaseName: REGIONS_LEASE_NAME,
            timings,
            extraEnv: {
              LOG_LEVEL: options.logLevel ?? 'debug',
              POOL_ID: REGIONS_POOL_ID,
              POOL_TICKER: 'RGNS',
              ENABLE_CLUSTER_MANAGEMENT: 'true',
              CLUSTER_REGION: spec.name,
              CLUSTER_PRIORITY: String(spec.priority),
              HEALTH_CHECK_ENDPOINT: health.url,
              HEALTH_CHECK_INTERVAL: String(options.health?.intervalSeconds ?? 1),
              HEALTH_CHECK_TIMEOUT: '1',
              HEALTH_CHECK_FAILURE_THRESHOLD: String(options.health?.failureThreshold ?? 1),
              HEALTH_CHECK_RECOVERY_THRESHOLD: String(options.health?.recoveryThreshold ?? 1),
              ...configEnv,
              ...arbiter.env,
            },
          }),
        );
      }
      pods.push(...regionPods);
      const kubeConfig = (): KubeConfig => controlPlane.kubeConfig();
      let knownClusterName: string | undefined;
      const clusterName = async (): Promise<string> => {
        if (knownClusterName !== undefined) return knownClusterName;
        const api = kubeConfig().makeApiClient(CustomObjectsApi);
        knownClusterName = await waitUntil(
          `the CardanoForgeCluster of region ${spec.name}`,
          async () => {
            const list = (await api.listNamespacedCustomObject({
              ...CRD,
              namespace: REGIONS_NAMESPACE,
            })) as { items?: { metadata?: { name?: string } }[] };
            return list.items?.[0]?.metadata?.name;
          },
          60_000,
          250,
        );
        return knownClusterName;
      };
      regions.push({
        name: spec.name,
        priority: spec.priority,
        controlPlane,
        member,
        links,
        health,
        pods: regionPods,
        kubeConfig,
        clusterName,
        async readCluster() {
          const name = await clusterName();
          return (await kubeConfig()
            .makeApiClient(CustomObjectsApi)
            .getNamespacedCustomObject({ ...CRD, namespace: REGIONS_NAMESPACE, name })) as {
            spec?: Record<string, unknown>;
            status?: Record<string, unknown>;
          };
        },
        async patchClusterSpec(patch) {
          const name = await clusterName();
          await kubeConfig()
            .makeApiClient(CustomObjectsApi)
            .patchNamespacedCustomObject(
              { ...CRD, namespace: REGIONS_NAMESPACE, name, body: { spec: patch } },
              setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
            );
        },
        async startPods() {
          await Promise.all(
            regionPods.map(async (pod) => {
              if (!isRunning(pod)) {
                await pod.startSidecar();
                await reaper.track(pod.sidecar?.pid ?? 0);
                await pod.waitStartupReady(60_000);
              }
              if (!(pod.node?.isRunning() ?? false)) {
                await pod.startNode();
                await reaper.track(pod.node?.pid ?? 0);
              }
            }),
          );
        },
        async killPods() {
          await Promise.all(
            regionPods.map(async (pod) => {
              pod.killSidecar('SIGKILL');
              pod.node?.kill('SIGKILL');
              await pod.sidecarExit;
              await pod.node?.exited;
            }),
          );
        },
      });
    }

    const beginPods = performance.now();
    // Region by region: six Node processes starting at once on 2 loaded cores miss ForgePod's 30 s.
    for (const region of regions) await region.startPods();
    log(
      `[regions] ${pods.length} pods (forge-manager + simulated node) started in ${Math.round(performance.now() - beginPods)} ms`,
    );

    const observeForgers = async (): Promise<{ forging: ForgePod[]; unknown: ForgePod[] }> => {
      const states = await Promise.all(
        pods.map(async (pod) => {
          if (!(pod.node?.isRunning() ?? false)) return false;
          const metrics = await pod.node?.metrics(1_500).catch(() => null);
          return metrics === null || metrics === undefined ? null : metrics.forgingEnabled;
        }),
      );
      return {
        forging: pods.filter((_, i) => states[i] === true),
        unknown: pods.filter((_, i) => states[i] === null),
      };
    };

    return {
      etcd: cluster,
      regions,
      eventLog,
      dir,
      region(name) {
        const found = regions.find((region) => region.name === name);
        if (found === undefined)
          throw new Error(`no region ${name} (have ${specs.map((s) => s.name).join(', ')})`);
        return found;
      },
      allPods: () => [...pods],
      observeForgers,
      waitForForgerIn(region, timeoutMs) {
        return waitUntil(
          `exactly one forging node, in region ${region}`,
          async () => {
            const { forging, unknown } = await observeForgers();
            const only = forging[0];
            return forging.length === 1 &&
              unknown.length === 0 &&
              only !== undefined &&
              regionOfIdentity(only.options.name) === region
              ? only
              : undefined;
          },
          timeoutMs,
        );
      },
      async waitForNoForger(timeoutMs) {
        await waitUntil(
          'no forging node in any region',
          async () => {
            const { forging, unknown } = await observeForgers();
            return forging.length === 0 && unknown.length === 0 ? true : undefined;
          },
          timeoutMs,
        );
      },
      events: () => readEvents([eventLog]),
      async overlap() {
        return computeOverlap(await readEvents([eventLog]));
      },
      async trackPods() {
        for (const pod of pods) {
          if (pod.sidecar?.pid !== undefined && isRunning(pod)) await reaper.track(pod.sidecar.pid);
          if (pod.node?.isRunning() ?? false) await reaper.track(pod.node?.pid ?? 0);
        }
      },
      async collectLogs() {
        const logs = join(dir, 'logs');
        await mkdir(logs, { recursive: true });
        for (const member of cluster.members) {
          await copyFile(member.logFile, join(logs, `etcd-${member.name}.log`)).catch(() => undefined);
        }
        for (const [index, cp] of controlPlanes.entries()) {
          const region = specs[index]?.name ?? String(index);
          await copyFile(
            join(cp.dir, 'kube-apiserver.log'),
            join(logs, `kube-apiserver-${region}.log`),
          ).catch(() => undefined);
        }
        return dir;
      },
      async stop(stopOptions = {}) {
        await stopEverything();
        await reaper.close();
        if (stopOptions.keepDir !== true) await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopEverything();
    await reaper.close();
    // FORGE_KEEP_TEST_DIRS=1 keeps the sidecar logs of a failed start.
    if (process.env.FORGE_KEEP_TEST_DIRS === undefined) await rm(dir, { recursive: true, force: true });
    else log(`[regions] start failed; kept ${dir}`);
    throw error;
  }
}
