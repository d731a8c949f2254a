export {
  resolvePlugins,
  resolvePluginsOfKind,
  instantiatePlugins,
  closeInstances,
  createPluginContext,
  createPluginHost,
  pluginKindToken,
  pluginSlots,
  unwrapPluginModule,
  formatPluginProblem,
  PluginLoadError,
  type PluginProblem,
  type PluginProblemReason,
  type PluginSlot,
  type PluginHost,
  type PluginInstance,
  type ResolvedPlugin,
  type ResolvedPlugins,
  type ResolvePluginsOptions,
  type PluginResult,
  type BuiltinOptionsFromConfig,
} from './loader.js';
export { builtinDefaultOptions } from '../plugins/builtin-options.js';
export { discoverInstalledPlugins, PLUGIN_KEYWORD } from './discover.js';
export { frameworkVersion, frameworkPackageDir, FRAMEWORK_PACKAGE_NAME } from './package-info.js';
export { createKubeConfigFactory, createHttpDispatcher } from './host.js';
