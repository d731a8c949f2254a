/**
 * The one schema for the whole configuration. Every field has a default (except `podName`), so a
 * config file may be empty and an existing Python-sidecar deployment can run on env vars alone
 * (see env.ts). Objects are strict: a misspelt key is an error, not a silently ignored setting.
 */
import { z } from 'zod';
import type { ForgePlugin } from '../plugin/define.js';
import { PLUGIN_BRAND } from '../plugin/define.js';
import { revocationBudget } from '../core/timing.js';
import { arbiterTiming } from '../plugins/etcd-arbiter/protocol.js';

/** The node's SIGHUP latency bound L when none is configured (docs/safety.md §9). */
export const DEFAULT_SIGHUP_LATENCY_BOUND_MS = 2000;

/** Python logging names (and pino's own) → pino levels. */
const LOG_LEVEL_ALIASES: Readonly<Record<string, PinoLevel>> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
  fatal: 'fatal',
  silent: 'silent',
};
export type PinoLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export const LOG_LEVEL_NAMES: readonly string[] = Object.keys(LOG_LEVEL_ALIASES);

export function normalizeLogLevel(value: unknown): PinoLevel | undefined {
  if (typeof value !== 'string') return undefined;
  return LOG_LEVEL_ALIASES[value.trim().toLowerCase()];
}

const logLevel = z.string().transform((value, ctx) => {
  const level = normalizeLogLevel(value);
  if (level === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `unknown log level ${JSON.stringify(value)} (expected one of ${LOG_LEVEL_NAMES.join(', ')}, any case)`,
    });
    return z.NEVER;
  }
  return level;
});

function isPluginObject(value: unknown): value is ForgePlugin {
  // Only the brand is checked here; the loader reports everything else with the config path.
  return (
    typeof value === 'object' && value !== null && (value as { $$type?: unknown }).$$type === PLUGIN_BRAND
  );
}

const pluginObject = z.custom<ForgePlugin>(isPluginObject, {
  message: 'expected a plugin made with definePlugin() (missing brand)',
});
const pluginUse = z.union([z.string().min(1, 'plugin name must not be empty'), pluginObject]);

/** How a config names a plugin: a package name, the imported plugin object, or either with options. */
export type PluginRef =
  string | ForgePlugin | { use: string | ForgePlugin; id?: string | undefined; options?: unknown };

const pluginRef: z.ZodType<PluginRef> = z.union([
  pluginUse,
  z.strictObject({
    use: pluginUse,
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'id must be letters, digits, ".", "_" or "-"')
      .optional(),
    options: z.unknown().optional(),
  }),
]);

const seconds = (min = 1) => z.number().int('must be a whole number of seconds').min(min);
const port = z.number().int().min(0).max(65535);
const url = z.url({ message: 'expected a URL' });

export const ForgeConfigSchema = z
  .strictObject({
    podName: z.string({ error: 'is required (env POD_NAME)' }).min(1, 'must not be empty (env POD_NAME)'),
    namespace: z.string().min(1).default('default'),
    pool: z
      .strictObject({
        network: z.string().min(1).default('mainnet'),
        networkMagic: z.number().int().min(0).default(764824073),
        id: z.string().default(''),
        idHex: z
          .string()
          .regex(/^[a-fA-F0-9]*$/, 'must be hexadecimal')
          .default(''),
        name: z.string().default(''),
        ticker: z.string().default(''),
        applicationType: z.string().min(1).default('block-producer'),
      })
      .prefault({}),
    loop: z.strictObject({ intervalSeconds: seconds().default(5) }).prefault({}),
    election: z
      .strictObject({
        /** undefined → computed from pool/network by the naming rules. */
        leaseName: z.string().min(1).optional(),
        /** A second lease to hold as well (upgrade from the Python sidecar), or false for none;
         * undefined → automatic (cluster/naming.ts ForgeNames.legacyLeaseName). */
        legacyLeaseName: z
          .preprocess(
            (v) =>
              typeof v === 'string' && ['false', 'none', 'off'].includes(v.trim().toLowerCase()) ? false : v,
            z.union([z.literal(false), z.string().min(1)]),
          )
          .optional(),
        leaseDurationSeconds: seconds().default(15),
        /** Default: 2/3 of the lease duration (10 s for 15 s), so a Python deployment that only sets
         * LEASE_DURATION keeps a valid timing whatever its value. */
        renewDeadlineSeconds: seconds().optional(),
        /** Default: a fifth of the renew deadline, at least 1 s (2 s for 10 s). */
        retryPeriodSeconds: seconds().optional(),
      })
      .prefault({})
      .transform((e) => {
        const renewDeadlineSeconds =
          e.renewDeadlineSeconds ?? Math.max(1, Math.round((e.leaseDurationSeconds * 2) / 3));
        const retryPeriodSeconds = e.retryPeriodSeconds ?? Math.max(1, Math.floor(renewDeadlineSeconds / 5));
        return { ...e, renewDeadlineSeconds, retryPeriodSeconds };
      }),
    credentials: z
      .strictObject({
        source: z
          .strictObject({
            kesKey: z.string().min(1).default('/secrets/kes.skey'),
            vrfKey: z.string().min(1).default('/secrets/vrf.skey'),
            opCert: z.string().min(1).default('/secrets/node.cert'),
          })
          .prefault({}),
        target: z
          .strictObject({
            kesKey: z.string().min(1).default('/opt/cardano/secrets/kes.skey'),
            vrfKey: z.string().min(1).default('/opt/cardano/secrets/vrf.skey'),
            opCert: z.string().min(1).default('/opt/cardano/secrets/node.cert'),
          })
          .prefault({}),
      })
      .prefault({}),
    node: z
      .strictObject({
        socketPath: z.string().min(1).default('/ipc/node.socket'),
        socketWaitTimeoutSeconds: seconds(0).default(600),
        disableSocketCheck: z.boolean().default(false),
        processName: z.string().min(1).default('cardano-node'),
        pidDiscovery: z.enum(['socket', 'name']).default('socket'),
        metricsUrl: url.optional(),
        /** Tip gate: the node counts as "at tip" when within this many slots. Unset = no gate. */
        maxSlotLag: z.number().int().min(0).optional(),
        /**
         * Where the chain's wall-clock slot count starts (a slot number and its UNIX time, 1 s slots
         * from there on). Default: known for mainnet, preprod and preview; required for the tip gate
         * on other networks (otherwise the node is judged against its own progress only).
         */
        slotReference: z
          .strictObject({ slot: z.number().int().min(0), unixSeconds: z.number().int().min(0) })
          .optional(),
        startAsNonProducing: z.boolean().default(true),
        /**
         * Assumed bound from a delivered SIGHUP to cardano-node having (un)loaded its credentials. Part
         * of the revocation budget (LD − RD); without node.metricsUrl it is also how long the sidecar
         * waits before it takes a SIGHUP as applied (docs/safety.md, "Timing").
         */
        sighupLatencyBoundMs: z.number().int().min(1).default(DEFAULT_SIGHUP_LATENCY_BOUND_MS),
        /**
         * How long a leader whose node cannot forge (PID not found, SIGHUP failing, forging metric
         * still 0, behind the tip) keeps the lease before handing over to an eligible standby.
         */
        handoverHoldDownSeconds: seconds().default(30),
      })
      .prefault({}),
    crd: z
      .strictObject({
        group: z.string().min(1).default('cardano.io'),
        version: z.string().min(1).default('v1'),
        leaderPlural: z.string().min(1).default('cardanoleaders'),
        /** undefined → computed by the naming rules. */
        leaderName: z.string().min(1).optional(),
      })
      .prefault({}),
    cluster: z
      .strictObject({
        enabled: z.boolean().default(false),
        identifier: z.string().min(1).optional(),
        region: z.string().min(1).default('unknown'),
        environment: z.string().min(1).default('production'),
        priority: z.number().int().min(1).max(999).default(100),
        policyStaleAfterSeconds: seconds().default(60),
        healthCheck: z
          .strictObject({
            endpoint: url.optional(),
            intervalSeconds: seconds().default(30),
            timeoutSeconds: seconds().default(10),
            failureThreshold: z.number().int().min(1).default(3),
            recoveryThreshold: z.number().int().min(1).default(1),
          })
          .prefault({}),
      })
      .prefault({}),
    // Cross-region arbiter on etcd v3 (docs/coordination.md). Off: single-cluster mode, no etcd at all.
    etcdArbiter: z
      .strictObject({
        enabled: z.boolean().default(false),
        /** etcd client URLs, e.g. https://etcd-eu.example:2379 (one per member). */
        endpoints: z.array(url).default([]),
        /** PEM files from a mounted Secret. */
        tls: z
          .strictObject({
            caFile: z.string().min(1).optional(),
            certFile: z.string().min(1).optional(),
            keyFile: z.string().min(1).optional(),
          })
          .prefault({}),
        /** This region's name in etcd; default cluster.region. */
        region: z
          .string()
          .regex(
            /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
            'must be a DNS-1123 label (lower-case letters, digits, -)',
          )
          .max(63)
          .optional(),
        /** Default /cardano-forge/v1/<lease name>/ (one prefix per pool from the naming rules). */
        keyPrefix: z.string().startsWith('/', 'must start with /').optional(),
        leaseTtlSeconds: seconds().default(10),
        renewDeadlineSeconds: seconds().default(4),
        retryPeriodSeconds: seconds().default(1),
        holdDownSeconds: seconds(0).default(30),
        /** etcd's --election-timeout in ms (part of the fencing margin). */
        etcdElectionTimeoutMs: z.number().int().min(1).default(1000),
      })
      .prefault({}),
    // KES / operational-certificate expiry monitor (src/kes/). Genesis values default per network.
    kes: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** shelley-genesis slotsPerKESPeriod; default known for mainnet, preprod and preview. */
        slotsPerKESPeriod: z.number().int().min(1).optional(),
        /** shelley-genesis maxKESEvolutions; default known for mainnet, preprod and preview. */
        maxKESEvolutions: z.number().int().min(1).optional(),
        /** Status warns (and the alert fires) from this long before expiry. */
        warnBeforeSeconds: seconds(0).default(7 * 24 * 3600),
        checkIntervalSeconds: seconds().default(300),
      })
      .prefault({}),
    http: z
      .strictObject({
        host: z.string().min(1).default('0.0.0.0'),
        port: port.default(8000),
      })
      .prefault({}),
    log: z.strictObject({ level: logLevel.default('info') }).prefault({}),
    plugins: z
      .strictObject({
        leaderElector: pluginRef.default('kubernetes-lease'),
        credentialProvisioner: pluginRef.default('files'),
        priority: pluginRef.default('@cardano-forge/priority-static'),
        health: z.array(pluginRef).default([]),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    // client-go's rule (leaderelection.go NewLeaderElector): leaseDuration > renewDeadline > 1.2 * retryPeriod.
    const e = config.election;
    if (!(e.leaseDurationSeconds > e.renewDeadlineSeconds)) {
      ctx.addIssue({
        code: 'custom',
        path: ['election', 'leaseDurationSeconds'],
        message: `must be greater than election.renewDeadlineSeconds (${e.leaseDurationSeconds} <= ${e.renewDeadlineSeconds})`,
      });
    }
    if (!(e.renewDeadlineSeconds > 1.2 * e.retryPeriodSeconds)) {
      ctx.addIssue({
        code: 'custom',
        path: ['election', 'renewDeadlineSeconds'],
        message: `must be greater than 1.2 × election.retryPeriodSeconds (${e.renewDeadlineSeconds} <= ${1.2 * e.retryPeriodSeconds})`,
      });
    }
    // The whole revocation chain must fit in the fencing margin (core/timing.ts).
    if (e.leaseDurationSeconds > e.renewDeadlineSeconds) {
      const timing = revocationBudget({
        leaseDurationSeconds: e.leaseDurationSeconds,
        renewDeadlineSeconds: e.renewDeadlineSeconds,
        sighupLatencyBoundMs: config.node.sighupLatencyBoundMs,
      });
      if (!timing.ok)
        ctx.addIssue({ code: 'custom', path: ['election', 'leaseDurationSeconds'], message: timing.message });
      else if (config.etcdArbiter.enabled) checkArbiter(config, timing.budget.chainMs, ctx);
    }
  })
  .transform((config) => {
    // Python parity: HEALTH_CHECK_ENDPOINT alone turns on an HTTP health check.
    const endpoint = config.cluster.healthCheck.endpoint;
    if (endpoint !== undefined && config.plugins.health.length === 0) {
      return {
        ...config,
        plugins: {
          ...config.plugins,
          health: [
            { use: '@cardano-forge/health-http', id: 'endpoint', options: { url: endpoint } },
          ] as PluginRef[],
        },
      };
    }
    return config;
  });

/** Global mode's own rules: endpoints, a real region name, TLS pairs, and the fencing margin. */
function checkArbiter(
  config: {
    etcdArbiter: {
      endpoints: string[];
      region?: string | undefined;
      tls: { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined };
      leaseTtlSeconds: number;
      renewDeadlineSeconds: number;
      retryPeriodSeconds: number;
      etcdElectionTimeoutMs: number;
    };
    cluster: { region: string };
  },
  chainMs: number,
  ctx: z.RefinementCtx,
): void {
  const a = config.etcdArbiter;
  if (a.endpoints.length === 0)
    ctx.addIssue({
      code: 'custom',
      path: ['etcdArbiter', 'endpoints'],
      message: 'global mode needs the etcd client URLs (env ETCD_ENDPOINTS, comma-separated)',
    });
  const region = a.region ?? config.cluster.region;
  if (region === 'unknown')
    ctx.addIssue({
      code: 'custom',
      path: ['etcdArbiter', 'region'],
      message:
        'global mode needs a region name unique among the regions of the pool: set cluster.region (env CLUSTER_REGION) or etcdArbiter.region',
    });
  else if (a.region === undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(region))
    ctx.addIssue({
      code: 'custom',
      path: ['cluster', 'region'],
      message: `${JSON.stringify(region)} cannot name a region in etcd: use a DNS-1123 label or set etcdArbiter.region`,
    });
  if ((a.tls.certFile === undefined) !== (a.tls.keyFile === undefined))
    ctx.addIssue({
      code: 'custom',
      path: ['etcdArbiter', 'tls'],
      message: 'certFile and keyFile go together (a client certificate needs its key)',
    });
  if (a.tls.certFile !== undefined && a.tls.caFile === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['etcdArbiter', 'tls', 'caFile'],
      message: 'a client certificate needs the etcd server CA (caFile)',
    });
  const timing = arbiterTiming({
    leaseTtlSeconds: a.leaseTtlSeconds,
    renewDeadlineSeconds: a.renewDeadlineSeconds,
    retryPeriodSeconds: a.retryPeriodSeconds,
    etcdElectionTimeoutMs: a.etcdElectionTimeoutMs,
    revocationChainMs: chainMs,
  });
  if (!timing.ok)
    for (const message of timing.problems)
      ctx.addIssue({ code: 'custom', path: ['etcdArbiter', 'leaseTtlSeconds'], message });
}

/** What a config file may contain (everything optional except podName, which usually comes from env). */
export type ForgeConfigInput = z.input<typeof ForgeConfigSchema>;
/** The config after defaults, env and overrides: what the manager consumes. */
export type ResolvedConfig = z.output<typeof ForgeConfigSchema>;
/** A config file does not need podName (it normally comes from POD_NAME via the downward API). */
export type ForgeConfig = Omit<ForgeConfigInput, 'podName'> & { podName?: string };
