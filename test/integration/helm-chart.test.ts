/**
 * The Helm chart (deploy/helm/cardano-forge) with helm built from its Go module: lint and template
 * for every values file, every rendered object accepted by the real kube-apiserver (server-side
 * dry-run), and the real sidecar running with exactly the chart's RBAC by impersonating its
 * ServiceAccount: a missing verb fails, a granted verb the sidecar never used is flagged (from the
 * apiserver's audit log).
 */
import { randomUUID } from 'node:crypto';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeFakeCredentials } from '../cardano-node-sim/credentials.ts';
import { installCrds } from '../controlplane/crds.ts';
import { AUDITED_NAMESPACE } from '../controlplane/index.ts';
import { createTestNamespace, testKubeConfig } from '../support/cluster.ts';
import { ForgePod, waitFor } from '../support/forge-pod.ts';
import { CHART_DIR, REPO, helm, renderChart, type K8sObject } from '../support/helm.ts';
import { loadConfig } from '../../packages/framework/src/config/load.ts';

const workDirs: string[] = [];
afterAll(async () => {
  for (const d of workDirs) await rm(d, { recursive: true, force: true });
});

const VALUES_FILES: Record<string, readonly string[]> = {
  'single-cluster (defaults)': [],
  'multi-region': [join(CHART_DIR, 'examples/values-multi-region.yaml')],
  'python-migration': [join(CHART_DIR, 'examples/values-python-migration.yaml')],
};
// Every optional template on at once, so each one meets the apiserver at least once.
const EVERYTHING_ON = [
  'serviceMonitor.enabled=true',
  'prometheusRule.enabled=true',
  'dashboard.enabled=true',
  'cluster.enabled=true',
  'forgeManager.config.log.level=debug',
  'rbac.k8sProbe.pods=true',
  'rbac.k8sProbe.statefulSets[0]=bp-cardano-forge',
  'node.configMap=cardano-node-config',
];

describe('helm lint and template', () => {
  for (const [name, files] of Object.entries(VALUES_FILES)) {
    it(`lint --strict passes: ${name}`, async () => {
      const r = await helm(['lint', '--strict', CHART_DIR, ...files.flatMap((f) => ['-f', f])]);
      expect(r.stderr + r.stdout).not.toMatch(/\[(ERROR|WARNING)\]/);
      expect(r.code).toBe(0);
    });
  }

  it('the Python migration values reach the sidecar unchanged, and the Role names what they name', async () => {
    const file = join(CHART_DIR, 'examples/values-python-migration.yaml');
    const pythonEnv = (
      parseYaml(await readFile(file, 'utf8')) as { forgeManager: { env: Record<string, string> } }
    ).forgeManager.env;
    const objects = await renderChart({ namespace: 'cardano', valuesFiles: [file] });
    const env = sidecarEnv(objects);
    for (const [key, value] of Object.entries(pythonEnv)) expect(env[key], key).toBe(String(value));
    const role = objects.find((o) => o.kind === 'Role') as unknown as { rules: RoleRule[] };
    const names = (resource: string) =>
      role.rules.filter((r) => r.resources.includes(resource)).flatMap((r) => r.resourceNames ?? []);
    expect(names('leases')).toContain(pythonEnv.LEASE_NAME);
    expect(names('cardanoleaders')).toEqual([pythonEnv.CRD_NAME]);
    expect(names('cardanoforgeclusters')).toEqual(['mainnet-pool1abcde-us-east-1']);
  });

  it('native sidecar, shared PID namespace, probes, mounts', async () => {
    const objects = await renderChart({ namespace: 'cardano' });
    const sts = objects.find((o) => o.kind === 'StatefulSet') as unknown as StatefulSetLike;
    const pod = sts.spec.template.spec;
    expect(pod.shareProcessNamespace).toBe(true);
    const sidecar = pod.initContainers.find((c) => c.name === 'forge-manager')!;
    expect(sidecar.restartPolicy).toBe('Always');
    expect(sidecar.startupProbe.httpGet).toEqual({ path: '/startup-status', port: 'http' });
    expect(sidecar.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(sidecar.ports).toContainEqual({ name: 'http', containerPort: 8000, protocol: 'TCP' });
    expect(sidecar.securityContext.readOnlyRootFilesystem).toBe(true);
    const mounts = Object.fromEntries(sidecar.volumeMounts.map((m) => [m.mountPath, m.name]));
    expect(mounts).toMatchObject({
      '/secrets': 'forging-keys',
      '/opt/cardano/secrets': 'credentials',
      '/ipc': 'ipc',
      '/tmp': 'tmp',
    });
    const node = pod.containers.find((c) => c.name === 'cardano-node')!;
    expect(node.args).toContain('--start-as-non-producing-node');
    // Only the sidecar sees the Secret and holds an API token.
    expect(node.volumeMounts.map((m) => m.name)).not.toContain('forging-keys');
    expect(node.volumeMounts.map((m) => m.name)).not.toContain('api-token');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(mounts['/var/run/secrets/kubernetes.io/serviceaccount']).toBe('api-token');
  });

  it('refuses values it cannot honour, with a message that says what to do', async () => {
    await expect(renderChart({ namespace: 'x', set: ['names.lease=Bad_Name'] })).rejects.toThrow(
      /name "bad_name" is not a DNS-1123 label.*Set names/,
    );
    await expect(renderChart({ namespace: 'x', set: ['pool.network=sanchonet'] })).rejects.toThrow(
      /pool.networkMagic is required for network "sanchonet"/,
    );
  });
});

describe('global mode (crossRegion): the etcd arbiter wired into the sidecar', () => {
  const MULTI_REGION = join(CHART_DIR, 'examples/values-multi-region.yaml');
  const ENDPOINTS = [
    'https://etcd-eu-west-1.forge-arbiter.example:2379',
    'https://etcd-us-east-1.forge-arbiter.example:2379',
    'https://etcd-ap-southeast-1.forge-arbiter.example:2379',
  ];
  const ETCD_VARS = [
    'ETCD_ARBITER_ENABLED',
    'ETCD_ENDPOINTS',
    'ETCD_CA_FILE',
    'ETCD_CERT_FILE',
    'ETCD_KEY_FILE',
    'ETCD_ARBITER_REGION',
    'ETCD_KEY_PREFIX',
    'ETCD_LEASE_TTL',
    'ETCD_RENEW_DEADLINE',
    'ETCD_RETRY_PERIOD',
    'ETCD_HOLD_DOWN',
    'ETCD_ELECTION_TIMEOUT_MS',
  ];
  // Enabled, with endpoints and a region; each failure case below breaks one thing.
  const ENABLED = ['crossRegion.enabled=true', 'cluster.enabled=true', 'cluster.region=eu-west-1'];
  const httpsEndpoints = ENDPOINTS.map((e, i) => `crossRegion.etcd.endpoints[${i}]=${e}`);

  it('the multi-region example: ETCD_* env, TLS files from the Secret mounted read-only into the sidecar alone', async () => {
    const objects = await renderChart({ namespace: 'cardano', valuesFiles: [MULTI_REGION] });
    const env = sidecarEnv(objects);
    expect(env).toMatchObject({
      ETCD_ARBITER_ENABLED: 'true',
      ETCD_ENDPOINTS: ENDPOINTS.join(','),
      ETCD_ARBITER_REGION: 'eu-west-1',
      ETCD_CA_FILE: '/etc/forge-etcd/ca.crt',
      ETCD_CERT_FILE: '/etc/forge-etcd/tls.crt',
      ETCD_KEY_FILE: '/etc/forge-etcd/tls.key',
      ETCD_HOLD_DOWN: '30',
      ETCD_ELECTION_TIMEOUT_MS: '1000',
      ENABLE_CLUSTER_MANAGEMENT: 'true',
    });
    // Timings the example leaves unset stay the sidecar's defaults.
    for (const name of ['ETCD_LEASE_TTL', 'ETCD_RENEW_DEADLINE', 'ETCD_RETRY_PERIOD', 'ETCD_KEY_PREFIX'])
      expect(env, name).not.toHaveProperty(name);
    const pod = podSpec(objects);
    const sidecar = pod.initContainers.find((c) => c.name === 'forge-manager')!;
    expect(sidecar.volumeMounts).toContainEqual({
      name: 'etcd-client-tls',
      mountPath: '/etc/forge-etcd',
      readOnly: true,
    });
    expect(pod.volumes).toContainEqual({
      name: 'etcd-client-tls',
      secret: expect.objectContaining({ secretName: 'bp-etcd-client' }),
    });
    const node = pod.containers.find((c) => c.name === 'cardano-node')!;
    expect(node.volumeMounts.map((m) => m.name)).not.toContain('etcd-client-tls');
  });

  it("the sidecar's own config validation accepts the chart's env and runs in global mode", async () => {
    const objects = await renderChart({
      namespace: 'cardano',
      valuesFiles: [MULTI_REGION],
      set: ['crossRegion.leaseTtlSeconds=12', 'crossRegion.keyPrefix=/forge/exmpl/'],
    });
    const cwd = await mkdtemp(join(tmpdir(), 'helm-global-env-'));
    workDirs.push(cwd);
    const config = await loadConfig({
      env: { ...sidecarEnv(objects), POD_NAME: 'bp-0', NAMESPACE: 'cardano' },
      cwd,
    });
    expect(config.etcdArbiter).toMatchObject({
      enabled: true,
      endpoints: ENDPOINTS,
      region: 'eu-west-1',
      keyPrefix: '/forge/exmpl/',
      leaseTtlSeconds: 12,
      holdDownSeconds: 30,
      etcdElectionTimeoutMs: 1000,
      tls: {
        caFile: '/etc/forge-etcd/ca.crt',
        certFile: '/etc/forge-etcd/tls.crt',
        keyFile: '/etc/forge-etcd/tls.key',
      },
    });
  });

  it('without crossRegion.enabled: no ETCD_* variable, no etcd volume or mount', async () => {
    for (const set of [
      [],
      // Endpoints and a Secret left in values do nothing while disabled.
      ['crossRegion.etcd.endpoints[0]=https://e:2379', 'crossRegion.etcd.tls.secretName=bp-etcd-client'],
    ]) {
      const objects = await renderChart({ namespace: 'cardano', set: ['cluster.enabled=true', ...set] });
      const env = sidecarEnv(objects);
      expect(ETCD_VARS.filter((name) => name in env)).toEqual([]);
      const pod = podSpec(objects);
      expect(pod.volumes.map((v) => v.name)).not.toContain('etcd-client-tls');
      for (const c of [...pod.initContainers, ...pod.containers])
        expect(c.volumeMounts.map((m) => m.name)).not.toContain('etcd-client-tls');
    }
  });

  it('server TLS only (empty certKey and keyKey): the CA file alone', async () => {
    const objects = await renderChart({
      namespace: 'cardano',
      set: [
        ...ENABLED,
        ...httpsEndpoints,
        'crossRegion.etcd.tls.secretName=etcd-ca',
        'crossRegion.etcd.tls.certKey=',
        'crossRegion.etcd.tls.keyKey=',
      ],
    });
    const env = sidecarEnv(objects);
    expect(env.ETCD_CA_FILE).toBe('/etc/forge-etcd/ca.crt');
    expect(env).not.toHaveProperty('ETCD_CERT_FILE');
    expect(env).not.toHaveProperty('ETCD_KEY_FILE');
  });

  it('refuses global mode it cannot run, naming the value to fix', async () => {
    const refused: Array<[readonly string[], RegExp]> = [
      [ENABLED, /crossRegion.enabled needs crossRegion.etcd.endpoints/],
      [
        [...ENABLED, ...httpsEndpoints],
        /crossRegion.etcd.tls.secretName is required with https:\/\/ endpoints/,
      ],
      [
        [...ENABLED, 'crossRegion.etcd.endpoints[0]=http://e:2379', 'crossRegion.etcd.tls.secretName=s'],
        /secretName \(s\) is set but the endpoints are http:\/\//,
      ],
      [
        [...ENABLED, ...httpsEndpoints, 'crossRegion.etcd.tls.secretName=s', 'crossRegion.etcd.tls.keyKey='],
        /certKey is set without crossRegion.etcd.tls.keyKey/,
      ],
      [
        [...ENABLED, ...httpsEndpoints, 'crossRegion.etcd.tls.secretName=s', 'crossRegion.etcd.tls.certKey='],
        /keyKey is set without crossRegion.etcd.tls.certKey/,
      ],
      [
        [...ENABLED, ...httpsEndpoints, 'crossRegion.etcd.tls.secretName=s', 'crossRegion.etcd.tls.caKey='],
        /crossRegion.etcd.tls.caKey is empty/,
      ],
      [
        [
          ...ENABLED,
          'crossRegion.etcd.endpoints[0]=https://a:2379',
          'crossRegion.etcd.endpoints[1]=http://b:2379',
        ],
        /mixes http:\/\/ and https:\/\//,
      ],
      [
        [...ENABLED, 'crossRegion.etcd.endpoints[0]=etcd-eu:2379'],
        /"etcd-eu:2379" is not an etcd client URL/,
      ],
      [
        ['crossRegion.enabled=true', 'crossRegion.etcd.endpoints[0]=http://e:2379'],
        /needs this region's name.*set cluster.region \(or crossRegion.region\)/,
      ],
      [
        [...ENABLED, 'crossRegion.etcd.endpoints[0]=http://e:2379', 'crossRegion.region=EU_West'],
        /region "EU_West" is not a DNS-1123 label/,
      ],
      [
        [...ENABLED, 'crossRegion.etcd.endpoints[0]=http://e:2379', 'crossRegion.keyPrefix=forge'],
        /crossRegion.keyPrefix "forge" must start with \//,
      ],
    ];
    for (const [set, message] of refused)
      await expect(renderChart({ namespace: 'x', set }), set.join(' ')).rejects.toThrow(message);
  });
});

describe('every rendered object is accepted by the real kube-apiserver (server-side dry-run)', () => {
  beforeAll(async () => {
    // The prometheus-operator CRDs do not exist on a bare apiserver: minimal stand-ins.
    await installCrds(testKubeConfig(), join(REPO, 'test/integration/fixtures'));
  });

  const cases: Record<string, { files: readonly string[]; set?: readonly string[] }> = {
    ...Object.fromEntries(Object.entries(VALUES_FILES).map(([n, files]) => [n, { files }])),
    'every optional template on': { files: [], set: EVERYTHING_ON },
  };
  for (const [name, { files, set }] of Object.entries(cases)) {
    it(name, async () => {
      const kc = testKubeConfig();
      const ns = await createTestNamespace(kc, 'helm-dry-run');
      const objects = await renderChart({ namespace: ns.name, valuesFiles: files, ...(set ? { set } : {}) });
      expect(objects.map((o) => o.kind)).toEqual(
        expect.arrayContaining([
          'ServiceAccount',
          'Role',
          'RoleBinding',
          'Service',
          'StatefulSet',
          'PodDisruptionBudget',
        ]),
      );
      if (set === EVERYTHING_ON)
        expect(objects.map((o) => o.kind)).toEqual(
          expect.arrayContaining(['ServiceMonitor', 'PrometheusRule', 'ConfigMap']),
        );
      const client = KubernetesObjectApi.makeApiClient(kc);
      const rejected: string[] = [];
      for (const object of objects) {
        expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBe(ns.name);
        try {
          await client.create(object as KubernetesObject, undefined, 'All');
        } catch (error) {
          rejected.push(`${object.kind}/${object.metadata.name}: ${errorText(error)}`);
        }
      }
      expect(rejected).toEqual([]);
      // Dry-run persisted nothing.
      const sa = await kc.makeApiClient(CoreV1Api).listNamespacedServiceAccount({ namespace: ns.name });
      expect(sa.items).toEqual([]);
    });
  }
});

// ------------------------------------------------------------------------------------------------
// RBAC: the real sidecar with exactly the chart's Role, impersonating its ServiceAccount.
// ------------------------------------------------------------------------------------------------

interface RoleRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

/**
 * Granted on purpose although this sidecar's code does not call them yet; each entry says why.
 * Any other granted verb that the audit log does not show being used fails the test.
 */
const GRANTED_BUT_NOT_YET_USED: Record<string, string> = {
  '/events:patch':
    'Kubernetes Events: a repeated event is aggregated with a patch; this short run repeats none',
};

// Multi-tenant names: the chart computes them for the Role, the sidecar computes them itself (the
// chart does not pass LEASE_NAME / CRD_NAME unless told to), so this run also proves they agree.
const RBAC_POOL_ID = `pool1rbacpool${'q'.repeat(43)}`;
const RBAC_VALUES = [
  'cluster.enabled=true',
  'cluster.region=eu-1',
  'pool.network=preprod',
  `pool.id=${RBAC_POOL_ID}`,
];

interface RbacRun {
  forged: boolean;
  leaderStatusWritten: boolean;
  clusterStatusWritten: boolean;
  exitCode: number | null;
  /** Lines of the sidecar's log that report a 403. */
  forbidden: string[];
}

/** Creates the chart's ServiceAccount, Role (optionally edited) and RoleBinding for real in ns. */
async function installChartRbac(
  kc: KubeConfig,
  namespace: string,
  editRole: (rules: RoleRule[]) => RoleRule[] = (r) => r,
): Promise<{ serviceAccount: string; rules: RoleRule[]; env: Record<string, string> }> {
  const objects = await renderChart({ namespace, set: RBAC_VALUES });
  const client = KubernetesObjectApi.makeApiClient(kc);
  let serviceAccount = '';
  let rules: RoleRule[] = [];
  for (const object of objects) {
    if (object.kind === 'Role') {
      rules = editRole(object.rules as RoleRule[]);
      object.rules = rules;
    }
    if (object.kind === 'ServiceAccount') serviceAccount = object.metadata.name;
    if (['ServiceAccount', 'Role', 'RoleBinding'].includes(object.kind))
      await client.create(object as KubernetesObject);
  }
  return { serviceAccount, rules, env: sidecarEnv(objects) };
}

/** The admin kubeconfig, impersonating system:serviceaccount:<ns>:<name> (kubeconfig `as:`). */
async function impersonatingKubeconfig(
  dir: string,
  namespace: string,
  serviceAccount: string,
): Promise<string> {
  const kc = testKubeConfig();
  const user = kc.getCurrentUser()!;
  const impersonating = { ...user, impersonateUser: `system:serviceaccount:${namespace}:${serviceAccount}` };
  kc.users = kc.users.map((u) => (u.name === user.name ? impersonating : u));
  const path = join(dir, 'kubeconfig-sa');
  await writeFile(path, kc.exportConfig(), { mode: 0o600 });
  return path;
}

async function runSidecarWithChartRbac(
  namespace: string,
  editRole?: (rules: RoleRule[]) => RoleRule[],
): Promise<RbacRun & { rules: RoleRule[]; serviceAccount: string }> {
  const kc = testKubeConfig();
  const { serviceAccount, rules, env } = await installChartRbac(kc, namespace, editRole);
  const dir = await mkdtemp(join(tmpdir(), 'forge-rbac-'));
  workDirs.push(dir);
  const sourceDir = join(dir, 'secrets');
  await writeFakeCredentials(sourceDir);
  // The names and policy settings exactly as the chart passes them; paths and timings are the test's.
  const fromChart = Object.fromEntries(
    [
      'LEASE_NAME',
      'CRD_NAME',
      'LEGACY_LEASE_NAME',
      'POOL_ID',
      'CARDANO_NETWORK',
      'NETWORK_MAGIC',
      'ENABLE_CLUSTER_MANAGEMENT',
      'CLUSTER_REGION',
      'CLUSTER_PRIORITY',
      'CLUSTER_ENVIRONMENT',
      // '' counts as unset: ForgePod's own LEASE_NAME / CRD_NAME are cleared when the chart sets none.
    ].map((k) => [k, env[k] ?? '']),
  );
  // The chart gives POD_UID from the downward API (fieldRef), which has no literal value to copy.
  fromChart['POD_UID'] = randomUUID();
  const pod = new ForgePod({
    name: 'bp-0',
    namespace,
    kubeconfigPath: await impersonatingKubeconfig(dir, namespace, serviceAccount),
    pool: 'pool1rbac',
    sourceDir,
    eventLog: join(dir, 'events.jsonl'),
    workDir: join(dir, 'bp-0'),
    leaseName: leaseNameFromRole(rules),
    extraEnv: fromChart,
  });
  const custom = kc.makeApiClient(CustomObjectsApi);
  const leaderName = resourceNamesOf(rules, 'cardanoleaders')[0]!;
  const clusterName = clusterNameFromRole(rules);
  let forged: boolean;
  let leaderStatusWritten: boolean;
  let clusterStatusWritten: boolean;
  let exitCode: number | null;
  try {
    await pod.start();
    forged = await pod.node!.waitForForging(true, 30_000).then(
      () => true,
      () => false,
    );
    leaderStatusWritten = await waitFor(
      'CardanoLeader status naming bp-0',
      async () => {
        const o = (await custom.getNamespacedCustomObject({
          group: 'cardano.io',
          version: 'v1',
          namespace,
          plural: 'cardanoleaders',
          name: leaderName,
        })) as {
          status?: { leaderPod?: string; forgingEnabled?: boolean };
        };
        return o.status?.leaderPod === 'bp-0' && o.status.forgingEnabled === true;
      },
      15_000,
    ).then(
      () => true,
      () => false,
    );
    clusterStatusWritten = await waitFor(
      'CardanoForgeCluster status',
      async () => {
        const o = (await custom.getNamespacedCustomObject({
          group: 'cardano.io',
          version: 'v1',
          namespace,
          plural: 'cardanoforgeclusters',
          name: clusterName,
        })) as {
          status?: Record<string, unknown>;
        };
        return o.status !== undefined && Object.keys(o.status).length > 0;
      },
      15_000,
    ).then(
      () => true,
      () => false,
    );
  } finally {
    exitCode = await pod.stopSidecar();
    await pod.dispose();
  }
  const logs = (await readdir(pod.options.workDir)).filter((f) => f.startsWith('sidecar-'));
  const forbidden: string[] = [];
  for (const f of logs)
    for (const line of (await readFile(join(pod.options.workDir, f), 'utf8')).split('\n'))
      if (/\b403\b|forbidden/i.test(line)) forbidden.push(line.slice(0, 400));
  return { forged, leaderStatusWritten, clusterStatusWritten, exitCode, forbidden, rules, serviceAccount };
}

function resourceNamesOf(rules: RoleRule[], resource: string): string[] {
  return rules.filter((r) => r.resources.includes(resource)).flatMap((r) => r.resourceNames ?? []);
}
function clusterNameFromRole(rules: RoleRule[]): string {
  return resourceNamesOf(rules, 'cardanoforgeclusters')[0]!;
}
/** The pool's lease: the first name the lease rule grants (the legacy lease comes second). */
function leaseNameFromRole(rules: RoleRule[]): string {
  return resourceNamesOf(rules, 'leases')[0]!;
}

/** `<apiGroup>/<resource>[/<subresource>]:<verb>` for every verb a Role grants. */
function grantedVerbs(rules: RoleRule[]): Set<string> {
  const out = new Set<string>();
  for (const rule of rules)
    for (const group of rule.apiGroups)
      for (const resource of rule.resources)
        for (const verb of rule.verbs) out.add(`${group}/${resource}:${verb}`);
  return out;
}

interface AuditEvent {
  verb: string;
  stage: string;
  impersonatedUser?: { username?: string };
  objectRef?: {
    apiGroup?: string;
    resource?: string;
    subresource?: string;
    namespace?: string;
    name?: string;
  };
  responseStatus?: { code?: number };
}

describe('RBAC: the sidecar with exactly the chart Role, as its ServiceAccount', () => {
  it('elects, forges, writes both statuses and exits 0; the Role grants nothing it does not use', async () => {
    const kc = testKubeConfig();
    // The apiserver audits this one namespace (test/controlplane/index.ts), never reused in a run.
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: AUDITED_NAMESPACE } } });
    const result = await runSidecarWithChartRbac(AUDITED_NAMESPACE);
    expect(result.forbidden).toEqual([]);
    expect(result).toMatchObject({
      forged: true,
      leaderStatusWritten: true,
      clusterStatusWritten: true,
      exitCode: 0,
    });

    const auditLog = inject('forgeAuditLog');
    const granted = grantedVerbs(result.rules);
    let used: Set<string>;
    if (auditLog === '') {
      // An existing cluster (FORGE_TEST_KUBECONFIG) has no audit log we can read: compare with the
      // verbs the code calls (packages/framework/src/{plugins/kubernetes-lease,manager,cluster}).
      used = new Set([
        'coordination.k8s.io/leases:get',
        'coordination.k8s.io/leases:create',
        'coordination.k8s.io/leases:update',
        'coordination.k8s.io/leases:watch',
        'cardano.io/cardanoleaders:get',
        'cardano.io/cardanoleaders:create',
        'cardano.io/cardanoleaders/status:patch',
        'cardano.io/cardanoforgeclusters:get',
        'cardano.io/cardanoforgeclusters:create',
        'cardano.io/cardanoforgeclusters:watch',
        'cardano.io/cardanoforgeclusters/status:patch',
      ]);
    } else {
      const username = `system:serviceaccount:${AUDITED_NAMESPACE}:${result.serviceAccount}`;
      const events = (await readFile(auditLog, 'utf8'))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as AuditEvent)
        .filter((e) => e.impersonatedUser?.username === username && e.objectRef?.resource !== undefined);
      expect(events.length).toBeGreaterThan(0);
      expect(events.filter((e) => e.responseStatus?.code === 403)).toEqual([]);
      used = new Set(
        events.map((e) => {
          const ref = e.objectRef!;
          return `${ref.apiGroup ?? ''}/${ref.resource}${ref.subresource ? `/${ref.subresource}` : ''}:${e.verb}`;
        }),
      );
    }
    // Every verb used is granted (else it would have been a 403 above) ...
    expect([...used].filter((v) => !granted.has(v))).toEqual([]);
    // ... and every verb granted is used, or listed with its reason.
    const unused = [...granted].filter((v) => !used.has(v) && !(v in GRANTED_BUT_NOT_YET_USED));
    expect(unused, 'granted but never used by the sidecar: remove from templates/role.yaml').toEqual([]);
    for (const v of Object.keys(GRANTED_BUT_NOT_YET_USED))
      expect(granted.has(v), `${v} listed but not granted`).toBe(true);
  });

  it('a Role missing one verb fails the check (cardanoleaders/status patch removed)', async () => {
    const ns = await createTestNamespace(testKubeConfig(), 'rbac-missing');
    const result = await runSidecarWithChartRbac(ns.name, (rules) =>
      rules.filter((r) => !r.resources.includes('cardanoleaders/status')),
    );
    expect(result.leaderStatusWritten).toBe(false);
    expect(result.forbidden.some((l) => /cardanoleaders/.test(l))).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------------

interface ContainerLike {
  name: string;
  args?: string[];
  restartPolicy?: string;
  env?: Array<{ name: string; value?: string }>;
  ports: unknown[];
  startupProbe: { httpGet: unknown };
  livenessProbe: { httpGet: unknown };
  securityContext: { readOnlyRootFilesystem?: boolean };
  volumeMounts: Array<{ name: string; mountPath: string }>;
}
interface StatefulSetLike {
  spec: {
    template: {
      spec: {
        shareProcessNamespace?: boolean;
        automountServiceAccountToken?: boolean;
        initContainers: ContainerLike[];
        containers: ContainerLike[];
        volumes: Array<{ name: string } & Record<string, unknown>>;
      };
    };
  };
}

function podSpec(objects: K8sObject[]): StatefulSetLike['spec']['template']['spec'] {
  const sts = objects.find((o) => o.kind === 'StatefulSet') as unknown as StatefulSetLike;
  return sts.spec.template.spec;
}

function sidecarEnv(objects: K8sObject[]): Record<string, string> {
  const sidecar = podSpec(objects).initContainers.find((c) => c.name === 'forge-manager')!;
  return Object.fromEntries(
    (sidecar.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]),
  );
}

function errorText(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  return typeof body === 'string' ? body : error instanceof Error ? error.message : String(error);
}
