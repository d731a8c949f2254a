/**
 * Step 1 of loading a plugin: find the value a config ref names — a built-in by name, an npm
 * package resolved from the install root (never from the config file's directory: a ConfigMap
 * mounted at /etc/forge has no node_modules), or a plugin object written in forge.config.ts.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PluginRef } from '../config/schema.js';
import { type ForgePlugin, PLUGIN_BRAND } from './define.js';
import { FRAMEWORK_PACKAGE_NAME, findOwningPackageJson } from './package-info.js';
import { errorText, type PluginProblemReason } from './problems.js';

export interface NormalizedRef {
  readonly use: string | ForgePlugin;
  readonly id?: string | undefined;
  readonly options?: unknown;
}

function isBranded(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Reflect.get(value, '$$type') === PLUGIN_BRAND;
}

export function normalizeRef(ref: PluginRef): NormalizedRef {
  if (typeof ref === 'string') return { use: ref };
  // A plugin object has no `use`; a `{ use, id, options }` ref always has one.
  if (!isBranded(ref) && 'use' in ref) return ref;
  return { use: ref as ForgePlugin };
}

/** How a ref is named in problems: the string as written, else the plugin object's name. */
export function refLabel(use: unknown): string {
  if (typeof use === 'string') return use;
  const name = typeof use === 'object' && use !== null ? Reflect.get(use, 'name') : undefined;
  return typeof name === 'string' ? name : '(plugin object)';
}

/** `module.default`, CJS `module.default.default`, or the module's only branded export. */
export function unwrapPluginModule(mod: unknown): unknown {
  let value = mod;
  for (let i = 0; i < 2; i++) {
    const inner = typeof value === 'object' && value !== null ? Reflect.get(value, 'default') : undefined;
    if (inner === undefined || inner === null) break;
    value = inner;
  }
  if (value === mod && typeof mod === 'object' && mod !== null) {
    const branded = Object.values(mod).filter(isBranded);
    if (branded.length === 1) return branded[0];
  }
  return value;
}

export interface Located {
  readonly value: unknown;
  readonly source: 'builtin' | 'package' | 'object';
  readonly builtinName?: string;
  readonly packageVersion?: string;
  readonly peerRange?: string | undefined;
}

export type LocateResult =
  { ok: true; located: Located } | { ok: false; reason: PluginProblemReason; message: string };

export interface LocateContext {
  readonly builtins: Readonly<Record<string, ForgePlugin>>;
  /** Directory whose node_modules hold plugin packages. */
  readonly root: string;
  /** Installed plugin package names, for the "unknown plugin" message (computed on demand). */
  readonly installed: () => string[];
}

export async function locatePlugin(use: string | ForgePlugin, context: LocateContext): Promise<LocateResult> {
  const { builtins, root } = context;
  if (typeof use !== 'string') {
    const builtinName = Object.entries(builtins).find(([, p]) => p === use)?.[0];
    return builtinName !== undefined
      ? { ok: true, located: { value: use, source: 'builtin', builtinName } }
      : { ok: true, located: { value: use, source: 'object' } };
  }
  const builtin = builtins[use];
  if (builtin !== undefined)
    return { ok: true, located: { value: builtin, source: 'builtin', builtinName: use } };

  const req = createRequire(path.join(root, 'package.json'));
  let file: string;
  try {
    file = req.resolve(use);
  } catch (error) {
    const code = typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
    if (code === 'MODULE_NOT_FOUND') {
      const known = [...Object.keys(builtins), ...context.installed()];
      return {
        ok: false,
        reason: 'UnknownPlugin',
        message:
          `package not found from ${root}. Installed plugins: ${known.length > 0 ? known.join(', ') : '(none)'}. ` +
          `Install it next to the manager (npm install ${use}) or fix the name.`,
      };
    }
    return { ok: false, reason: 'ImportFailed', message: `cannot resolve: ${errorText(error)}` };
  }
  let mod: unknown;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (error) {
    return { ok: false, reason: 'ImportFailed', message: `cannot import ${file}: ${errorText(error)}` };
  }
  const owner = findOwningPackageJson(file, use);
  return {
    ok: true,
    located: {
      value: unwrapPluginModule(mod),
      source: 'package',
      ...(owner?.pkg.version ? { packageVersion: owner.pkg.version } : {}),
      peerRange: owner?.pkg.peerDependencies?.[FRAMEWORK_PACKAGE_NAME],
    },
  };
}
