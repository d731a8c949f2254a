// Which metric names the alerts and the dashboard may use: those the code exports, plus names already
// used although no sidecar exports them yet (each with the reason).
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(fileURLToPath(import.meta.url), '../../..');

export const PENDING_METRICS: Readonly<Record<string, string>> = {};

/** cardano_* metric names in a PromQL expression; histogram series suffixes folded to the family. */
export function metricNamesIn(expr: string): string[] {
  const names = new Set<string>();
  for (const match of expr.matchAll(/\b(cardano_[a-zA-Z0-9_]+)/g)) {
    names.add(match[1]!.replace(/_(bucket|sum|count)$/, ''));
  }
  return [...names].sort();
}

/** Names used in `exprs` that no non-test source of the framework or a plugin spells out, nor is pending. */
export function unexportedMetrics(exprs: ReadonlyArray<{ where: string; expr: string }>): string[] {
  let sources = '';
  for (const root of ['packages', 'plugins'].map((dir) => join(REPO, dir))) {
    for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name);
      const rel = relative(REPO, path);
      if (!entry.isFile() || !path.endsWith('.ts') || path.endsWith('.test.ts')) continue;
      if (!rel.includes('/src/') || rel.includes('node_modules') || rel.includes('/dist/')) continue;
      sources += readFileSync(path, 'utf8');
    }
  }
  return exprs.flatMap(({ where, expr }) =>
    metricNamesIn(expr)
      .filter((name) => !(name in PENDING_METRICS) && !sources.includes(`'${name}'`))
      .map((name) => `${where}: ${name}`),
  );
}
