/**
 * Pure evaluation: Prometheus API bodies → samples → per-check verdicts → one health result.
 * No I/O here, so every rule is unit-tested on plain data.
 */
import type { Aggregate, CheckSpec, ComparisonOperator } from './options.js';

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Why a check did not pass. Transport reasons are shared by every check of one round. */
export type FailureReason =
  | 'ThresholdViolated'
  | 'NoData'
  | 'QueryError'
  | 'Timeout'
  | 'Unreachable'
  | 'Aborted'
  | 'TokenFileUnreadable';

export type QueryOutcome =
  | { readonly ok: true; readonly samples: readonly Sample[]; readonly warnings: readonly string[] }
  | {
      readonly ok: false;
      readonly reason: Exclude<FailureReason, 'ThresholdViolated' | 'NoData'>;
      readonly message: string;
    };

export type CheckStatus = 'pass' | 'violated' | 'no-data' | 'no-data-ignored' | 'error';

export interface SeriesVerdict {
  /** PromQL-style label set, e.g. `{instance="10.0.0.1:12798",job="cardano-node"}`. */
  readonly series: string;
  readonly value: number;
  readonly pass: boolean;
}

export interface CheckVerdict {
  readonly name: string;
  readonly query: string;
  readonly op: ComparisonOperator;
  readonly threshold: number;
  readonly aggregate: Aggregate;
  readonly status: CheckStatus;
  readonly pass: boolean;
  /** The value that decided the verdict (see `decisiveSeries`), null when there was none. */
  readonly value: number | null;
  readonly seriesCount: number;
  /** Up to MAX_REPORTED_SERIES series, failing ones first. */
  readonly series: readonly SeriesVerdict[];
  readonly reason?: FailureReason;
  readonly message: string;
  readonly warnings?: readonly string[];
}

export const MAX_REPORTED_SERIES = 10;

/** Prometheus encodes sample values as strings, including `NaN`, `+Inf` and `-Inf`. */
export function parseSampleValue(text: unknown): number {
  if (typeof text !== 'string') return Number.NaN;
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  const value = Number(text);
  return text.trim() === '' ? Number.NaN : value;
}

export function compare(op: ComparisonOperator, value: number, threshold: number): boolean {
  switch (op) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '==':
      return value === threshold;
    case '!=':
      // NaN is never a healthy reading, even though NaN !== threshold.
      return !Number.isNaN(value) && value !== threshold;
  }
}

export function formatLabels(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort();
  return `{${keys.map((key) => `${key}=${JSON.stringify(labels[key])}`).join(',')}}`;
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}

/**
 * How far a value is on the good side of the threshold (negative = failing). Used to pick the
 * series worth reporting; `==`/`!=` have no distance, only pass/fail.
 */
function margin(op: ComparisonOperator, value: number, threshold: number): number {
  if (Number.isNaN(value)) return Number.NEGATIVE_INFINITY;
  switch (op) {
    case '<':
    case '<=':
      return threshold - value;
    case '>':
    case '>=':
      return value - threshold;
    case '==':
    case '!=':
      return compare(op, value, threshold) ? 0 : -1;
  }
}

/**
 * The series that decides the verdict: with `all`, the worst one (the first failing series with the
 * largest violation, or the closest to the threshold when all pass); with `any`, the best one.
 */
export function decisiveSeries(
  samples: readonly Sample[],
  check: Pick<CheckSpec, 'op' | 'threshold' | 'aggregate'>,
): Sample | undefined {
  let chosen: Sample | undefined;
  let chosenMargin = 0;
  for (const sample of samples) {
    const m = margin(check.op, sample.value, check.threshold);
    const better = check.aggregate === 'all' ? m < chosenMargin : m > chosenMargin;
    if (chosen === undefined || better) {
      chosen = sample;
      chosenMargin = m;
    }
  }
  return chosen;
}

/** Applies one check to the samples its query returned. */
export function evaluateCheck(
  check: CheckSpec,
  samples: readonly Sample[],
  warnings: readonly string[] = [],
): CheckVerdict {
  const base = {
    name: check.name,
    query: check.query,
    op: check.op,
    threshold: check.threshold,
    aggregate: check.aggregate,
    seriesCount: samples.length,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
  if (samples.length === 0) {
    const ignored = check.onNoData === 'pass';
    return {
      ...base,
      status: ignored ? 'no-data-ignored' : 'no-data',
      pass: ignored,
      value: null,
      series: [],
      ...(ignored ? {} : { reason: 'NoData' as const }),
      message: ignored
        ? `${check.name}: no data (ignored, onNoData=pass)`
        : `${check.name}: no data — the query returned no series (is the target scraped and the metric name right?): ${check.query}`,
    };
  }
  const verdicts = samples.map((sample) => ({
    series: formatLabels(sample.labels),
    value: sample.value,
    pass: compare(check.op, sample.value, check.threshold),
  }));
  const passing = verdicts.filter((v) => v.pass).length;
  const pass = check.aggregate === 'all' ? passing === verdicts.length : passing > 0;
  const decisive = decisiveSeries(samples, check);
  const value = decisive?.value ?? null;
  const where = decisive !== undefined && samples.length > 1 ? ` at ${formatLabels(decisive.labels)}` : '';
  const shown = value === null ? 'none' : formatValue(value);
  const comparison = `${check.op} ${formatValue(check.threshold)}`;
  const scope =
    samples.length > 1 ? ` (${passing}/${samples.length} series pass, aggregate=${check.aggregate})` : '';
  const reported = [...verdicts]
    .sort((a, b) => Number(a.pass) - Number(b.pass))
    .slice(0, MAX_REPORTED_SERIES);
  return {
    ...base,
    status: pass ? 'pass' : 'violated',
    pass,
    value,
    series: reported,
    ...(pass ? {} : { reason: 'ThresholdViolated' as const }),
    message: pass
      ? `${check.name}: ${shown}${where} ${comparison}${scope}`
      : `${check.name}: value ${shown}${where} is not ${comparison}${scope}`,
  };
}

/** A check that could not be evaluated because its query failed. */
export function failedCheck(check: CheckSpec, outcome: Extract<QueryOutcome, { ok: false }>): CheckVerdict {
  return {
    name: check.name,
    query: check.query,
    op: check.op,
    threshold: check.threshold,
    aggregate: check.aggregate,
    status: 'error',
    pass: false,
    value: null,
    seriesCount: 0,
    series: [],
    reason: outcome.reason,
    message: `${check.name}: ${outcome.message}`,
  };
}

/**
 * Turns a Prometheus `/api/v1/query` response into samples. `httpStatus` and `body` are what the
 * server sent; anything but a success with an instant vector or a scalar is a QueryError.
 */
export function parseQueryResponse(httpStatus: number, body: string): QueryOutcome {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return {
      ok: false,
      reason: 'QueryError',
      message: `HTTP ${httpStatus} with a body that is not Prometheus API JSON: ${truncate(body, 200)}`,
    };
  }
  if (!isRecord(json))
    return {
      ok: false,
      reason: 'QueryError',
      message: `HTTP ${httpStatus}: unexpected response ${truncate(body, 200)}`,
    };
  const warnings = Array.isArray(json.warnings)
    ? json.warnings.filter((w): w is string => typeof w === 'string')
    : [];
  if (json.status !== 'success') {
    const errorType = typeof json.errorType === 'string' ? json.errorType : 'unknown';
    const error = typeof json.error === 'string' ? json.error : truncate(body, 200);
    return {
      ok: false,
      reason: 'QueryError',
      message: `Prometheus rejected the query (HTTP ${httpStatus}, ${errorType}): ${error}`,
    };
  }
  const data = json.data;
  if (!isRecord(data))
    return { ok: false, reason: 'QueryError', message: 'Prometheus answered success without data' };
  switch (data.resultType) {
    case 'vector': {
      if (!Array.isArray(data.result))
        return { ok: false, reason: 'QueryError', message: 'vector result is not an array' };
      const samples: Sample[] = [];
      for (const entry of data.result) {
        if (!isRecord(entry) || !Array.isArray(entry.value)) continue;
        const labels = isRecord(entry.metric) ? stringRecord(entry.metric) : {};
        samples.push({ labels, value: parseSampleValue(entry.value[1]) });
      }
      return { ok: true, samples, warnings };
    }
    case 'scalar':
      // A scalar always has a value; it counts as one series without labels.
      return {
        ok: true,
        samples: Array.isArray(data.result) ? [{ labels: {}, value: parseSampleValue(data.result[1]) }] : [],
        warnings,
      };
    case 'matrix':
      return {
        ok: false,
        reason: 'QueryError',
        message:
          'the query returns a range vector; a check needs an instant vector or a scalar (wrap it, e.g. in max_over_time(...))',
      };
    default:
      return {
        ok: false,
        reason: 'QueryError',
        message: `unsupported result type ${JSON.stringify(data.resultType)}`,
      };
  }
}

/** Most specific first: a transport problem explains every other symptom of the same round. */
const REASON_PRECEDENCE: readonly FailureReason[] = [
  'Aborted',
  'TokenFileUnreadable',
  'Timeout',
  'Unreachable',
  'QueryError',
  'NoData',
  'ThresholdViolated',
];

export interface CombinedVerdict {
  readonly healthy: boolean;
  readonly reason: 'Healthy' | FailureReason;
  readonly message: string;
}

/** Healthy iff every check passes. The reason is the most fundamental failure; the message lists them all. */
export function combineVerdicts(verdicts: readonly CheckVerdict[]): CombinedVerdict {
  const failing = verdicts.filter((v) => !v.pass);
  if (failing.length === 0) {
    const ignored = verdicts.filter((v) => v.status === 'no-data-ignored').length;
    return {
      healthy: true,
      reason: 'Healthy',
      message: `all ${verdicts.length} checks passed${ignored > 0 ? ` (${ignored} without data, ignored)` : ''}`,
    };
  }
  const reasons = failing.map((v) => v.reason ?? 'ThresholdViolated');
  const reason = REASON_PRECEDENCE.find((r) => reasons.includes(r)) ?? 'ThresholdViolated';
  // Transport failures repeat the same text for every check: say it once.
  const transport =
    reason === 'Aborted' ||
    reason === 'TokenFileUnreadable' ||
    reason === 'Timeout' ||
    reason === 'Unreachable';
  const shared = transport && failing.every((v) => v.reason === reason);
  const detail = shared
    ? (failing[0]?.message.replace(`${failing[0].name}: `, '') ?? '')
    : failing.map((v) => v.message).join('; ');
  return {
    healthy: false,
    reason,
    message: `${failing.length} of ${verdicts.length} checks failed: ${detail}`,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringRecord(value: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) if (typeof v === 'string') out[key] = v;
  return out;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
