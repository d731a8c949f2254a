/**
 * Loading plugins from a config, in three steps:
 *   locate.ts      — find what a ref names (built-in, npm package from the install root, object);
 *   validate.ts    — check it against its slot and validate its options (`resolvePlugins`, no side
 *                    effects: what `forge-manager validate` runs);
 *   instantiate.ts — create the instances, one child container and PluginContext each, registered
 *                    on their kind's token.
 * The options built-ins derive from the config sections live with the built-ins
 * (plugins/builtin-options.ts), not here.
 */
export {
  formatPluginProblem,
  PluginLoadError,
  type PluginProblem,
  type PluginProblemReason,
  type PluginResult,
} from './problems.js';
export { unwrapPluginModule } from './locate.js';
export {
  pluginSlots,
  resolvePlugins,
  resolvePluginsOfKind,
  type BuiltinOptionsFromConfig,
  type PluginSlot,
  type ResolvedPlugin,
  type ResolvedPlugins,
  type ResolvePluginsOptions,
} from './validate.js';
export {
  closeInstances,
  createPluginContext,
  createPluginHost,
  instantiatePlugins,
  pluginKindToken,
  type PluginHost,
  type PluginInstance,
} from './instantiate.js';
