// Placeholder until the plugin is implemented (issue #5).
export const pluginName = '@cardano-forge/priority-static';
