/**
 * The HealthProbe: runs every configured check as an instant query (in parallel, one deadline
 * for the round) and folds the verdicts into one HealthResult.
 */
import { readFile } from 'node:fs/promises';
import {
  clockTimeout,
  type HealthProbe,
  type HealthResult,
  type PluginContext,
} from '@cardano-forge/framework';
import { combineVerdicts, evaluateCheck, failedCheck, type QueryOutcome } from './evaluate.js';
import type { CheckSpec, HealthPrometheusOptions } from './options.js';
import { presetChecks } from './preset.js';
import { instantQuery, type InstantQueryRequest } from './prometheus-api.js';

/** The I/O the probe performs, replaceable in tests. */
export interface PrometheusProbeIo {
  query(req: InstantQueryRequest): Promise<QueryOutcome>;
  readTokenFile(path: string): Promise<string>;
}

const realIo: PrometheusProbeIo = {
  query: instantQuery,
  readTokenFile: async (path) => (await readFile(path, 'utf8')).trim(),
};

/** The full list of checks, preset ones first. */
export function resolveChecks(options: HealthPrometheusOptions): CheckSpec[] {
  return [...(options.preset ? presetChecks(options.preset) : []), ...options.checks];
}

type PluginContextSubset = Pick<PluginContext, 'instanceId' | 'clock' | 'http'>;

export function createPrometheusProbe(
  context: PluginContextSubset,
  options: HealthPrometheusOptions,
  io: PrometheusProbeIo = realIo,
): HealthProbe {
  const checks = resolveChecks(options);
  const { clock } = context;

  async function headers(): Promise<Record<string, string> | { error: string }> {
    const base = { ...(options.headers ?? {}) };
    if (options.bearerTokenFile === undefined) return base;
    try {
      const token = await io.readTokenFile(options.bearerTokenFile);
      if (token === '') return { error: `bearer token file ${options.bearerTokenFile} is empty` };
      return { ...base, authorization: `Bearer ${token}` };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return {
        error: `cannot read bearer token file ${options.bearerTokenFile}: ${typeof code === 'string' ? code : String(error)}`,
      };
    }
  }

  async function check(signal: AbortSignal): Promise<HealthResult> {
    const started = clock.monotonicMs();
    // The deadline runs on the injected clock so simulated time drives it too.
    const deadline = clockTimeout(clock, options.timeoutMs);
    try {
      const resolvedHeaders = await headers();
      const verdicts =
        'error' in resolvedHeaders
          ? checks.map((spec) =>
              failedCheck(spec, {
                ok: false,
                reason: 'TokenFileUnreadable',
                message: String(resolvedHeaders.error),
              }),
            )
          : await Promise.all(
              checks.map(async (spec) => {
                const outcome = await io.query({
                  baseUrl: options.url,
                  query: spec.query,
                  headers: resolvedHeaders,
                  dispatcher: context.http.dispatcher,
                  signal,
                  deadline: deadline.signal,
                });
                return outcome.ok
                  ? evaluateCheck(spec, outcome.samples, outcome.warnings)
                  : failedCheck(spec, outcome);
              }),
            );
      const combined = combineVerdicts(verdicts);
      return {
        healthy: combined.healthy,
        reason: combined.reason,
        message: combined.message,
        latencyMs: clock.monotonicMs() - started,
        details: { prometheus: redactedUrl(options.url), checks: verdicts },
      };
    } finally {
      deadline.cancel();
    }
  }

  return { id: context.instanceId, check };
}

/** Credentials in the URL (user:password@) must never reach status or logs. */
export function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = 'redacted';
  parsed.password = '';
  return parsed.toString();
}
