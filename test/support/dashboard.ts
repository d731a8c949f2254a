// The Grafana dashboard shipped with the chart (deploy/helm/cardano-forge/files/dashboard.json): its
// panels and queries, and how Grafana's template variables are turned into plain PromQL for checks.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
export const DASHBOARD_PATH = join(REPO, 'deploy/helm/cardano-forge/files/dashboard.json');

export interface GridPos {
  h: number;
  w: number;
  x: number;
  y: number;
}

export interface DashboardTarget {
  refId: string;
  expr: string;
  legendFormat?: string;
  instant?: boolean;
  datasource?: { type: string; uid: string };
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: GridPos;
  datasource?: { type: string; uid: string };
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
}

export interface TemplateVariable {
  name: string;
  type: string;
  query: string | { query: string };
  datasource?: { type: string; uid: string };
  includeAll?: boolean;
  allValue?: string;
}

export interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  panels: DashboardPanel[];
  templating: { list: TemplateVariable[] };
}

export function loadDashboard(path = DASHBOARD_PATH): Dashboard {
  return JSON.parse(readFileSync(path, 'utf8')) as Dashboard;
}

/** Every panel, rows' nested panels included, in order. */
export function allPanels(dashboard: Dashboard): DashboardPanel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

export interface PanelQuery {
  panel: DashboardPanel;
  target: DashboardTarget;
}

export function panelQueries(dashboard: Dashboard): PanelQuery[] {
  return allPanels(dashboard).flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel, target })));
}

/** Values for Grafana's built-in interval variables and the dashboard's own variables. */
export interface VariableValues {
  readonly variables: Readonly<Record<string, string>>;
  /** $__rate_interval, $__interval, $__range: a Prometheus duration such as 30s. */
  readonly rateInterval: string;
  readonly interval: string;
  readonly range: string;
}

/** Replaces $name and ${name} (built-ins first); an unknown variable is an error, not left in. */
export function substituteVariables(expr: string, values: VariableValues): string {
  const builtins: Record<string, string> = {
    __rate_interval: values.rateInterval,
    __interval: values.interval,
    __range: values.range,
  };
  return expr.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (whole, braced: string | undefined, bare: string | undefined) => {
      const name = (braced ?? bare)!;
      const value = builtins[name] ?? values.variables[name];
      if (value === undefined) throw new Error(`unknown variable ${whole} in ${expr}`);
      return value;
    },
  );
}

/** label_values(<selector>, <label>) as Grafana's Prometheus datasource understands it. */
export function parseLabelValues(query: string): { selector: string | null; label: string } {
  const match = /^label_values\(\s*(?:(.+?)\s*,\s*)?(\w+)\s*\)$/.exec(query.trim());
  if (match === null) throw new Error(`not a label_values() query: ${query}`);
  return { selector: match[1] ?? null, label: match[2]! };
}
