// Installs CRDs through the API (no kubectl): create, or replace on conflict (apply semantics),
// then wait until each is Established, its plural is in discovery, and a list of it is served:
// each of those steps can lag the previous one, and a test that starts early fails spuriously.
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  loadAllYaml,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const DEFAULT_TIMEOUT_MS = 60_000;

function hasHttpStatus(error: unknown, status: number): boolean {
  // No instanceof: two copies of the client library would break it.
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === status;
}

export async function readCrdFiles(dir: string): Promise<V1CustomResourceDefinition[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
  const crds: V1CustomResourceDefinition[] = [];
  for (const file of files) {
    for (const doc of loadAllYaml(await readFile(join(dir, file), 'utf8')) as unknown[]) {
      const candidate = doc as V1CustomResourceDefinition | null;
      if (candidate?.kind === 'CustomResourceDefinition') crds.push(candidate);
    }
  }
  if (crds.length === 0) throw new Error(`no CustomResourceDefinition found in ${dir}`);
  return crds;
}

export async function installCrds(
  kc: KubeConfig,
  dir: string,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<void> {
  const crds = await readCrdFiles(dir);
  const extensions = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of crds) {
    const name = crd.metadata?.name;
    if (name === undefined) throw new Error(`a CRD in ${dir} has no metadata.name`);
    try {
      await extensions.createCustomResourceDefinition({ body: crd });
    } catch (error) {
      if (!hasHttpStatus(error, 409)) throw error;
      const current = await extensions.readCustomResourceDefinition({ name });
      await extensions.replaceCustomResourceDefinition({
        name,
        body: { ...crd, metadata: { ...crd.metadata, resourceVersion: current.metadata?.resourceVersion } },
      });
    }
  }
  const deadline = Date.now() + timeoutMs;
  const customObjects = kc.makeApiClient(CustomObjectsApi);
  for (const crd of crds) {
    const name = crd.metadata?.name ?? '';
    for (;;) {
      const current = await extensions.readCustomResourceDefinition({ name });
      const established = current.status?.conditions?.some(
        (c) => c.type === 'Established' && c.status === 'True',
      );
      if (established === true) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
      await sleep(100);
    }
    for (const version of crd.spec.versions.filter((v) => v.served)) {
      for (;;) {
        const resources = await customObjects
          .getAPIResources({ group: crd.spec.group, version: version.name })
          .catch(() => undefined);
        if (resources?.resources.some((r) => r.name === crd.spec.names.plural) === true) break;
        if (Date.now() > deadline) {
          throw new Error(
            `${crd.spec.names.plural}.${crd.spec.group}/${version.name} not in discovery after ${timeoutMs} ms`,
          );
        }
        await sleep(100);
      }
      // Discovery can list the resource while its watch cache is still initializing: the first
      // requests then get 429 "storage is (re)initializing". Wait until a list is actually served.
      for (;;) {
        const listed = await customObjects
          .listClusterCustomObject({
            group: crd.spec.group,
            version: version.name,
            plural: crd.spec.names.plural,
            limit: 1,
          })
          .then(() => true)
          .catch(() => false);
        if (listed) break;
        if (Date.now() > deadline) {
          throw new Error(
            `${crd.spec.names.plural}.${crd.spec.group}/${version.name} not servable after ${timeoutMs} ms`,
          );
        }
        await sleep(100);
      }
    }
  }
  await warmWritePath(customObjects, crds);
}

/**
 * On a fresh apiserver the first write of any custom resource stalls about 2 s (the ResourceQuota
 * admission sets up its evaluators lazily). A dry-run create per CRD moves that stall into setup,
 * where it cannot distort a test's timing. Failures are irrelevant here (a minimal object may be
 * invalid, 422): only having passed through admission matters, and dry-run persists nothing.
 */
async function warmWritePath(
  customObjects: CustomObjectsApi,
  crds: readonly V1CustomResourceDefinition[],
): Promise<void> {
  for (const crd of crds) {
    const version = crd.spec.versions.find((v) => v.served)?.name;
    if (version === undefined) continue;
    const body = {
      apiVersion: `${crd.spec.group}/${version}`,
      kind: crd.spec.names.kind,
      metadata: { name: 'forge-warmup' },
    };
    const target = { group: crd.spec.group, version, plural: crd.spec.names.plural, body, dryRun: 'All' };
    const attempt =
      crd.spec.scope === 'Namespaced'
        ? customObjects.createNamespacedCustomObject({ ...target, namespace: 'default' })
        : customObjects.createClusterCustomObject(target);
    await attempt.catch(() => undefined);
  }
}
