/**
 * @cardano-forge/health-prometheus: a health probe that evaluates PromQL instant queries against
 * thresholds, with a ready-made `cardano-node-basic` preset (node up and syncing, CPU, memory, disk).
 */
import { definePlugin } from '@cardano-forge/framework';
import { healthPrometheusOptionsSchema, type HealthPrometheusOptions } from './options.js';
import { createPrometheusProbe } from './probe.js';

export const healthPrometheusPlugin = definePlugin<'health-probe', HealthPrometheusOptions>({
  kind: 'health-probe',
  name: '@cardano-forge/health-prometheus',
  version: '0.1.0',
  description:
    'PromQL instant queries with thresholds; preset cardano-node-basic (node up and syncing, CPU, memory, disk)',
  optionsSchema: healthPrometheusOptionsSchema,
  create: (context, options) => createPrometheusProbe(context, options),
});

export default healthPrometheusPlugin;

export {
  AGGREGATES,
  COMPARISON_OPERATORS,
  NO_DATA_POLICIES,
  PRESET_CHECK_NAMES,
  PRESET_NAMES,
  healthPrometheusOptionsSchema,
} from './options.js';
export type {
  Aggregate,
  CheckSpec,
  ComparisonOperator,
  HealthPrometheusOptions,
  HealthPrometheusOptionsInput,
  NoDataPolicy,
  PresetCheckName,
  PresetOptions,
} from './options.js';
export { presetChecks, promqlString } from './preset.js';
export {
  combineVerdicts,
  compare,
  decisiveSeries,
  evaluateCheck,
  parseQueryResponse,
  parseSampleValue,
} from './evaluate.js';
export type {
  CheckStatus,
  CheckVerdict,
  CombinedVerdict,
  FailureReason,
  QueryOutcome,
  Sample,
  SeriesVerdict,
} from './evaluate.js';
export { createPrometheusProbe, resolveChecks } from './probe.js';
export type { PrometheusProbeIo } from './probe.js';
export { instantQuery, queryEndpoint } from './prometheus-api.js';
export type { InstantQueryRequest } from './prometheus-api.js';
