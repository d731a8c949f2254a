/**
 * A printable copy of the config: plugin objects become `name@version`, values under secret-looking
 * keys in plugin options (and every HTTP header value) become "[REDACTED]", and passwords embedded
 * in URLs are masked. Credential *paths* are not secret and are shown.
 */
import { PLUGIN_BRAND } from '../plugin/define.js';

export const REDACTED = '[REDACTED]';
const SECRET_KEY =
  /pass(word|wd|phrase)?|secret|token|api[-_]?key|private[-_]?key|auth|cookie|credential|bearer|session|signature/i;
const HEADER_KEY = /^headers?$/i;

function maskUrl(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(value)) return value;
  try {
    const url = new URL(value);
    if (url.password === '' && url.username === '') return value;
    if (url.password !== '') url.password = 'REDACTED';
    else url.username = 'REDACTED';
    return url.toString();
  } catch {
    return value;
  }
}

function redactValue(value: unknown, inOptions: boolean, maskAll: boolean): unknown {
  if (typeof value === 'string') return maskAll ? REDACTED : maskUrl(value);
  if (typeof value === 'function') return '[function]';
  if (typeof value !== 'object' || value === null)
    return maskAll && value !== null && value !== undefined ? REDACTED : value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, inOptions, maskAll));
  const record = value as Record<string, unknown>;
  if (record.$$type === PLUGIN_BRAND) return `${String(record.name)}@${String(record.version)} (object)`;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(record)) {
    const entersOptions = inOptions || key === 'options';
    const secret = maskAll || (entersOptions && (SECRET_KEY.test(key) || HEADER_KEY.test(key)));
    out[key] = redactValue(v, entersOptions, secret);
  }
  return out;
}

export function redactConfig<T>(config: T): unknown {
  return redactValue(config, false, false);
}
