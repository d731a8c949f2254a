import type { ForgeConfig } from './schema.js';

/**
 * Typed helper for forge.config.ts. An identity function: it exists only for editor completion and
 * type checking. Configs mounted from a ConfigMap should prefer `import type { ForgeConfig }` with
 * `satisfies ForgeConfig`, which needs nothing resolvable at run time.
 */
export function defineConfig<const T extends ForgeConfig>(config: T): T {
  return config;
}
