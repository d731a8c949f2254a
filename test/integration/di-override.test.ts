// The real sidecar (runManager: the kubernetes-lease elector on the real kube-apiserver, the files
// provisioner on real files, the HTTP server) with ONE DI token replaced: the node controller. The
// configured node socket does not exist, so only the replacement can report a node; the sidecar
// must lead, install the credentials and signal the node THROUGH it, then stop cleanly (revoke →
// signal → release, exit 0).
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeFakeCredentials } from '../cardano-node-sim/credentials.ts';
import { createTestNamespace, testKubeConfig, type TestNamespace } from '../support/cluster.ts';
import { waitFor } from '../support/forge-pod.ts';
import { builtinPlugins } from '../../packages/framework/src/cli/builtins.ts';
import { parseConfig } from '../../packages/framework/src/config/load.ts';
import { TOKENS } from '../../packages/framework/src/di/tokens.ts';
import { runManager } from '../../packages/framework/src/manager/run.ts';
import { FakeNode } from '../../packages/framework/src/testing/fakes.ts';

let kc: KubeConfig;
let ns: TestNamespace;
let dir: string;
const previousKubeconfig = process.env.KUBECONFIG;

beforeAll(async () => {
  kc = testKubeConfig();
  ns = await createTestNamespace(kc, 'di-override');
  dir = await mkdtemp(join(os.tmpdir(), 'forge-di-'));
  // The default KubeConfig of the manager reads KUBECONFIG, as it does outside a cluster.
  process.env.KUBECONFIG = inject('forgeKubeconfig');
});

afterAll(async () => {
  if (previousKubeconfig === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = previousKubeconfig;
  await ns?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('DI: one token replaced, the real sidecar around it', () => {
  it('forges through a replaced node controller and stops cleanly', async () => {
    const sources = await writeFakeCredentials(join(dir, 'secrets'));
    const targets = {
      kesKey: join(dir, 'target', 'kes.skey'),
      vrfKey: join(dir, 'target', 'vrf.skey'),
      opCert: join(dir, 'target', 'node.cert'),
    };
    const config = parseConfig({
      podName: 'bp-di',
      namespace: ns.name,
      log: { level: 'error' },
      http: { host: '127.0.0.1', port: 0 },
      credentials: { source: sources, target: targets },
      // Never scraped: the replacement answers for the node. A socket nobody serves: the default
      // node controller would never see a node, so a forging node can only come from the replacement.
      node: { socketPath: join(dir, 'nobody.socket'), metricsUrl: 'http://127.0.0.1:9/metrics' },
    });

    const calls: string[] = [];
    const node = new FakeNode(calls);
    // A node that loads what the target paths hold when signalled, and says so in its metric.
    node.metricsFollowNode = true;
    node.filesPresent = () => Object.values(targets).every((file) => existsSync(file));

    let requestStop: (signal: string) => void = () => undefined;
    const stopSignal = new Promise<string>((resolve) => (requestStop = resolve));
    const exitCode = runManager(config, {
      builtins: builtinPlugins(),
      env: { KUBECONFIG: process.env.KUBECONFIG },
      stopSignal,
      configure: (container) => container.registerValue(TOKENS.nodeController, node),
    });

    const leases = kc.makeApiClient(CoordinationV1Api);
    await waitFor('the replaced node to forge', async () => node.loaded, 30_000);
    expect(calls.some((c) => c.startsWith('signal:'))).toBe(true);
    const lease = await leases.readNamespacedLease({ name: 'cardano-node-leader', namespace: ns.name });
    expect(lease.spec?.holderIdentity).toMatch(/^bp-di/);

    requestStop('test');
    expect(await exitCode).toBe(0);
    // Clean stop: the files are gone, the node was told (and its metric says it stopped), the
    // lease is released for the next pod.
    expect(node.loaded).toBe(false);
    expect(Object.values(targets).some((file) => existsSync(file))).toBe(false);
    expect(calls.filter((c) => c.startsWith('signal:')).length).toBeGreaterThanOrEqual(2);
    const released = await leases.readNamespacedLease({ name: 'cardano-node-leader', namespace: ns.name });
    expect(released.spec?.holderIdentity ?? '').toBe('');
  });
});
