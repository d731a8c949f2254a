// A real kube-apiserver + etcd for people (kubectl, the lab, debugging):
//   npm run controlplane -- start [--name N]   builds if needed, starts detached, prints `export KUBECONFIG=...`
//   npm run controlplane -- status [--name N]  (without --name: every recorded control plane)
//   npm run controlplane -- stop [--name N]
// Only the export line goes to stdout, so `eval "$(npm run -s controlplane -- start)"` works.
// State lives in <repo>/.forge-run/controlplane/<name>/ (kubeconfig, pki, logs, pid files).
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_RUN_ROOT, REPO_ROOT, startControlPlane } from './index.ts';
import { destroyRecorded, recordedStatus, type RecordedStatus } from './state.ts';

const DEFAULT_NAME = 'default';
const USAGE = 'usage: node test/controlplane/cli.ts start|stop|status [--name N]';

function parseName(args: readonly string[]): string | undefined {
  const index = args.indexOf('--name');
  if (index === -1) return undefined;
  const value = args[index + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`--name needs a value\n${USAGE}`);
  return value;
}

function log(message: string): void {
  process.stderr.write(`[controlplane] ${message}\n`);
}

async function build(): Promise<void> {
  if ((process.env['FORGE_CONTROLPLANE_BIN_DIR'] ?? '') !== '') return;
  // build.sh prints the bin dir on stdout: send it to stderr to keep stdout for the export line.
  const child = spawn('bash', [join(REPO_ROOT, 'test', 'controlplane', 'build.sh'), 'build'], {
    stdio: ['ignore', 2, 2],
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`build.sh failed (exit ${code ?? 'signal'})`);
}

function describe(status: RecordedStatus): string {
  const { state } = status;
  const running = status.apiserverPid !== undefined && status.etcdPid !== undefined;
  return [
    `${state.name}: ${running ? 'running' : 'NOT running'}`,
    `  kube-apiserver pid ${status.apiserverPid ?? '-'}, etcd pid ${status.etcdPid ?? '-'}`,
    `  api ${state.apiUrl ?? '-'}, etcd ${state.etcdUrl ?? '-'}`,
    `  versions: kube-apiserver ${state.versions?.kubeApiserver ?? '?'}, etcd ${state.versions?.etcd ?? '?'}`,
    `  kubeconfig ${state.kubeconfigPath ?? '-'}`,
    `  run dir ${state.runDir}${state.owner === null ? '' : ` (owned by test runner pid ${state.owner.pid})`}`,
  ].join('\n');
}

async function start(name: string): Promise<number> {
  const runDir = join(DEFAULT_RUN_ROOT, name);
  const existing = await recordedStatus(runDir);
  if (
    existing?.apiserverPid !== undefined &&
    existing.etcdPid !== undefined &&
    existing.state.kubeconfigPath !== undefined
  ) {
    log(`already running:\n${describe(existing)}`);
    process.stdout.write(`export KUBECONFIG=${existing.state.kubeconfigPath}\n`);
    return 0;
  }
  if (existing !== undefined) {
    log(`cleaning up a half-dead control plane "${name}"`);
    await destroyRecorded(runDir);
  }
  await build();
  const controlPlane = await startControlPlane({ name, runRoot: DEFAULT_RUN_ROOT, persistent: true });
  const { startup, versions } = controlPlane;
  log(
    `kube-apiserver ${versions.kubeApiserver}, etcd ${versions.etcd} at ${controlPlane.apiUrl} ` +
      `(ready in ${startup.totalMs} ms; CRDs installed)`,
  );
  log(`stop with: npm run controlplane -- stop${name === DEFAULT_NAME ? '' : ` --name ${name}`}`);
  process.stdout.write(`export KUBECONFIG=${controlPlane.kubeconfigPath}\n`);
  return 0;
}

async function stop(name: string): Promise<number> {
  const runDir = join(DEFAULT_RUN_ROOT, name);
  const existing = await recordedStatus(runDir);
  if (existing === undefined) {
    log(`no control plane "${name}" recorded in ${runDir}`);
    return 0;
  }
  await destroyRecorded(runDir);
  log(`stopped "${name}"`);
  return 0;
}

async function status(name: string | undefined): Promise<number> {
  const names = name !== undefined ? [name] : await readdir(DEFAULT_RUN_ROOT).catch(() => [] as string[]);
  let anyRunning = false;
  for (const candidate of names) {
    const recorded = await recordedStatus(join(DEFAULT_RUN_ROOT, candidate));
    if (recorded === undefined) continue;
    anyRunning ||= recorded.apiserverPid !== undefined && recorded.etcdPid !== undefined;
    process.stdout.write(`${describe(recorded)}\n`);
  }
  if (!anyRunning) log(name === undefined ? 'no control plane running' : `"${name}" is not running`);
  return anyRunning ? 0 : 3;
}

async function main(args: readonly string[]): Promise<number> {
  const [command, ...rest] = args;
  const name = parseName(rest);
  switch (command) {
    case 'start':
      return start(name ?? DEFAULT_NAME);
    case 'stop':
      return stop(name ?? DEFAULT_NAME);
    case 'status':
      return status(name);
    default:
      log(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
