/**
 * Multi-tenant names: which Lease, CardanoLeader and CardanoForgeCluster a pod uses.
 *
 * The scheme is the Python forge manager's (reference §8.7) so a mixed rollout contends for the
 * same Lease: cluster `{network}-{short}-{region}`, lease `cardano-leader-{network}-{short}`.
 * Unlike Python (G11) every name is lower-cased, made a valid DNS-1123 label and kept ≤ 63
 * characters; whenever that loses information (characters replaced, or truncation) a stable hash
 * of the unsanitised name is appended, so different inputs never collapse into one name.
 */
import { createHash } from 'node:crypto';

export const MAX_NAME_LENGTH = 63;
/** Lease and CardanoLeader name when POOL_ID is empty (Python's LEASE_NAME default). */
export const LEGACY_LEASE_NAME = 'cardano-node-leader';
/**
 * CardanoForgeCluster name when POOL_ID is empty and no identifier is configured. Python used the
 * hostname (one CR per pod, G11); a constant keeps every replica of the set on one CR, just as
 * the legacy lease name is shared.
 */
export const LEGACY_CLUSTER_NAME = 'cardano-forge-cluster';

export const KNOWN_NETWORK_MAGICS: Readonly<Record<string, number>> = Object.freeze({
  mainnet: 764824073,
  preprod: 1,
  preview: 2,
});

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HASH_LENGTH = 8;

export interface NameInput {
  readonly network: string;
  /** POOL_ID (bech32 `pool1…` or hex); empty selects the legacy names. */
  readonly poolId: string;
  readonly region: string;
  /** CLUSTER_IDENTIFIER: the legacy CardanoForgeCluster name (used only when poolId is empty). */
  readonly identifier?: string | undefined;
  /** LEASE_NAME when explicitly configured; wins over the computed lease name. */
  readonly leaseNameOverride?: string | undefined;
  /** The CardanoLeader CR name when explicitly configured; defaults to the lease name. */
  readonly leaderNameOverride?: string | undefined;
  /**
   * election.legacyLeaseName: a lease name to hold as well, or false for none. Unset = automatic:
   * the Python sidecar's lease when it differs from ours (see ForgeNames.legacyLeaseName).
   */
  readonly legacyLeaseNameOverride?: string | false | undefined;
}

export interface ForgeNames {
  readonly clusterName: string;
  /** The Lease the elector MUST use (G12: Python computed it and then ignored it). */
  readonly leaseName: string;
  /**
   * A second lease the elector must also hold (migration from the Python sidecar), or null. By
   * default set only when POOL_ID is set and LEASE_NAME is not: the Python sidecar then used
   * `cardano-node-leader` although it computed the multi-tenant name (G12), so during a rolling
   * update an old pod must block new ones there. Turn off with `election.legacyLeaseName: false`
   * once no Python pod is left.
   */
  readonly legacyLeaseName: string | null;
  readonly leaderName: string;
  /** Python's short pool id, lower-cased ('' in legacy mode); also the `pool_id` metric label. */
  readonly poolShort: string;
  readonly multiTenant: boolean;
  /** Human notes when an input had to be changed to be a valid name (empty when none). */
  readonly adjustments: readonly string[];
}

export function isDns1123Label(value: string): boolean {
  return value.length <= MAX_NAME_LENGTH && DNS1123_LABEL.test(value);
}

export function stableHash(value: string, length = HASH_LENGTH): string {
  return createHash('sha256').update(value, 'utf8').digest('hex').slice(0, length);
}

/** Python's short pool id: `pool1` + 5 characters, else the first 8, else the whole id. */
export function poolShortId(poolId: string): string {
  const id = poolId.trim().toLowerCase();
  if (id.startsWith('pool1')) return id.slice(0, 10);
  if (id.length >= 8) return id.slice(0, 8);
  return id;
}

/**
 * Turns any string into a DNS-1123 label of at most `maxLength` characters. Lower-casing alone is
 * not treated as a loss (pool ids, networks and regions are case-insensitive); any other change
 * appends `-<hash of the lower-cased input>` so the result stays unique and stable.
 */
export function toDns1123Label(raw: string, maxLength = MAX_NAME_LENGTH): string {
  const lower = raw.trim().toLowerCase();
  if (isDns1123Label(lower) && lower.length <= maxLength) return lower;
  const cleaned = lower
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
  const suffix = stableHash(lower);
  const room = maxLength - HASH_LENGTH - 1;
  const head = cleaned.slice(0, room).replace(/-+$/g, '');
  return head === '' ? `x${suffix}`.slice(0, maxLength) : `${head}-${suffix}`;
}

export function computeNames(input: NameInput): ForgeNames {
  const adjustments: string[] = [];
  const name = (what: string, raw: string): string => {
    const label = toDns1123Label(raw);
    if (label !== raw) adjustments.push(`${what} ${JSON.stringify(raw)} became ${JSON.stringify(label)}`);
    return label;
  };
  const poolId = input.poolId.trim();
  const multiTenant = poolId !== '';
  const poolShort = multiTenant ? poolShortId(poolId) : '';
  const network = input.network.trim().toLowerCase();
  const region = input.region.trim().toLowerCase();

  const computedLease = multiTenant ? `cardano-leader-${network}-${poolShort}` : LEGACY_LEASE_NAME;
  const override = input.leaseNameOverride?.trim();
  const leaseName = name('lease name', override ? override : computedLease);
  const legacyOverride = input.legacyLeaseNameOverride;
  const legacyRaw =
    legacyOverride === false
      ? null
      : legacyOverride !== undefined && legacyOverride.trim() !== ''
        ? legacyOverride.trim()
        : multiTenant && !override
          ? LEGACY_LEASE_NAME
          : null;
  const legacyCandidate = legacyRaw === null ? null : name('legacy lease name', legacyRaw);
  const legacyLeaseName = legacyCandidate === leaseName ? null : legacyCandidate;
  const leaderOverride = input.leaderNameOverride?.trim();
  const leaderName = leaderOverride ? name('CardanoLeader name', leaderOverride) : leaseName;

  const identifier = input.identifier?.trim();
  const computedCluster = multiTenant
    ? `${network}-${poolShort}-${region}`
    : identifier
      ? identifier
      : LEGACY_CLUSTER_NAME;
  const clusterName = name('CardanoForgeCluster name', computedCluster);
  return { clusterName, leaseName, legacyLeaseName, leaderName, poolShort, multiTenant, adjustments };
}

export type NetworkValidation =
  | {
      readonly ok: true;
      readonly reason: 'network_valid' | 'network_unknown_magic_unchecked';
      readonly message: string;
    }
  | {
      readonly ok: false;
      readonly reason: 'invalid_network' | 'invalid_network_magic' | 'network_magic_mismatch';
      readonly message: string;
    };

/** Known networks must carry their magic; other names (custom, sanchonet, …) accept any magic. */
export function validateNetwork(network: string, magic: number): NetworkValidation {
  const name = network.trim().toLowerCase();
  if (name === '')
    return { ok: false, reason: 'invalid_network', message: 'invalid_network: network name is empty' };
  if (!Number.isSafeInteger(magic) || magic < 0) {
    return {
      ok: false,
      reason: 'invalid_network_magic',
      message: `invalid_network_magic: ${String(magic)} is not a non-negative integer`,
    };
  }
  const expected = KNOWN_NETWORK_MAGICS[name];
  if (expected === undefined) {
    return {
      ok: true,
      reason: 'network_unknown_magic_unchecked',
      message: `network ${name} is not a known public network; magic ${magic} accepted unchecked`,
    };
  }
  if (expected !== magic) {
    return {
      ok: false,
      reason: 'network_magic_mismatch',
      message: `network_magic_mismatch: ${name} expects ${expected}, got ${magic}`,
    };
  }
  return { ok: true, reason: 'network_valid', message: `${name} magic ${magic}` };
}

/** The names for a loaded config: the one place the config's fields map onto computeNames. */
export function namesFromConfig(config: {
  readonly pool: { readonly network: string; readonly id: string };
  readonly cluster: { readonly region: string; readonly identifier?: string | undefined };
  readonly election: {
    readonly leaseName?: string | undefined;
    readonly legacyLeaseName?: string | false | undefined;
  };
  readonly crd: { readonly leaderName?: string | undefined };
}): ForgeNames {
  return computeNames({
    network: config.pool.network,
    poolId: config.pool.id,
    region: config.cluster.region,
    identifier: config.cluster.identifier,
    leaseNameOverride: config.election.leaseName,
    legacyLeaseNameOverride: config.election.legacyLeaseName,
    leaderNameOverride: config.crd.leaderName,
  });
}
