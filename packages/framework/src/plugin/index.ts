export {
  resolvePlugins,
  resolvePluginsOfKind,
  instantiatePlugins,
  closeInstances,
  createPluginContext,
  builtinDefaultOptions,
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
} from './loader.js';
export { discoverInstalledPlugins, PLUGIN_KEYWORD } from './discover.js';
export { frameworkVersion, frameworkPackageDir, FRAMEWORK_PACKAGE_NAME } from './package-info.js';
export { createKubeConfigFactory, createHttpDispatcher } from './host.js';
