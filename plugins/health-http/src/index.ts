import { definePlugin } from '@cardano-forge/framework';
import { healthHttpOptionsSchema, type HealthHttpOptions } from './options.js';
import { HttpHealthProbe } from './probe.js';
import { PLUGIN_NAME, PLUGIN_VERSION } from './version.js';

export const healthHttpPlugin = definePlugin<'health-probe', HealthHttpOptions>({
  kind: 'health-probe',
  name: PLUGIN_NAME,
  version: PLUGIN_VERSION,
  description:
    'HTTP(S) health probe: expected status, timeout, headers, bearer token file, custom CA, JSON body assertion.',
  optionsSchema: healthHttpOptionsSchema,
  create: (context, options) => new HttpHealthProbe(context, options),
});

export default healthHttpPlugin;
export { PLUGIN_NAME, PLUGIN_VERSION } from './version.js';
export * from './options.js';
export { HttpHealthProbe, displayUrl } from './probe.js';
export { classifyRequestError, type HttpProbeReason, type ClassifiedError } from './classify.js';
export { lookupJsonPath, type JsonLookup } from './json-path.js';
