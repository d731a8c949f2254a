import { definePlugin } from '@cardano-forge/framework';
import { priorityStaticOptionsSchema, type PriorityStaticOptions } from './options.js';
import { createStaticPriorityStrategy } from './strategy.js';

export const PLUGIN_NAME = '@cardano-forge/priority-static';
/** Kept in step with package.json (a unit test checks it). */
export const PLUGIN_VERSION = '0.1.0';

export const priorityStaticPlugin = definePlugin<'priority-strategy', PriorityStaticOptions>({
  kind: 'priority-strategy',
  name: PLUGIN_NAME,
  version: PLUGIN_VERSION,
  description:
    'Effective priority = base + a fixed penalty for intermittent (+10) or degraded (+100) health.',
  optionsSchema: priorityStaticOptionsSchema,
  create: (_context, options) => createStaticPriorityStrategy(options),
});

export default priorityStaticPlugin;
export * from './options.js';
export * from './strategy.js';
