// A real multi-member etcd cluster on loopback for tests, with links that tests can cut and heal.
// Every member listens on its own ports and advertises TCP proxies (test/support/tcp-proxy.ts) for
// both its peer and its client URL, so all traffic between members, and from clients, passes
// through a proxy. A member's peer proxy tells its callers apart by the process that opened the
// connection (socket-owner.ts: the caller's socket inode among the members' fds — exact on one
// host), which is what makes pairwise partitions possible although every member dials a peer at the
// peer's single advertised URL. Clients of different "regions" get their own proxies per member.
//
// Processes are the control plane's (test/controlplane): spawned with a log file, recorded in a run
// dir with a pid file, watched by a detached watchdog that stops them if the test runner dies, and
// stopped by PID only. Erasable-only TypeScript with `.ts` specifiers (runs under Node 24 directly).
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { connectingPid } from '../support/socket-owner.ts';
import { startTcpProxy, UNKNOWN_CALLER, type LinkMode, type TcpProxy } from '../support/tcp-proxy.ts';
import { createDataDir, REPO_ROOT, resolveBinDir } from '../controlplane/index.ts';
import {
  freeLoopbackPort,
  logTail,
  spawnLogged,
  spawnWatchdog,
  stopProcess,
  stopWatchdog,
  waitForHealthy,
  type RunningProcess,
} from '../controlplane/process.ts';
import {
  ETCD_BINARY,
  currentOwner,
  reapAbandonedRuns,
  removePid,
  writePid,
  writeState,
} from '../controlplane/state.ts';

export const DEFAULT_ETCD_RUN_ROOT = join(REPO_ROOT, '.forge-run', 'etcd-clusters');
const DEFAULT_START_TIMEOUT_MS = 60_000;
const PORT_CLASH_ATTEMPTS = 3;

export type CutMode = Exclude<LinkMode, 'pass'>;

export interface CutOptions {
  /** Default 'blackhole' (a dropped link); 'refuse' resets connections (a link that fails fast). */
  readonly mode?: CutMode;
  /** Only bytes from the first member to the second are held back (blackhole only). Default: both ways. */
  readonly oneWay?: boolean;
  /** Blackhole: reset the open connections too (new ones are held). 'refuse' always resets them. */
  readonly resetExisting?: boolean;
}

export interface EtcdMember {
  readonly name: string;
  /** Advertised client URL: through this member's default client proxy. */
  readonly clientUrl: string;
  /** Advertised peer URL: through this member's peer proxy. */
  readonly peerUrl: string;
  /** The member's own client listener, bypassing every proxy (for the harness's health checks). */
  readonly directClientUrl: string;
  readonly logFile: string;
  /** Removed by the cluster's stop(). */
  readonly dataDir: string;
  /** PID of the running process; undefined while stopped. */
  readonly pid: number | undefined;
  /** SIGTERM (etcd transfers leadership first when it leads), SIGKILL after a bound. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, no leadership transfer. */
  kill(): Promise<void>;
  /** SIGSTOP: the process freezes, its sockets stay open. */
  pause(): void;
  resume(): void;
  /** Stops it if running, starts it again on the same data dir and ports; waits for /health unless told not to. */
  restart(options?: { readonly waitForHealthy?: boolean }): Promise<void>;
}

/** Proxies of one client (a "region") to every member; cut them to cut that client off. */
export interface ClientLinks {
  readonly name: string;
  /** One URL per member, in member order. */
  readonly endpoints: readonly string[];
  /** resetExisting: see CutOptions. */
  cut(members: string | readonly string[], mode?: CutMode, resetExisting?: boolean): void;
  heal(members?: string | readonly string[]): void;
}

export interface EtcdCluster {
  readonly name: string;
  /** The advertised client URLs (the members' default client proxies). */
  readonly endpoints: readonly string[];
  readonly members: readonly EtcdMember[];
  readonly heartbeatMs: number;
  readonly electionMs: number;
  member(name: string): EtcdMember;
  /** Cuts the peer link between two members (both ways unless oneWay). */
  cut(a: string, b: string, options?: CutOptions): void;
  heal(a: string, b: string): void;
  /** Cuts `member` from every other member. */
  isolate(member: string, options?: CutOptions): void;
  /** Cuts every peer link between members of different groups; members not named form no group. */
  partition(groups: readonly (readonly string[])[], options?: CutOptions): void;
  /** Heals every peer link and every client link (of the default and of every clientLinks). */
  healAll(): void;
  /** Proxies to every member for one more client, cut independently of the others. */
  clientLinks(name: string): Promise<ClientLinks>;
  /** Name of the leader as `member` sees it (undefined: no leader, or the member does not answer in time). */
  leaderSeenBy(member: string, timeoutMs?: number): Promise<string | undefined>;
  /** Peer connections whose caller could not be identified (should stay 0: each one passes uncut). */
  unidentifiedPeerConnections(): number;
  stop(): Promise<void>;
}

export interface StartEtcdClusterOptions {
  readonly members?: number;
  readonly heartbeatMs?: number;
  readonly electionMs?: number;
  /** Default <repo>/.forge-run/etcd-clusters. */
  readonly runRoot?: string;
  readonly startTimeoutMs?: number;
}

interface MemberPorts {
  readonly peer: number;
  readonly client: number;
}

interface MemberRecord {
  readonly name: string;
  readonly runDir: string;
  readonly dataDir: string;
  readonly logFile: string;
  readonly peerProxy: TcpProxy;
  readonly clientProxy: TcpProxy;
  ports: MemberPorts;
  process: RunningProcess | undefined;
  paused: boolean;
  watchdogPid: number | undefined;
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

async function freePorts(): Promise<MemberPorts> {
  return { peer: await freeLoopbackPort(), client: await freeLoopbackPort() };
}

/** POST `{}` to etcd's gRPC gateway with a hard deadline; undefined on any failure. */
async function gatewayCall(baseUrl: string, path: string, timeoutMs: number): Promise<unknown> {
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      body: '{}',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return undefined;
    return (await response.json()) as unknown;
  } catch {
    return undefined;
  }
}

export async function startEtcdCluster(options: StartEtcdClusterOptions = {}): Promise<EtcdCluster> {
  const memberCount = options.members ?? 3;
  const heartbeatMs = options.heartbeatMs ?? 100;
  const electionMs = options.electionMs ?? 1_000;
  if (!Number.isInteger(memberCount) || memberCount < 1 || memberCount > 9) {
    throw new Error(`startEtcdCluster: members must be an integer from 1 to 9, got ${memberCount}`);
  }
  if (electionMs < 5 * heartbeatMs) {
    throw new Error(
      `startEtcdCluster: electionMs (${electionMs}) must be at least 5 × heartbeatMs (${heartbeatMs}), as etcd requires`,
    );
  }
  const timeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const runRoot = options.runRoot ?? DEFAULT_ETCD_RUN_ROOT;
  const clusterName = `etcd-${process.pid}-${randomBytes(3).toString('hex')}`;
  const binDir = await resolveBinDir();
  const binary = join(binDir, ETCD_BINARY);
  await mkdir(runRoot, { recursive: true });
  await reapAbandonedRuns(runRoot);

  const records: MemberRecord[] = [];
  const extraClientLinks: ClientLinks[] = [];
  const extraProxies: TcpProxy[] = [];
  const memberNames = Array.from({ length: memberCount }, (_, index) => `m${index + 1}`);
  const memberByPid = (pid: number): string | undefined =>
    records.find((record) => record.process?.pid === pid)?.name;
  const identifyMember = async (socket: Socket): Promise<string> => {
    const pids = records.flatMap((record) => (record.process === undefined ? [] : [record.process.pid]));
    const pid = await connectingPid(socket, pids);
    return (pid === undefined ? undefined : memberByPid(pid)) ?? UNKNOWN_CALLER;
  };
  const record = (name: string): MemberRecord => {
    const found = records.find((candidate) => candidate.name === name);
    if (found === undefined) {
      throw new Error(
        `etcd cluster ${clusterName}: no member ${JSON.stringify(name)} (have ${memberNames.join(', ')})`,
      );
    }
    return found;
  };
  const initialCluster = (): string =>
    records.map((member) => `${member.name}=http://${member.peerProxy.address}`).join(',');

  const launch = async (member: MemberRecord, clusterState: 'new' | 'existing'): Promise<RunningProcess> => {
    const proc = spawnLogged({
      binary,
      args: [
        `--name=${member.name}`,
        `--data-dir=${member.dataDir}`,
        `--listen-peer-urls=http://127.0.0.1:${member.ports.peer}`,
        `--initial-advertise-peer-urls=http://${member.peerProxy.address}`,
        `--listen-client-urls=http://127.0.0.1:${member.ports.client}`,
        `--advertise-client-urls=http://${member.clientProxy.address}`,
        `--initial-cluster=${initialCluster()}`,
        `--initial-cluster-state=${clusterState}`,
        `--initial-cluster-token=${clusterName}`,
        `--heartbeat-interval=${heartbeatMs}`,
        `--election-timeout=${electionMs}`,
        '--logger=zap',
        '--log-level=info',
        '--unsafe-no-fsync=true',
      ],
      logFile: member.logFile,
      detached: false,
    });
    member.process = proc;
    member.paused = false;
    await writePid(member.runDir, ETCD_BINARY, proc.pid);
    return proc;
  };
  const waitHealthy = async (member: MemberRecord): Promise<void> => {
    if (member.process === undefined) throw new Error(`etcd member ${member.name} is not running`);
    await waitForHealthy({
      what: `etcd member ${member.name}`,
      url: `http://127.0.0.1:${member.ports.client}/health`,
      tls: undefined,
      process: member.process,
      logFile: member.logFile,
      timeoutMs,
    });
  };
  const stopMember = async (member: MemberRecord, how: 'graceful' | 'kill'): Promise<void> => {
    const proc = member.process;
    if (proc === undefined) return;
    if (how === 'kill') {
      if (!proc.hasExited()) signalPid(proc.pid, 'SIGKILL');
      await proc.exited;
    } else {
      // A stopped process would only act on SIGTERM after SIGCONT.
      if (member.paused && !proc.hasExited()) signalPid(proc.pid, 'SIGCONT');
      await stopProcess(proc);
    }
    member.process = undefined;
    member.paused = false;
    await removePid(member.runDir, ETCD_BINARY);
  };
  const destroyMember = async (member: MemberRecord): Promise<void> => {
    // Data is thrown away: no need for a graceful stop (which transfers leadership first).
    await stopMember(member, 'kill');
    await member.peerProxy.close();
    await member.clientProxy.close();
    await rm(member.dataDir, { recursive: true, force: true });
    await rm(member.runDir, { recursive: true, force: true });
    if (member.watchdogPid !== undefined) stopWatchdog(member.watchdogPid);
  };

  const stopAll = async (): Promise<void> => {
    await Promise.all(records.map((member) => destroyMember(member)));
    await Promise.all(extraProxies.map((proxy) => proxy.close()));
  };

  try {
    for (const name of memberNames) {
      const runDir = join(runRoot, `${clusterName}-${name}`);
      await mkdir(runDir, { recursive: true, mode: 0o700 });
      const dataDir = await createDataDir(`${clusterName}-${name}`);
      const ports = await freePorts();
      const member: MemberRecord = {
        name,
        runDir,
        dataDir,
        logFile: join(runDir, 'etcd.log'),
        ports,
        peerProxy: await startTcpProxy({
          target: { host: '127.0.0.1', port: ports.peer },
          identifyCaller: identifyMember,
        }),
        clientProxy: await startTcpProxy({ target: { host: '127.0.0.1', port: ports.client } }),
        process: undefined,
        paused: false,
        watchdogPid: undefined,
      };
      records.push(member);
      await writeState({ name: `${clusterName}-${name}`, runDir, binDir, dataDir, owner: currentOwner() });
      // Before the process starts: from here on a crash of this runner is cleaned up.
      member.watchdogPid = spawnWatchdog({ ownerPid: process.pid, runDir, binDir, dataDir });
    }
    for (let attempt = 1; ; attempt += 1) {
      for (const member of records) await launch(member, 'new');
      try {
        await Promise.all(records.map((member) => waitHealthy(member)));
        break;
      } catch (error) {
        const clash = (
          await Promise.all(
            records.map(async (member) =>
              (await logTail(member.logFile, 200)).includes('address already in use'),
            ),
          )
        ).some(Boolean);
        await Promise.all(records.map((member) => stopMember(member, 'kill')));
        // Another process may take a probed port before etcd binds it: start over on fresh ports.
        if (!clash || attempt >= PORT_CLASH_ATTEMPTS) throw error;
        for (const member of records) {
          await rm(member.dataDir, { recursive: true, force: true });
          await mkdir(member.dataDir, { recursive: true });
          member.ports = await freePorts();
          member.peerProxy.retarget({ host: '127.0.0.1', port: member.ports.peer });
          member.clientProxy.retarget({ host: '127.0.0.1', port: member.ports.client });
        }
      }
    }
  } catch (error) {
    await stopAll();
    throw error;
  }

  const peerLink = (
    from: string,
    to: string,
    mode: LinkMode,
    oneWay: boolean,
    resetExisting = false,
  ): void => {
    if (from === to) return;
    if (oneWay && mode === 'refuse') {
      throw new Error(
        `etcd cluster: a one-way cut must be mode 'blackhole' ('refuse' resets whole connections)`,
      );
    }
    // Connections `from` dialed to `to` carry from→to bytes toward the target; those `to` dialed to
    // `from` carry them back from the target.
    record(to).peerProxy.set(mode, { caller: from, direction: oneWay ? 'toTarget' : 'both', resetExisting });
    record(from).peerProxy.set(mode, {
      caller: to,
      direction: oneWay ? 'fromTarget' : 'both',
      resetExisting,
    });
  };
  const cut = (a: string, b: string, cutOptions: CutOptions = {}): void =>
    peerLink(
      a,
      b,
      cutOptions.mode ?? 'blackhole',
      cutOptions.oneWay ?? false,
      cutOptions.resetExisting ?? false,
    );
  const heal = (a: string, b: string): void => peerLink(a, b, 'pass', false);

  const members: EtcdMember[] = records.map((member) => ({
    name: member.name,
    clientUrl: `http://${member.clientProxy.address}`,
    peerUrl: `http://${member.peerProxy.address}`,
    get directClientUrl() {
      return `http://127.0.0.1:${member.ports.client}`;
    },
    logFile: member.logFile,
    dataDir: member.dataDir,
    get pid() {
      return member.process === undefined || member.process.hasExited() ? undefined : member.process.pid;
    },
    stop: () => stopMember(member, 'graceful'),
    kill: () => stopMember(member, 'kill'),
    pause() {
      if (member.process === undefined || member.process.hasExited()) {
        throw new Error(`etcd member ${member.name} is not running`);
      }
      signalPid(member.process.pid, 'SIGSTOP');
      member.paused = true;
    },
    resume() {
      if (member.process === undefined || member.process.hasExited()) return;
      signalPid(member.process.pid, 'SIGCONT');
      member.paused = false;
    },
    async restart(restartOptions = {}) {
      await stopMember(member, 'graceful');
      await launch(member, 'existing');
      if (restartOptions.waitForHealthy ?? true) await waitHealthy(member);
    },
  }));

  const defaultClientLinks: ClientLinks = makeClientLinks(
    'advertised',
    memberNames,
    records.map((member) => member.clientProxy),
  );

  let stopped = false;
  return {
    name: clusterName,
    endpoints: members.map((member) => member.clientUrl),
    members,
    heartbeatMs,
    electionMs,
    member(name) {
      record(name);
      const found = members.find((member) => member.name === name);
      if (found === undefined) throw new Error(`no member ${name}`);
      return found;
    },
    cut,
    heal,
    isolate(name, cutOptions) {
      for (const other of memberNames) if (other !== name) cut(name, other, cutOptions);
    },
    partition(groups, cutOptions) {
      const groupOf = new Map<string, number>();
      groups.forEach((group, index) => {
        for (const name of group) {
          record(name);
          groupOf.set(name, index);
        }
      });
      for (const [a, groupA] of groupOf) {
        for (const [b, groupB] of groupOf) if (a < b && groupA !== groupB) cut(a, b, cutOptions);
      }
    },
    healAll() {
      for (const member of records) member.peerProxy.heal();
      defaultClientLinks.heal();
      for (const links of extraClientLinks) links.heal();
    },
    async clientLinks(name) {
      const proxies: TcpProxy[] = [];
      for (const member of records) {
        proxies.push(await startTcpProxy({ target: { host: '127.0.0.1', port: member.ports.client } }));
      }
      extraProxies.push(...proxies);
      const links = makeClientLinks(name, memberNames, proxies);
      extraClientLinks.push(links);
      return links;
    },
    async leaderSeenBy(name, timeoutMs = 2_000) {
      const member = record(name);
      const base = `http://127.0.0.1:${member.ports.client}`;
      const status = (await gatewayCall(base, '/v3/maintenance/status', timeoutMs)) as
        { leader?: string; header?: { member_id?: string } } | undefined;
      if (status?.leader === undefined || status.leader === '0') return undefined;
      const list = (await gatewayCall(base, '/v3/cluster/member/list', timeoutMs)) as
        { members?: { ID?: string; name?: string }[] } | undefined;
      return list?.members?.find((candidate) => candidate.ID === status.leader)?.name;
    },
    unidentifiedPeerConnections() {
      return records.reduce(
        (sum, member) => sum + (member.peerProxy.connectionsByCaller().get(UNKNOWN_CALLER) ?? 0),
        0,
      );
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopAll();
    },
  };
}

function makeClientLinks(
  name: string,
  memberNames: readonly string[],
  proxies: readonly TcpProxy[],
): ClientLinks {
  const proxyOf = (member: string): TcpProxy => {
    const index = memberNames.indexOf(member);
    const proxy = proxies[index];
    if (proxy === undefined) {
      throw new Error(
        `client links ${name}: no member ${JSON.stringify(member)} (have ${memberNames.join(', ')})`,
      );
    }
    return proxy;
  };
  const list = (members: string | readonly string[] | undefined): readonly string[] =>
    members === undefined ? memberNames : typeof members === 'string' ? [members] : members;
  return {
    name,
    endpoints: proxies.map((proxy) => `http://${proxy.address}`),
    cut(members, mode = 'blackhole', resetExisting = false) {
      for (const member of list(members)) proxyOf(member).set(mode, { resetExisting });
    },
    heal(members) {
      for (const member of list(members)) proxyOf(member).heal();
    },
  };
}
