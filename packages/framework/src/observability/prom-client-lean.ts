/**
 * prom-client's CPU metric requires @opentelemetry/api when it loads (~1 MiB of RSS per process)
 * for exemplars, which the framework does not enable (metrics.ts). This resolution hook, scoped to
 * that one require, hands it otel-on-use.ts instead: the same two calls, the real API loaded on
 * first use. Registered by cli/main.ts before prom-client loads; if a prom-client upgrade moves
 * the require, the hook no longer matches and the real API loads (test/unit/lean-imports.test.ts
 * notices).
 */
import { registerHooks } from 'node:module';

const SPECIFIER = '@opentelemetry/api';
const IMPORTER = '/prom-client/lib/metrics/processCpuTotal.js';
// The sibling with this module's own extension: .js when built, .ts when tests run the sources.
const STAND_IN = new URL(
  `./otel-on-use${import.meta.url.slice(import.meta.url.lastIndexOf('.'))}`,
  import.meta.url,
).href;

export function loadOpenTelemetryOnUse(): void {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier === SPECIFIER && context.parentURL?.endsWith(IMPORTER) === true)
        return { url: STAND_IN, shortCircuit: true };
      return nextResolve(specifier, context);
    },
  });
}
