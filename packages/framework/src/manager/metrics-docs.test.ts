// docs/sidecar.md lists every metric of the sidecar with its labels; operators write alerts and
// dashboards from that table, so a label it names must be one the metric has, and the other way round.
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SidecarMetrics } from './metrics.js';

const DOC = new URL('../../../../docs/sidecar.md', import.meta.url);

interface DocumentedMetric {
  readonly name: string;
  /** null when the row does not list them (it points elsewhere). */
  readonly labels: readonly string[] | null;
  readonly row: string;
}

/** The rows of the tables under "## Metrics": backticked metric names, then the labels column. */
function documentedMetrics(markdown: string): DocumentedMetric[] {
  const section = markdown.split(/^## Metrics$/m)[1]?.split(/^## /m)[0] ?? '';
  const out: DocumentedMetric[] = [];
  let previous: readonly string[] | null = null;
  for (const row of section.split('\n').filter((line) => line.startsWith('| `cardano_'))) {
    const [, nameCell = '', labelCell = ''] = row.split('|').map((cell) => cell.trim());
    const cell = labelCell.replace(/`/g, '');
    const labels: readonly string[] | null =
      cell === '—'
        ? []
        : cell === 'same'
          ? previous
          : /^[a-z_]+(, [a-z_]+)*$/.test(cell)
            ? cell.split(', ')
            : null;
    previous = labels;
    for (const [, name] of nameCell.matchAll(/`(cardano_[a-z_]+)`/g)) out.push({ name: name!, labels, row });
  }
  return out;
}

function sidecarRegistry(): Registry {
  const registry = new Registry();
  new SidecarMetrics(
    registry,
    { pod: 'bp-0', network: 'preprod', poolIdShort: 'pool1', application: 'block-producer' },
    {
      podName: 'bp-0',
      namespace: 'cardano',
      version: '0.1.0',
      network: 'preprod',
      poolId: 'pool1',
      poolTicker: 'TICK',
      applicationType: 'block-producer',
    },
  );
  return registry;
}

describe('docs/sidecar.md metric tables', () => {
  const documented = documentedMetrics(readFileSync(DOC, 'utf8'));

  it('parses both tables', () => {
    expect(documented.map((d) => d.name)).toEqual(
      expect.arrayContaining(['cardano_forging_enabled', 'cardano_forge_credentials_present']),
    );
  });

  it('every metric of the sidecar is documented with exactly its labels', () => {
    const registry = sidecarRegistry();
    const mismatches: string[] = [];
    for (const metric of registry.getMetricsAsArray()) {
      const { name, labelNames = [] } = metric as { name: string; labelNames?: readonly string[] };
      const doc = documented.find((d) => d.name === name);
      if (doc === undefined) mismatches.push(`${name}: not in docs/sidecar.md`);
      else if (doc.labels === null) mismatches.push(`${name}: the docs row lists no labels`);
      else if ([...doc.labels].sort().join(',') !== [...labelNames].sort().join(','))
        mismatches.push(`${name}: documented [${doc.labels.join(', ')}], has [${labelNames.join(', ')}]`);
    }
    expect(mismatches).toEqual([]);
  });

  it('no PromQL in the metric rows aggregates by a label the metric does not have', () => {
    const problems: string[] = [];
    for (const doc of documented) {
      for (const [, by] of doc.row.matchAll(/sum by \(([^)]*)\) \(?`?(cardano_[a-z_]+)?/g)) {
        const labels = by!.split(',').map((l) => l.trim());
        // Aggregations over the info-joined series may use the info metric's labels.
        const allowed = new Set([...(doc.labels ?? []), 'network', 'pool_id', 'instance', 'job']);
        for (const label of labels) if (!allowed.has(label)) problems.push(`${doc.name}: sum by (${label})`);
      }
    }
    expect(problems).toEqual([]);
  });
});
