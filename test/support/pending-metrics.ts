// Metric names the alerts and the dashboard already use although no sidecar exports them yet: each
// with the reason. The tests treat every other cardano_* name as one the code must export.
export const PENDING_METRICS: Readonly<Record<string, string>> = {
  cardano_forge_kes_seconds_until_expiry:
    'exported by the KES/opcert module (issue 11 item 5); absent until that module is merged and an opcert is parsed',
};

/** cardano_* metric names in a PromQL expression; histogram series suffixes folded to the family. */
export function metricNamesIn(expr: string): string[] {
  const names = new Set<string>();
  for (const match of expr.matchAll(/\b(cardano_[a-zA-Z0-9_]+)/g)) {
    names.add(match[1]!.replace(/_(bucket|sum|count)$/, ''));
  }
  return [...names].sort();
}
