/**
 * Options of the health-prometheus plugin (zod 4, used as the plugin's Standard Schema).
 * Defaults are applied here so `create` always receives a complete, normalised object.
 */
import { z } from 'zod';

export const COMPARISON_OPERATORS = ['<', '<=', '>', '>=', '==', '!='] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];

export const AGGREGATES = ['all', 'any'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

export const NO_DATA_POLICIES = ['fail', 'pass'] as const;
export type NoDataPolicy = (typeof NO_DATA_POLICIES)[number];

export const PRESET_NAMES = ['cardano-node-basic'] as const;
export const PRESET_CHECK_NAMES = ['node-up', 'node-syncing', 'cpu', 'memory', 'disk-free'] as const;
export type PresetCheckName = (typeof PRESET_CHECK_NAMES)[number];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** A PromQL range duration such as `30s`, `5m`, `1h30m`. */
const PROMQL_DURATION = /^([0-9]+(ms|s|m|h|d|w|y))+$/;

/**
 * Label matchers written without braces; PromQL checks the syntax (a mistake shows up as QueryError).
 */
const labelMatchers = z
  .string()
  .trim()
  .refine((s) => !/[{}]/.test(s), 'write the label matchers without braces, e.g. cluster="eu-1"')
  .default('');

const checkSchema = z.strictObject({
  name: z.string().trim().min(1, 'a check needs a name'),
  /** A PromQL expression evaluated as an instant query. */
  query: z.string().trim().min(1, 'a check needs a PromQL query'),
  op: z.enum(COMPARISON_OPERATORS),
  threshold: z.number(),
  /** How several series combine: every series must satisfy the comparison, or at least one. */
  aggregate: z.enum(AGGREGATES).default('all'),
  /** An empty result is a failure unless this says otherwise. */
  onNoData: z.enum(NO_DATA_POLICIES).default('fail'),
});
export type CheckSpec = z.output<typeof checkSchema>;

const presetObjectSchema = z.strictObject({
  name: z.enum(PRESET_NAMES),
  /** `job` label of the cardano-node scrape target(s). */
  job: z.string().min(1).default('cardano-node'),
  /** `job` label of the node_exporter scrape target(s) (CPU, memory, disk). */
  nodeExporterJob: z.string().min(1).default('node-exporter'),
  /** Extra label matchers for every preset query, e.g. `cluster="eu-1"` (labels both targets carry). */
  selector: labelMatchers,
  /** Extra matchers for the cardano-node queries only, e.g. `pod="cardano-bp-0"`. */
  nodeSelector: labelMatchers,
  /** Extra matchers for the node_exporter queries only, e.g. `instance="10.0.0.7:9100"`. */
  systemSelector: labelMatchers,
  /** Metric whose changes show that the node follows the chain. */
  slotMetric: z
    .string()
    .regex(METRIC_NAME, 'not a Prometheus metric name')
    .default('cardano_node_metrics_slotNum_int'),
  /** The slot metric must have changed within this window (a block every ~20 s on mainnet). */
  syncWindow: z.string().regex(PROMQL_DURATION, 'not a PromQL duration such as 5m').default('5m'),
  /** Rate window of the CPU usage query. */
  cpuWindow: z.string().regex(PROMQL_DURATION, 'not a PromQL duration such as 5m').default('5m'),
  maxCpuPercent: z.number().gt(0).lte(100).default(90),
  maxMemoryPercent: z.number().gt(0).lte(100).default(90),
  minDiskFreeGb: z.number().nonnegative().default(10),
  diskMountpoint: z.string().min(1).default('/'),
  /** No data for node-up / node-syncing. */
  nodeOnNoData: z.enum(NO_DATA_POLICIES).default('fail'),
  /** No data for cpu / memory / disk-free, e.g. when node_exporter is not scraped. */
  systemOnNoData: z.enum(NO_DATA_POLICIES).default('fail'),
  /** Preset checks left out entirely. */
  skip: z.array(z.enum(PRESET_CHECK_NAMES)).default([]),
});
export type PresetOptions = z.output<typeof presetObjectSchema>;

/** `preset: 'cardano-node-basic'` is shorthand for `preset: { name: 'cardano-node-basic' }`. */
const presetSchema = z.preprocess(
  (value) => (typeof value === 'string' ? { name: value } : value),
  presetObjectSchema,
);

export const healthPrometheusOptionsSchema = z
  .strictObject({
    /** Prometheus base URL (a path prefix such as `/prometheus` is kept). */
    url: z.url({ protocol: /^https?$/, error: 'url must be an http(s) URL of the Prometheus server' }),
    /** Deadline for one whole check (all queries run in parallel). */
    timeoutMs: z.number().int().positive().max(300_000).default(5000),
    headers: z.record(z.string(), z.string()).optional(),
    /** File holding a bearer token; read on every check so a rotated token is picked up. */
    bearerTokenFile: z.string().min(1).optional(),
    preset: presetSchema.optional(),
    checks: z.array(checkSchema).default([]),
  })
  .superRefine((options, ctx) => {
    if (options.preset === undefined && options.checks.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'configure a preset, checks, or both', path: [] });
    }
    const names = [...presetCheckNames(options.preset), ...options.checks.map((c) => c.name)];
    const seen = new Set<string>();
    for (const name of names) {
      if (seen.has(name))
        ctx.addIssue({ code: 'custom', message: `duplicate check name "${name}"`, path: ['checks'] });
      seen.add(name);
    }
    if (options.bearerTokenFile !== undefined && hasHeader(options.headers, 'authorization')) {
      ctx.addIssue({
        code: 'custom',
        message: 'set either bearerTokenFile or an Authorization header, not both',
        path: ['bearerTokenFile'],
      });
    }
  });

export type HealthPrometheusOptions = z.output<typeof healthPrometheusOptionsSchema>;
export type HealthPrometheusOptionsInput = z.input<typeof healthPrometheusOptionsSchema>;

function presetCheckNames(preset: PresetOptions | undefined): string[] {
  if (preset === undefined) return [];
  return PRESET_CHECK_NAMES.filter((name) => !preset.skip.includes(name));
}

function hasHeader(headers: Record<string, string> | undefined, name: string): boolean {
  return Object.keys(headers ?? {}).some((key) => key.toLowerCase() === name);
}
