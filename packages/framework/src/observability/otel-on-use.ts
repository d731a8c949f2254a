/**
 * Stands in for @opentelemetry/api where prom-client's CPU metric requires it (prom-client-lean.ts):
 * the two calls that metric makes, loading the real API on first use. The API is prom-client's
 * dependency, not the framework's, so it is resolved from prom-client's location.
 */
import { createRequire } from 'node:module';

/** The part of @opentelemetry/api prom-client's CPU metric uses. */
interface TracingApi {
  readonly trace: { getSpan(context: unknown): unknown };
  readonly context: { active(): unknown };
}

const fromPromClient = createRequire(createRequire(import.meta.url).resolve('prom-client'));
const api = (): TracingApi => fromPromClient('@opentelemetry/api') as TracingApi;

export const trace = { getSpan: (context: unknown): unknown => api().trace.getSpan(context) };
export const context = { active: (): unknown => api().context.active() };
