/**
 * Contract checks for a plugin author's tests: run a HealthProbe or PriorityStrategy plugin the
 * way the host does (shape, apiVersion, kind, options through its Standard Schema, create()) and
 * then hold what it returns to the contract in contracts/index.ts. Each check reports every
 * problem it finds as a sentence instead of stopping at the first one.
 */
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type {
  ForgeState,
  HealthProbe,
  HealthResult,
  PriorityInput,
  PriorityResult,
  PriorityStrategy,
} from '../contracts/index.js';
import {
  SUPPORTED_PLUGIN_API_VERSIONS,
  pluginShapeProblems,
  type ForgePlugin,
  type PluginKind,
} from '../plugin/define.js';
import {
  createTestPluginContext,
  type TestPluginContext,
  type TestPluginContextOptions,
} from './plugin-context.js';

export interface ContractCheckOptions {
  /** Overrides for the context create() receives (identity, clock, kubeConfig, instanceId...). */
  readonly context?: TestPluginContextOptions;
  /** How long an aborted call, or close(), may take to settle. Default 1000 ms. */
  readonly settleWithinMs?: number;
}

export interface ContractReport<R> {
  /** One sentence per broken rule; empty when the plugin keeps the contract. */
  readonly problems: readonly string[];
  /** What the checked calls returned (health results / priority results), for further assertions. */
  readonly results: readonly R[];
}

const DEFAULT_SETTLE_MS = 1000;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Resolves with the promise's outcome, or 'timeout' when it does not settle within `ms`. */
async function settleWithin<T>(
  promise: Promise<T>,
  ms: number,
): Promise<{ value: T } | { error: unknown } | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The host's checks up to and including create(): returns the instance or the problems. */
async function createChecked(
  plugin: unknown,
  kind: 'health-probe' | 'priority-strategy',
  options: unknown,
  context: TestPluginContext,
): Promise<{ instance: unknown; problems: string[] }> {
  const shape = pluginShapeProblems(plugin).map((p) => `the plugin ${p}`);
  if (shape.length > 0) return { instance: undefined, problems: shape };
  const typed = plugin as ForgePlugin<PluginKind, unknown>;
  const problems: string[] = [];
  if (!SUPPORTED_PLUGIN_API_VERSIONS.includes(typed.apiVersion))
    problems.push(
      `apiVersion "${typed.apiVersion}" is not supported by this framework (supported: ${SUPPORTED_PLUGIN_API_VERSIONS.join(', ')})`,
    );
  if (typed.kind !== kind) problems.push(`kind is "${typed.kind}", expected "${kind}"`);
  if (problems.length > 0) return { instance: undefined, problems };

  const schema = typed.optionsSchema as StandardSchemaV1<unknown, unknown>;
  const validated = await schema['~standard'].validate(options ?? {});
  if (validated.issues !== undefined) {
    const issues = validated.issues.map((issue) => {
      const path = (issue.path ?? [])
        .map((segment) => (typeof segment === 'object' ? String(segment.key) : String(segment)))
        .join('.');
      return path === '' ? `options: ${issue.message}` : `option "${path}": ${issue.message}`;
    });
    return { instance: undefined, problems: issues };
  }
  try {
    return { instance: await typed.create(context, validated.value), problems: [] };
  } catch (error) {
    return { instance: undefined, problems: [`create() threw: ${errorText(error)}`] };
  }
}

function healthResultProblems(result: unknown, call: string): string[] {
  if (typeof result !== 'object' || result === null)
    return [`${call} returned ${String(result)}, not a HealthResult`];
  const r = result as Partial<Record<keyof HealthResult, unknown>>;
  const problems: string[] = [];
  if (typeof r.healthy !== 'boolean') problems.push(`${call}: healthy is not a boolean`);
  if (typeof r.reason !== 'string' || r.reason === '')
    problems.push(`${call}: reason is empty or not a string`);
  if (typeof r.message !== 'string') problems.push(`${call}: message is not a string`);
  if (typeof r.latencyMs !== 'number' || !Number.isFinite(r.latencyMs) || r.latencyMs < 0)
    problems.push(`${call}: latencyMs is not a finite number >= 0`);
  return problems;
}

/**
 * Creates the probe from `options` and checks: `id` is the context's instance id (two instances
 * must not share metric labels); check() with a live signal returns a well-formed HealthResult and
 * does not throw (an unhealthy target is `healthy: false`, never an exception); check() with an
 * aborted signal and close() settle within `settleWithinMs`.
 */
export async function checkHealthProbePlugin(
  plugin: unknown,
  options: unknown = {},
  checkOptions: ContractCheckOptions = {},
): Promise<ContractReport<HealthResult>> {
  const settleMs = checkOptions.settleWithinMs ?? DEFAULT_SETTLE_MS;
  const context = createTestPluginContext({ instanceId: 'contract-check', ...checkOptions.context });
  const results: HealthResult[] = [];
  try {
    const created = await createChecked(plugin, 'health-probe', options, context);
    if (created.problems.length > 0) return { problems: created.problems, results };
    const probe = created.instance as Partial<HealthProbe> | null | undefined;
    if (typeof probe?.check !== 'function')
      return { problems: ['create() returned an object without check()'], results };
    const problems: string[] = [];
    if (probe.id !== context.instanceId)
      problems.push(
        `id is ${JSON.stringify(probe.id)}, not the context's instanceId "${context.instanceId}" (two instances would share metric labels)`,
      );

    const live = await settleWithin(
      Promise.resolve().then(() => probe.check!(new AbortController().signal)),
      60_000,
    );
    if (live === 'timeout') problems.push('check() did not settle within 60 s');
    else if ('error' in live)
      problems.push(`check() threw: ${errorText(live.error)} (return healthy: false with a reason instead)`);
    else {
      problems.push(...healthResultProblems(live.value, 'check()'));
      results.push(live.value);
    }

    const aborted = new AbortController();
    aborted.abort(new Error('contract check: aborted before the call'));
    const onAbort = await settleWithin(
      Promise.resolve().then(() => probe.check!(aborted.signal)),
      settleMs,
    );
    if (onAbort === 'timeout')
      problems.push(
        `check() with an aborted signal did not settle within ${settleMs} ms (stop when the signal fires)`,
      );
    else if ('value' in onAbort) {
      problems.push(...healthResultProblems(onAbort.value, 'check() with an aborted signal'));
      results.push(onAbort.value);
    }

    if (probe.close !== undefined) {
      if (typeof probe.close !== 'function') problems.push('close is not a function');
      else {
        const closed = await settleWithin(
          Promise.resolve().then(() => probe.close!()),
          settleMs,
        );
        if (closed === 'timeout') problems.push(`close() did not settle within ${settleMs} ms`);
        else if ('error' in closed) problems.push(`close() threw: ${errorText(closed.error)}`);
      }
    }
    return { problems, results };
  } finally {
    await context.dispose();
  }
}

const STATES: readonly ForgeState[] = ['Priority-based', 'Enabled', 'Disabled'];

/** The inputs checkPriorityStrategyPlugin feeds the strategy: every state, edge priorities and counts. */
export function priorityInputGrid(): PriorityInput[] {
  const inputs: PriorityInput[] = [];
  for (const state of STATES)
    for (const basePriority of [1, 100, 999])
      for (const failureThreshold of [1, 3])
        for (const consecutiveFailures of [0, 1, failureThreshold, failureThreshold + 5])
          inputs.push({ state, basePriority, failureThreshold, consecutiveFailures });
  return inputs;
}

function priorityResultProblems(result: unknown, call: string): string[] {
  if (typeof result !== 'object' || result === null) return [`${call} returned ${String(result)}`];
  if (typeof (result as { then?: unknown }).then === 'function')
    return [`${call} returned a Promise: compute() must be synchronous`];
  const r = result as Partial<Record<keyof PriorityResult, unknown>>;
  const problems: string[] = [];
  if (typeof r.effectivePriority !== 'number' || !Number.isFinite(r.effectivePriority))
    problems.push(`${call}: effectivePriority is not a finite number`);
  if (typeof r.reason !== 'string' || r.reason === '')
    problems.push(`${call}: reason is empty or not a string`);
  if (typeof r.message !== 'string') problems.push(`${call}: message is not a string`);
  return problems;
}

/**
 * Creates the strategy from `options` and runs compute() over `priorityInputGrid()`: it must not
 * throw, must answer synchronously with a finite effectivePriority, the same input must give the
 * same result (it must be pure), and more failures must never make a cluster more preferred
 * (a lower number).
 */
export async function checkPriorityStrategyPlugin(
  plugin: unknown,
  options: unknown = {},
  checkOptions: ContractCheckOptions = {},
): Promise<ContractReport<{ readonly input: PriorityInput; readonly result: PriorityResult }>> {
  const context = createTestPluginContext({ instanceId: 'contract-check', ...checkOptions.context });
  const results: Array<{ input: PriorityInput; result: PriorityResult }> = [];
  try {
    const created = await createChecked(plugin, 'priority-strategy', options, context);
    if (created.problems.length > 0) return { problems: created.problems, results };
    const strategy = created.instance as Partial<PriorityStrategy> | null | undefined;
    if (typeof strategy?.compute !== 'function')
      return { problems: ['create() returned an object without compute()'], results };
    const problems: string[] = [];
    for (const input of priorityInputGrid()) {
      const call = `compute(${JSON.stringify(input)})`;
      let first: unknown;
      let second: unknown;
      try {
        first = strategy.compute({ ...input });
        second = strategy.compute({ ...input });
      } catch (error) {
        problems.push(`${call} threw: ${errorText(error)}`);
        continue;
      }
      const shape = priorityResultProblems(first, call);
      problems.push(...shape);
      if (shape.length > 0) continue;
      if (JSON.stringify(first) !== JSON.stringify(second))
        problems.push(`${call} is not pure: ${JSON.stringify(first)} then ${JSON.stringify(second)}`);
      results.push({ input, result: first as PriorityResult });
    }
    // Monotonic in health: for each state/base/threshold, priority never drops as failures grow.
    for (const r of results) {
      const worse = results.find(
        (o) =>
          o.input.state === r.input.state &&
          o.input.basePriority === r.input.basePriority &&
          o.input.failureThreshold === r.input.failureThreshold &&
          o.input.consecutiveFailures > r.input.consecutiveFailures &&
          o.result.effectivePriority < r.result.effectivePriority,
      );
      if (worse !== undefined)
        problems.push(
          `more failures made the cluster more preferred: ${JSON.stringify(r.input)} → ${r.result.effectivePriority}, ${JSON.stringify(worse.input)} → ${worse.result.effectivePriority}`,
        );
    }
    return { problems, results };
  } finally {
    await context.dispose();
  }
}
