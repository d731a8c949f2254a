export {
  ForgeConfigSchema,
  normalizeLogLevel,
  LOG_LEVEL_NAMES,
  type ForgeConfig,
  type ForgeConfigInput,
  type ResolvedConfig,
  type PluginRef,
  type PinoLevel,
} from './schema.js';
export { defineConfig } from './define.js';
export {
  loadConfig,
  parseConfig,
  readConfigFile,
  formatPath,
  CONFIG_FILE_EXTENSIONS,
  type LoadConfigOptions,
} from './load.js';
export { configFromEnv, parsePythonBool, ENV_BINDINGS, type EnvBinding, type EnvLayer } from './env.js';
export { ConfigError, formatConfigIssue, type ConfigIssue } from './errors.js';
export { redactConfig, REDACTED } from './redact.js';
export { mergeLayers } from './merge.js';
