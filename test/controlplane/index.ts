// A real kube-apiserver + etcd on loopback for tests, set up the way controller-runtime's envtest
// does it (see docs/testing.md, "Control plane"). Runs under vitest and directly under Node 24,
// hence erasable-only TypeScript and `.ts` import specifiers in this folder.
import { KubeConfig } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { installCrds } from './crds.ts';
import { generatePki, loadAdminTls, renderKubeconfig, type ClientTls, type Pki } from './pki.ts';
import {
  freeLoopbackPort,
  logTail,
  spawnLogged,
  spawnWatchdog,
  stopProcess,
  stopWatchdog,
  waitForHealthy,
  type RunningProcess,
} from './process.ts';
import {
  APISERVER_BINARY,
  ETCD_BINARY,
  currentOwner,
  destroyRecorded,
  reapAbandonedRuns,
  recordedStatus,
  removePid,
  writePid,
  writeState,
  type ControlPlaneState,
} from './state.ts';

export { installCrds } from './crds.ts';

const run = promisify(execFile);

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_RUN_ROOT = join(REPO_ROOT, '.forge-run', 'controlplane');
export const DEFAULT_CRD_DIR = join(REPO_ROOT, 'deploy', 'crds');
const BUILD_SCRIPT = join(REPO_ROOT, 'test', 'controlplane', 'build.sh');
// envtest's 20 s default flakes under load; these machines have 2 shared cores.
const DEFAULT_START_TIMEOUT_MS = 120_000;
const PORT_CLASH_ATTEMPTS = 3;
/**
 * The one namespace the apiserver writes an audit log for (every request in it, metadata only).
 * The chart's RBAC test runs the sidecar there to learn which verbs it actually uses; nothing else
 * is logged, so the log costs the other tests nothing. Namespaces are never reused in one run.
 */
export const AUDITED_NAMESPACE = 'forge-rbac-audit';
const auditPolicy = (namespaces: readonly string[]): string =>
  [
    'apiVersion: audit.k8s.io/v1',
    'kind: Policy',
    'omitStages: [RequestReceived]',
    'rules:',
    '  - level: Metadata',
    `    namespaces: [${namespaces.join(', ')}]`,
    '  - level: None',
    '',
  ].join('\n');

export interface ControlPlaneVersions {
  kubeApiserver: string;
  etcd: string;
}

export interface ControlPlaneStartup {
  readonly pkiMs: number;
  readonly etcdReadyMs: number;
  /** From spawning kube-apiserver to /readyz 200 and namespace `default` present. */
  readonly apiserverReadyMs: number;
  readonly crdsMs: number;
  readonly totalMs: number;
}

export interface ControlPlane {
  readonly name: string;
  readonly dir: string;
  readonly kubeconfigPath: string;
  /** JSON-lines audit log of AUDITED_NAMESPACE (metadata of every request there). */
  readonly auditLogPath: string;
  readonly apiUrl: string;
  readonly versions: ControlPlaneVersions;
  readonly startup: ControlPlaneStartup;
  /** A fresh KubeConfig loaded from kubeconfigPath. */
  kubeConfig(): KubeConfig;
  /** PIDs of the running processes (undefined while the apiserver is stopped). */
  processIds(): { etcd: number; kubeApiserver: number | undefined };
  stopApiserver(): Promise<void>;
  /** Same port and flags as before; resolves once ready again. */
  startApiserver(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartControlPlaneOptions {
  name?: string;
  /** Default <repo>/deploy/crds; null installs none. */
  crdDir?: string | null;
  /** Default <repo>/.forge-run/controlplane; the run dir is <runRoot>/<name>. */
  runRoot?: string;
  /** Keep running after this process exits (the CLI): detached, no watchdog, never reaped. */
  persistent?: boolean;
  startTimeoutMs?: number;
  /** More namespaces to audit besides AUDITED_NAMESPACE (the benchmark counts requests per pod). */
  auditNamespaces?: readonly string[];
}

/** FORGE_CONTROLPLANE_BIN_DIR, else the cache dir build.sh builds into. */
export async function resolveBinDir(): Promise<string> {
  const fromEnv = process.env['FORGE_CONTROLPLANE_BIN_DIR'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const { stdout } = await run('bash', [BUILD_SCRIPT, 'bindir']);
  return stdout.trim();
}

export async function readVersions(binDir: string): Promise<ControlPlaneVersions> {
  const [apiserver, etcd] = await Promise.all([
    run(join(binDir, APISERVER_BINARY), ['--version']),
    run(join(binDir, ETCD_BINARY), ['--version']),
  ]);
  // "Kubernetes v1.36.3" / "etcd Version: 3.6.16\nGit SHA: ..."
  const kubeApiserver = /v\d+\.\d+\.\d+\S*/.exec(apiserver.stdout)?.[0];
  const etcdVersion = /etcd Version:\s*(\S+)/.exec(etcd.stdout)?.[1];
  if (kubeApiserver === undefined || etcdVersion === undefined) {
    throw new Error(
      `cannot parse versions from ${JSON.stringify(apiserver.stdout)} / ${JSON.stringify(etcd.stdout)}`,
    );
  }
  return { kubeApiserver, etcd: etcdVersion };
}

function assertBinaries(binDir: string): void {
  for (const binary of [APISERVER_BINARY, ETCD_BINARY]) {
    if (!existsSync(join(binDir, binary))) {
      throw new Error(
        `${join(binDir, binary)} is missing: run \`bash test/controlplane/build.sh\` (needs Go 1.26) first`,
      );
    }
  }
}

const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

export async function createDataDir(name: string): Promise<string> {
  // tmpfs: etcd's fsyncs cost nothing there (and --unsafe-no-fsync skips them anyway).
  for (const base of ['/dev/shm', tmpdir()]) {
    try {
      return await mkdtemp(join(base, `cardano-forge-etcd-${name}-`));
    } catch {
      // fall through to the next candidate
    }
  }
  throw new Error('cannot create an etcd data dir in /dev/shm or the temp dir');
}

async function mentionsPortClash(logFile: string): Promise<boolean> {
  return (await logTail(logFile, 200)).includes('address already in use');
}

export async function startControlPlane(options: StartControlPlaneOptions = {}): Promise<ControlPlane> {
  const begin = performance.now();
  const persistent = options.persistent ?? false;
  const name = options.name ?? `test-${process.pid}-${randomBytes(3).toString('hex')}`;
  if (!NAME_PATTERN.test(name))
    throw new Error(`invalid control plane name ${JSON.stringify(name)} (want [a-z0-9-], max 40)`);
  const runRoot = options.runRoot ?? DEFAULT_RUN_ROOT;
  const crdDir = options.crdDir === undefined ? DEFAULT_CRD_DIR : options.crdDir;
  const timeoutMs =
    options.startTimeoutMs ??
    Number(process.env['FORGE_CONTROLPLANE_START_TIMEOUT_MS'] ?? DEFAULT_START_TIMEOUT_MS);
  const binDir = await resolveBinDir();
  assertBinaries(binDir);

  await mkdir(runRoot, { recursive: true });
  await reapAbandonedRuns(runRoot);
  const runDir = join(runRoot, name);
  const previous = await recordedStatus(runDir);
  if (previous !== undefined && (previous.apiserverPid !== undefined || previous.etcdPid !== undefined)) {
    throw new Error(`control plane "${name}" is already running (${runDir}); stop it first`);
  }
  if (previous !== undefined) await destroyRecorded(runDir);
  await rm(runDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true, mode: 0o700 });

  const dataDir = await createDataDir(name);
  const baseState: ControlPlaneState = {
    name,
    runDir,
    binDir,
    dataDir,
    owner: persistent ? null : currentOwner(),
  };
  await writeState(baseState);
  // Written before any server starts: from here on a crash of this process is cleaned up.
  const watchdogPid = persistent
    ? undefined
    : spawnWatchdog({ ownerPid: process.pid, runDir, binDir, dataDir });
  await writeState({ ...baseState, watchdogPid });

  let etcd: RunningProcess | undefined;
  let apiserver: RunningProcess | undefined;
  try {
    const [versions, pki] = await Promise.all([readVersions(binDir), generatePki(join(runDir, 'pki'))]);
    const tls = await loadAdminTls(pki);
    const pkiDone = performance.now();

    const etcdStarted = await startEtcd({ binDir, runDir, dataDir, persistent, timeoutMs });
    etcd = etcdStarted.process;
    const etcdDone = performance.now();

    const apiserverLog = join(runDir, 'kube-apiserver.log');
    await writeFile(
      join(runDir, 'audit-policy.yaml'),
      auditPolicy([AUDITED_NAMESPACE, ...(options.auditNamespaces ?? [])]),
    );
    let apiPort = await freeLoopbackPort();
    const launchApiserver = async (): Promise<RunningProcess> => {
      const proc = spawnLogged({
        binary: join(binDir, APISERVER_BINARY),
        args: kubeApiserverArgs({ etcdUrl: etcdStarted.url, apiPort, runDir, pki }),
        logFile: apiserverLog,
        detached: persistent,
      });
      await writePid(runDir, APISERVER_BINARY, proc.pid);
      try {
        await waitForApiserver(proc, `https://127.0.0.1:${apiPort}`, tls, apiserverLog, timeoutMs);
      } catch (error) {
        await stopProcess(proc);
        await removePid(runDir, APISERVER_BINARY);
        throw error;
      }
      return proc;
    };
    for (let attempt = 1; apiserver === undefined; attempt += 1) {
      try {
        apiserver = await launchApiserver();
      } catch (error) {
        // Another process may take the probed port before the apiserver binds it: retry fresh.
        if (attempt >= PORT_CLASH_ATTEMPTS || !(await mentionsPortClash(apiserverLog))) throw error;
        apiPort = await freeLoopbackPort();
      }
    }
    const apiUrl = `https://127.0.0.1:${apiPort}`;
    const apiserverDone = performance.now();

    const kubeconfigPath = join(runDir, 'kubeconfig');
    await writeFile(kubeconfigPath, renderKubeconfig(`forge-${name}`, apiUrl, tls), { mode: 0o600 });
    const loadKubeConfig = (): KubeConfig => {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    };
    if (crdDir !== null) await installCrds(loadKubeConfig(), crdDir);
    const crdsDone = performance.now();

    await writeState({
      ...baseState,
      watchdogPid,
      apiUrl,
      etcdUrl: etcdStarted.url,
      kubeconfigPath,
      versions,
    });
    const startup: ControlPlaneStartup = {
      pkiMs: Math.round(pkiDone - begin),
      etcdReadyMs: Math.round(etcdDone - pkiDone),
      apiserverReadyMs: Math.round(apiserverDone - etcdDone),
      crdsMs: Math.round(crdsDone - apiserverDone),
      totalMs: Math.round(crdsDone - begin),
    };

    const runningEtcd = etcd;
    let stopped = false;
    const controlPlane: ControlPlane = {
      name,
      dir: runDir,
      kubeconfigPath,
      auditLogPath: join(runDir, 'audit.log'),
      apiUrl,
      versions,
      startup,
      kubeConfig: loadKubeConfig,
      processIds: () => ({
        etcd: runningEtcd.pid,
        kubeApiserver: apiserver === undefined || apiserver.hasExited() ? undefined : apiserver.pid,
      }),
      async stopApiserver() {
        if (apiserver === undefined) return;
        await stopProcess(apiserver);
        apiserver = undefined;
        await removePid(runDir, APISERVER_BINARY);
      },
      async startApiserver() {
        if (stopped) throw new Error(`control plane "${name}" was stopped`);
        if (apiserver !== undefined && !apiserver.hasExited()) return;
        apiserver = await launchApiserver();
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        if (apiserver !== undefined) await stopProcess(apiserver);
        apiserver = undefined;
        await stopProcess(runningEtcd);
        await rm(dataDir, { recursive: true, force: true });
        await rm(runDir, { recursive: true, force: true });
        if (watchdogPid !== undefined) stopWatchdog(watchdogPid);
      },
    };
    return controlPlane;
  } catch (error) {
    // Keep the run dir (logs) for diagnosis; the watchdog or the next start removes it.
    if (apiserver !== undefined) await stopProcess(apiserver);
    if (etcd !== undefined) await stopProcess(etcd);
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

interface StartEtcdOptions {
  readonly binDir: string;
  readonly runDir: string;
  readonly dataDir: string;
  readonly persistent: boolean;
  readonly timeoutMs: number;
}

async function startEtcd(options: StartEtcdOptions): Promise<{ process: RunningProcess; url: string }> {
  const logFile = join(options.runDir, 'etcd.log');
  for (let attempt = 1; ; attempt += 1) {
    const clientUrl = `http://127.0.0.1:${await freeLoopbackPort()}`;
    const peerUrl = `http://127.0.0.1:${await freeLoopbackPort()}`;
    // All three peer flags explicit: nothing may touch a real etcd on the default port 2380.
    const proc = spawnLogged({
      binary: join(options.binDir, ETCD_BINARY),
      args: [
        '--name=forge-test',
        `--data-dir=${options.dataDir}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=forge-test=${peerUrl}`,
        '--initial-cluster-state=new',
        '--logger=zap',
        '--log-level=warn',
        '--unsafe-no-fsync=true',
      ],
      logFile,
      detached: options.persistent,
    });
    await writePid(options.runDir, ETCD_BINARY, proc.pid);
    try {
      await waitForHealthy({
        what: 'etcd',
        url: `${clientUrl}/health`,
        tls: undefined,
        process: proc,
        logFile,
        timeoutMs: options.timeoutMs,
      });
      return { process: proc, url: clientUrl };
    } catch (error) {
      await stopProcess(proc);
      await removePid(options.runDir, ETCD_BINARY);
      // Another process may grab a "free" port between our probe and etcd's bind: retry fresh.
      if (attempt >= PORT_CLASH_ATTEMPTS || !(await mentionsPortClash(logFile))) throw error;
      await rm(options.dataDir, { recursive: true, force: true });
      await mkdir(options.dataDir, { recursive: true });
    }
  }
}

interface ApiserverArgsInput {
  readonly etcdUrl: string;
  readonly apiPort: number;
  readonly runDir: string;
  readonly pki: Pki;
}

function kubeApiserverArgs(input: ApiserverArgsInput): string[] {
  // envtest's flag set. No --advertise-address: loopback is rejected; the host's default route is used.
  return [
    `--etcd-servers=${input.etcdUrl}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${input.apiPort}`,
    `--cert-dir=${join(input.runDir, 'apiserver-certs')}`,
    `--tls-cert-file=${input.pki.apiserverCert}`,
    `--tls-private-key-file=${input.pki.apiserverKey}`,
    `--client-ca-file=${input.pki.caCert}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    `--service-account-issuer=https://127.0.0.1:${input.apiPort}/`,
    `--service-account-key-file=${input.pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${input.pki.serviceAccountKey}`,
    '--authorization-mode=RBAC',
    // Otherwise every namespace needs a default ServiceAccount, which only the controller manager creates.
    '--disable-admission-plugins=ServiceAccount',
    '--allow-privileged=true',
    `--audit-policy-file=${join(input.runDir, 'audit-policy.yaml')}`,
    `--audit-log-path=${join(input.runDir, 'audit.log')}`,
    '--audit-log-format=json',
  ];
}

async function waitForApiserver(
  proc: RunningProcess,
  apiUrl: string,
  tls: ClientTls,
  logFile: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // With the admin certificate: anonymous probes get 401/403 until RBAC bootstrap has finished.
  await waitForHealthy({
    what: 'kube-apiserver',
    url: `${apiUrl}/readyz`,
    tls,
    process: proc,
    logFile,
    timeoutMs,
  });
  await waitForHealthy({
    what: 'kube-apiserver (namespace default)',
    url: `${apiUrl}/api/v1/namespaces/default`,
    tls,
    process: proc,
    logFile,
    timeoutMs: Math.max(1_000, deadline - Date.now()),
  });
}
