// The local lab (`npm start`): a real kube-apiserver + etcd, three simulated cardano-nodes and three
// forge-manager sidecars (the built CLI, configured by environment variables like the Python
// sidecar) in one namespace. It prints who forges every two seconds; Ctrl-C stops everything it
// started, by PID. LAB_SECONDS=N stops it by itself after N seconds (used by its own test).
import { CoreV1Api } from '@kubernetes/client-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFakeCredentials } from '../cardano-node-sim/credentials.ts';
import { computeOverlap, readEvents } from '../cardano-node-sim/overlap.ts';
import { startControlPlane } from '../controlplane/index.ts';
import { ForgePod } from '../support/forge-pod.ts';

const NAMESPACE = 'cardano-lab';
const REPLICAS = 3;

function line(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function main(): Promise<number> {
  line('[lab] starting a real kube-apiserver + etcd (first run builds them: several minutes)…');
  const cp = await startControlPlane({ name: `lab-${process.pid}` });
  line(`[lab] kube-apiserver ${cp.versions.kubeApiserver}, etcd ${cp.versions.etcd} at ${cp.apiUrl}`);
  const dir = await mkdtemp(join(tmpdir(), 'forge-lab-'));
  const pods: ForgePod[] = [];
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    line('\n[lab] stopping sidecars (they revoke, signal and release), nodes and the control plane…');
    await Promise.all(pods.map((p) => p.dispose()));
    const overlap = computeOverlap(await readEvents([join(dir, 'events.jsonl')]).catch(() => []));
    line(`[lab] total time with two forgers at once: ${overlap.totalOverlapMs.toFixed(0)} ms`);
    await cp.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await cp
      .kubeConfig()
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: NAMESPACE } } });
    const secrets = join(dir, 'secrets');
    await writeFakeCredentials(secrets); // kes.skey, vrf.skey, node.cert: the Secret-mount names
    for (let i = 0; i < REPLICAS; i++) {
      pods.push(
        new ForgePod({
          name: `cardano-bp-${i}`,
          namespace: NAMESPACE,
          kubeconfigPath: cp.kubeconfigPath,
          pool: 'pool1lab',
          sourceDir: secrets,
          eventLog: join(dir, 'events.jsonl'),
          workDir: join(dir, `cardano-bp-${i}`),
          leaseName: 'cardano-node-leader',
          timings: { leaseDuration: 15, renewDeadline: 10, retryPeriod: 2 },
          extraEnv: { LOG_LEVEL: 'info' },
        }),
      );
    }
    await Promise.all(pods.map((p) => p.start()));
    line(`[lab] ${REPLICAS} pods up. In another shell:`);
    line(`        export KUBECONFIG=${cp.kubeconfigPath}`);
    line(`        kubectl -n ${NAMESPACE} get leases,cardanoleaders`);
    line(`      sidecar endpoints: ${pods.map((p) => `${p.options.name} ${p.baseUrl}/status`).join(', ')}`);
    line(
      '      stop a pod to watch the handoff: kill the PID of a sidecar shown below; Ctrl-C ends the lab.',
    );
    process.once('SIGINT', () => void stop().then(() => process.exit(0)));
    process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
    const until = process.env.LAB_SECONDS ? Date.now() + Number(process.env.LAB_SECONDS) * 1000 : Infinity;
    while (!stopping && Date.now() < until) {
      const rows = await Promise.all(
        pods.map(async (p) => {
          const s = await p.status();
          const m = p.node?.isRunning() ? await p.node.metrics().catch(() => null) : null;
          return `${p.options.name} (sidecar pid ${p.sidecar?.pid ?? '-'}): ${s ? `${s.decision.forge ? 'FORGING' : 'standby'} — ${s.decision.reason}` : 'no status'}; node forging metric ${m ? (m.forgingEnabled ? 1 : 0) : '-'}`;
        }),
      );
      line(`[lab ${new Date().toISOString().slice(11, 19)}] ${rows.join(' | ')}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  } finally {
    await stop();
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('[lab] failed:', error);
    process.exit(1);
  },
);
