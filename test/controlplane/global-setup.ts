// vitest globalSetup for the `integration` project: one real kube-apiserver + etcd per run.
// Workers get the kubeconfig path through inject('forgeKubeconfig') (see test/support/cluster.ts).
//
// FORGE_TEST_KUBECONFIG=/path/to/kubeconfig runs the same tests against an existing cluster
// instead (for example a kind cluster: `kind get kubeconfig > /tmp/kind.kubeconfig`). The CRDs
// from deploy/crds are installed there too; nothing is started or stopped.
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import type { TestProject } from 'vitest/node';
import { DEFAULT_CRD_DIR, installCrds, startControlPlane, type ControlPlaneVersions } from './index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    forgeKubeconfig: string;
    /** The apiserver's audit log of AUDITED_NAMESPACE; '' for an existing cluster (none available). */
    forgeAuditLog: string;
    forgeControlPlaneVersions: { kubeApiserver: string; etcd: string };
  }
}

async function useExistingCluster(project: TestProject, kubeconfigPath: string): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const begin = performance.now();
  await installCrds(kc, DEFAULT_CRD_DIR);
  const crdsMs = Math.round(performance.now() - begin);
  const server = await kc.makeApiClient(VersionApi).getCode();
  // The etcd version is not exposed through the API of an existing cluster.
  const versions: ControlPlaneVersions = {
    kubeApiserver: server.gitVersion,
    etcd: 'unknown (existing cluster)',
  };
  project.provide('forgeKubeconfig', kubeconfigPath);
  project.provide('forgeAuditLog', '');
  project.provide('forgeControlPlaneVersions', versions);
  console.log(
    `[controlplane] existing cluster from FORGE_TEST_KUBECONFIG: kube-apiserver ${versions.kubeApiserver} ` +
      `at ${kc.getCurrentCluster()?.server ?? '?'} (CRDs ${crdsMs} ms)`,
  );
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const existing = process.env['FORGE_TEST_KUBECONFIG'];
  if (existing !== undefined && existing !== '') {
    await useExistingCluster(project, existing);
    return undefined;
  }
  const controlPlane = await startControlPlane();
  project.provide('forgeKubeconfig', controlPlane.kubeconfigPath);
  project.provide('forgeAuditLog', controlPlane.auditLogPath);
  project.provide('forgeControlPlaneVersions', controlPlane.versions);
  const { startup, versions } = controlPlane;
  console.log(
    `[controlplane] kube-apiserver ${versions.kubeApiserver}, etcd ${versions.etcd} at ${controlPlane.apiUrl} ` +
      `(ready in ${startup.totalMs} ms: etcd ${startup.etcdReadyMs}, apiserver ${startup.apiserverReadyMs}, CRDs ${startup.crdsMs})`,
  );
  return async () => {
    await controlPlane.stop();
  };
}
