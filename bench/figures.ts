// What a benchmark scenario reports: named figures, each a list of samples (one per run) with an
// optional target. run.ts prints them and report.ts turns them into BENCHMARKS.md; a new scenario
// only returns more figures.

export interface Target {
  /** The figure must be at most / at least this (in the figure's unit). */
  readonly max?: number;
  readonly min?: number;
  /** Where the target comes from, e.g. "issue 10". */
  readonly source: string;
}

export interface Figure {
  /** Stable key in .bench/results.json, e.g. `steady.standby.apiPerMin`. */
  readonly id: string;
  /** Section of the table (the scenario's title). */
  readonly section: string;
  readonly label: string;
  readonly unit: string;
  readonly samples: readonly number[];
  readonly target?: Target;
  /** How the figure would move on an unloaded machine (see the load average with it). */
  readonly underLoad?: string;
  readonly note?: string;
  /** Decimal places when printed. */
  readonly digits?: number;
}

export interface Stats {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function stats(samples: readonly number[]): Stats {
  if (samples.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const s = [...samples].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, n: s.length };
}

/** Whether the median meets the target: null when there is no target or no sample. */
export function meets(figure: Figure): boolean | null {
  const { median, n } = stats(figure.samples);
  if (figure.target === undefined || n === 0) return null;
  if (figure.target.max !== undefined && median > figure.target.max) return false;
  if (figure.target.min !== undefined && median < figure.target.min) return false;
  return true;
}

export function formatValue(value: number, figure: Pick<Figure, 'digits'>): string {
  if (!Number.isFinite(value)) return '—';
  return value.toFixed(figure.digits ?? 0);
}

export function targetText(figure: Figure): string {
  const t = figure.target;
  if (t === undefined) return '—';
  const parts: string[] = [];
  if (t.max !== undefined) parts.push(`≤ ${t.max} ${figure.unit}`);
  if (t.min !== undefined) parts.push(`≥ ${t.min} ${figure.unit}`);
  return parts.join(', ');
}
