import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MicroTime } from './time.js';

const FRAMEWORK = fileURLToPath(new URL('../..', import.meta.url));

/** Runs in a fresh Node process: which modules does loading KubeConfig resolve? */
const PROBE = `
import { registerHooks } from 'node:module';
const seen = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
const { KubeConfig } = await import(process.argv[1]);
const kc = new KubeConfig();
kc.loadFromOptions({
  clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', skipTLSVerify: false }],
  users: [{ name: 'u', token: 'secret-token' }],
  contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
  currentContext: 'x',
});
const https = {};
await kc.applyToHTTPSOptions(https);
const models = seen.filter((u) => /\\/gen\\/(models\\/all|types\\/ObjectParamAPI)\\.js$/.test(u));
// A plugin may still import a generated API itself and build it from the same KubeConfig.
const { CoreV1Api } = await import('@kubernetes/client-node');
const api = kc.makeApiClient(CoreV1Api);
process.stdout.write(JSON.stringify({ models, authorization: https.headers?.Authorization, api: typeof api.readNamespacedPod }));
`;

describe('kube/kubeconfig', () => {
  it('loads the library’s KubeConfig (auth included) without its generated models; makeApiClient still works', async () => {
    const entry = new URL('./kubeconfig.ts', import.meta.url).href;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', PROBE, entry],
      { cwd: FRAMEWORK },
    );
    const result = JSON.parse(stdout) as { models: string[]; authorization: string; api: string };
    expect(result.models).toEqual([]);
    expect(result.authorization).toBe('Bearer secret-token');
    expect(result.api).toBe('function');
    // A child process loading the whole package entry: seconds on a busy machine.
  }, 120_000);
});

describe('MicroTime', () => {
  it('serialises with six fractional digits, as Lease times must be', () => {
    expect(JSON.stringify({ t: new MicroTime(Date.UTC(2026, 0, 2, 3, 4, 5, 123)) })).toBe(
      '{"t":"2026-01-02T03:04:05.123000Z"}',
    );
  });
});
