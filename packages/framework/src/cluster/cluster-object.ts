/**
 * The CardanoForgeCluster this pool's manager creates when none exists: built from the config
 * with only values the CRD schema accepts (G10), so creating it never fails on validation.
 */
import type { ClusterObject } from './gateway.js';
import { toDns1123Label } from './naming.js';

/** What the object is built from: the manager's options (cluster/manager.ts) carry these fields. */
export interface ClusterObjectInput {
  readonly namespace: string;
  readonly names: { readonly clusterName: string };
  /** `network`/`networkMagic` here are used when `network` is not given (the config's pool block). */
  readonly pool: {
    readonly id: string;
    readonly idHex?: string;
    readonly name?: string;
    readonly ticker?: string;
    readonly network?: string;
    readonly networkMagic?: number;
  };
  readonly network?: { readonly name: string; readonly magic: number };
  readonly region: string;
  readonly environment: string;
  readonly basePriority: number;
  readonly applicationType: string;
  readonly crd: { readonly group: string; readonly version: string };
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const NETWORK_NAMES = ['mainnet', 'preprod', 'preview', 'custom'];
const APPLICATION_TYPES = ['block-producer', 'relay-only', 'monitoring', 'custom'];
const ENVIRONMENTS = ['production', 'staging', 'development', 'testing'];

export function networkOf(options: Pick<ClusterObjectInput, 'network' | 'pool'>): {
  name: string;
  magic: number;
} {
  return options.network ?? { name: options.pool.network ?? 'custom', magic: options.pool.networkMagic ?? 0 };
}

export function buildClusterObject(options: ClusterObjectInput): ClusterObject {
  const net = networkOf(options);
  const labels: Record<string, string> = {};
  const label = (key: string, value: string | undefined): void => {
    if (value !== undefined && value !== '' && value.length <= 63 && LABEL_VALUE.test(value))
      labels[key] = value;
  };
  const network = net.name.trim().toLowerCase();
  const region = toDns1123Label(options.region === '' ? 'unknown' : options.region);
  label('cardano.io/region', region);
  label('cardano.io/environment', options.environment);
  label('cardano.io/managed-by', 'cardano-forge-manager');
  label('cardano.io/network', network);
  label('cardano.io/application', options.applicationType);
  label('cardano.io/pool-id', options.pool.id);
  label('cardano.io/pool-id-hex', options.pool.idHex?.toLowerCase());
  label('cardano.io/pool-ticker', options.pool.ticker);

  const pool: Record<string, string> = {};
  const id = options.pool.id.trim();
  if (/^pool1[a-z0-9]{51}$/.test(id)) pool.id = id;
  const idHex = options.pool.idHex?.trim().toLowerCase() ?? '';
  if (/^[a-f0-9]{56}$/.test(idHex)) pool.idHex = idHex;
  const name = options.pool.name?.trim() ?? '';
  if (name !== '') pool.name = name.slice(0, 50);
  const ticker = options.pool.ticker?.trim() ?? '';
  if (/^[A-Z0-9]{1,5}$/.test(ticker)) pool.ticker = ticker;

  const application: Record<string, string> = {
    type: APPLICATION_TYPES.includes(options.applicationType) ? options.applicationType : 'custom',
  };
  if (ENVIRONMENTS.includes(options.environment)) application.environment = options.environment;
  const magic = Number.isSafeInteger(net.magic) && net.magic >= 0 ? net.magic : 0;
  return {
    apiVersion: `${options.crd.group}/${options.crd.version}`,
    kind: 'CardanoForgeCluster',
    metadata: { name: options.names.clusterName, namespace: options.namespace, labels },
    spec: {
      network: { name: NETWORK_NAMES.includes(network) ? network : 'custom', magic },
      ...(Object.keys(pool).length > 0 ? { pool } : {}),
      application,
      region,
      forgeState: 'Priority-based',
      priority: Math.min(999, Math.max(1, Math.round(options.basePriority))),
    },
  };
}
