export const PLUGIN_NAME = '@cardano-forge/health-http';
/** Kept in step with package.json (a unit test checks it). */
export const PLUGIN_VERSION = '0.1.0';
