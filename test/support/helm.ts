// helm, built from its Go module by deploy/helm/build-helm.sh (cached outside the repo), for the
// chart tests: lint, template, and the rendered objects as data.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);
export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const CHART_DIR = join(REPO, 'deploy/helm/cardano-forge');
const BUILD_SCRIPT = join(REPO, 'deploy/helm/build-helm.sh');

/** FORGE_HELM_BIN, else the binary build-helm.sh builds (it must have been built: .ci/run does). */
export async function helmBinary(): Promise<string> {
  const fromEnv = process.env['FORGE_HELM_BIN'];
  const path = fromEnv ? fromEnv : (await run('bash', [BUILD_SCRIPT, 'path'])).stdout.trim();
  if (!existsSync(path))
    throw new Error(`${path} is missing: run \`bash deploy/helm/build-helm.sh\` (needs Go 1.26) first`);
  return path;
}

export interface HelmResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function helm(args: readonly string[]): Promise<HelmResult> {
  const binary = await helmBinary();
  // A private HOME/cache: helm never reads a developer's repositories or plugins.
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HELM_CACHE_HOME: '/nonexistent-helm-cache',
    HELM_CONFIG_HOME: '/nonexistent-helm-config',
    HELM_DATA_HOME: '/nonexistent-helm-data',
  };
  try {
    const { stdout, stderr } = await run(binary, [...args], { env, maxBuffer: 16 << 20, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? String(error),
    };
  }
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** `helm template` of the chart into objects; throws with helm's message when it fails. */
export async function renderChart(options: {
  release?: string;
  namespace: string;
  valuesFiles?: readonly string[];
  set?: readonly string[];
}): Promise<K8sObject[]> {
  const args = ['template', options.release ?? 'bp', CHART_DIR, '--namespace', options.namespace];
  for (const file of options.valuesFiles ?? []) args.push('-f', file);
  for (const s of options.set ?? []) args.push('--set', s);
  const r = await helm(args);
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => {
      if (d.errors.length > 0)
        throw new Error(`helm template produced invalid YAML: ${d.errors[0]!.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}
