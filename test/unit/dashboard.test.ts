// The Grafana dashboard's structure: unique panel ids, a datasource variable every query uses, grid
// positions inside the 24-column grid without overlaps, and queries that read only metrics the code
// exports (or that are listed as pending). That every query returns data from a Prometheus that scraped
// the lab is test/integration/dashboard.test.ts.
import { describe, expect, it } from 'vitest';
import {
  allPanels,
  loadDashboard,
  panelQueries,
  parseLabelValues,
  substituteVariables,
} from '../support/dashboard.ts';
import { unexportedMetrics } from '../support/metric-names.ts';

describe('Grafana dashboard', () => {
  const dashboard = loadDashboard();
  const panels = allPanels(dashboard);

  it('has a title, a uid and unique panel ids', () => {
    expect(dashboard.title).toBeTruthy();
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    const ids = panels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has a Prometheus datasource variable that every panel and query uses', () => {
    const variable = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(variable).toMatchObject({ name: 'datasource', query: 'prometheus' });
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      const refIds = panel.targets!.map((t) => t.refId);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
      for (const target of panel.targets!) {
        expect(target.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(target.expr.trim(), panel.title).not.toBe('');
      }
    }
    for (const v of dashboard.templating.list.filter((v) => v.type === 'query')) {
      expect(v.datasource, v.name).toEqual({ type: 'prometheus', uid: '${datasource}' });
      const query = typeof v.query === 'string' ? v.query : v.query.query;
      expect(() => parseLabelValues(query), v.name).not.toThrow();
    }
  });

  it('places panels on the 24-column grid without overlaps', () => {
    const cells = new Map<string, string>();
    for (const panel of panels) {
      const { h, w, x, y } = panel.gridPos;
      for (const n of [h, w, x, y]) expect(Number.isInteger(n), panel.title).toBe(true);
      expect(w, panel.title).toBeGreaterThan(0);
      expect(h, panel.title).toBeGreaterThan(0);
      expect(x, panel.title).toBeGreaterThanOrEqual(0);
      expect(y, panel.title).toBeGreaterThanOrEqual(0);
      expect(x + w, panel.title).toBeLessThanOrEqual(24);
      if (panel.type === 'row') expect(panel.gridPos).toMatchObject({ h: 1, w: 24, x: 0 });
      for (let row = y; row < y + h; row++) {
        for (let col = x; col < x + w; col++) {
          const key = `${col},${row}`;
          expect(cells.get(key), `${panel.title} overlaps ${cells.get(key)} at ${key}`).toBeUndefined();
          cells.set(key, panel.title);
        }
      }
    }
  });

  it('uses only template variables it defines or Grafana provides', () => {
    const variables = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, 'x']));
    for (const { panel, target } of panelQueries(dashboard)) {
      expect(
        () =>
          substituteVariables(target.expr, { variables, rateInterval: '1m', interval: '1m', range: '1h' }),
        panel.title,
      ).not.toThrow();
    }
  });

  it('reads only metrics the code exports, or pending ones listed with their reason', () => {
    const unknown = unexportedMetrics(
      panelQueries(dashboard).map(({ panel, target }) => ({ where: panel.title, expr: target.expr })),
    );
    expect(unknown).toEqual([]);
  });
});
