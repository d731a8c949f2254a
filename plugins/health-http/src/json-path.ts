export type JsonLookup =
  { readonly found: true; readonly value: unknown } | { readonly found: false; readonly missing: string };

/**
 * Follows a dot path (`status`, `checks.db.state`, `items.0.ready`) through parsed JSON.
 * Numeric segments index arrays. The empty path is the whole document.
 */
export function lookupJsonPath(document: unknown, path: string): JsonLookup {
  if (path === '') return { found: true, value: document };
  let current: unknown = document;
  const walked: string[] = [];
  for (const segment of path.split('.')) {
    walked.push(segment);
    if (Array.isArray(current) && /^\d+$/.test(segment)) {
      const index = Number(segment);
      if (index >= current.length) return { found: false, missing: walked.join('.') };
      current = current[index];
    } else if (
      typeof current === 'object' &&
      current !== null &&
      !Array.isArray(current) &&
      Object.hasOwn(current, segment)
    ) {
      current = (current as Record<string, unknown>)[segment];
    } else {
      return { found: false, missing: walked.join('.') };
    }
  }
  return { found: true, value: current };
}

/** JSON text of a value for messages, shortened so a big body cannot flood status or logs. */
export function shortJson(value: unknown, max = 120): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
