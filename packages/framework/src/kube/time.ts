/**
 * Kubernetes MicroTime fields (`acquireTime`, `renewTime`) arrive as strings at runtime even
 * though the generated types say `V1MicroTime`; hand-edited objects may hold anything.
 * Returns null for what cannot be understood instead of throwing.
 */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

export function parseMicroTime(value: string | Date | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : new Date(value.getTime());
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  if (!RFC3339.test(trimmed)) return null;
  // More fractional digits than milliseconds are valid input: V8's Date.parse truncates them (a
  // unit test holds it to that; a regex replace to strip them was most of a renewal's parsing).
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? null : new Date(ms);
}

/**
 * A Date that serialises as a Kubernetes MicroTime (six fractional digits), which Lease times must
 * be; the same as the library's V1MicroTime without importing its generated models.
 */
export class MicroTime extends Date {
  override toISOString(): string {
    return `${super.toISOString().slice(0, -1)}000Z`;
  }
}
