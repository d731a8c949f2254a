/**
 * Layer merging for config precedence. Plain objects merge key by key; arrays, plugin objects and
 * scalars replace (a list of health plugins from env/CLI replaces the file's list, it does not append).
 */
import { PLUGIN_BRAND } from '../plugin/define.js';

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  if ((value as { $$type?: unknown }).$$type === PLUGIN_BRAND) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Returns a new object: `over` wins; `undefined` in `over` does not erase a value from `base`. */
export function mergeLayers(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    out[key] = mergeLayers(base[key], value);
  }
  return out;
}
