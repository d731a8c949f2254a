import type { Dispatcher } from 'undici';
import { NO_UNDICI_TIMERS, request } from '../net/undici.js';
import type { Clock } from '../contracts/index.js';
import { createSystemClock } from '../core/clock.js';
import { clockTimeout } from '../core/deadline.js';

export const FORGING_ENABLED_METRIC = 'cardano_node_metrics_forging_enabled';
export const SLOT_NUMBER_METRIC = 'cardano_node_metrics_slotNum_int';

export interface NodeMetricsScrape {
  /** null when unreachable, absent or not 0/1. */
  readonly forging: boolean | null;
  /** Slot of the node's chain tip; null when unknown. */
  readonly slot: number | null;
  readonly detail: string;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/;

/** The first sample of each wanted metric in Prometheus text exposition format. */
export function parseMetricSamples(text: string, wanted: readonly string[]): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line.trim());
    if (match === null) continue;
    const [, name = '', raw = ''] = match;
    if (!wanted.includes(name) || samples.has(name)) continue;
    const value = Number(raw);
    if (!Number.isNaN(value)) samples.set(name, value);
  }
  return samples;
}

function describeError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Scrapes cardano-node's Prometheus endpoint. Never throws. */
export async function scrapeNodeMetrics(
  url: string,
  timeoutMs: number,
  signal: AbortSignal,
  dispatcher?: Dispatcher,
  clock: Clock = createSystemClock(),
): Promise<NodeMetricsScrape> {
  let text: string;
  const deadline = clockTimeout(clock, timeoutMs, signal);
  try {
    const response = await request(url, {
      method: 'GET',
      signal: deadline.signal,
      // The deadline above bounds the scrape; undici's own timers would add a wake-up (net/undici.ts).
      ...NO_UNDICI_TIMERS,
      ...(dispatcher ? { dispatcher } : {}),
    });
    if (response.statusCode !== 200) {
      await response.body.dump();
      return {
        forging: null,
        slot: null,
        detail: `node metrics ${url} answered HTTP ${response.statusCode}`,
      };
    }
    text = await response.body.text();
  } catch (error) {
    return { forging: null, slot: null, detail: `node metrics ${url} unreachable (${describeError(error)})` };
  } finally {
    deadline.cancel();
  }
  const samples = parseMetricSamples(text, [FORGING_ENABLED_METRIC, SLOT_NUMBER_METRIC]);
  const forgingValue = samples.get(FORGING_ENABLED_METRIC);
  const slot = samples.get(SLOT_NUMBER_METRIC) ?? null;
  let forging: boolean | null = null;
  let detail: string;
  if (forgingValue === undefined) detail = `${FORGING_ENABLED_METRIC} absent`;
  else if (forgingValue === 0 || forgingValue === 1) {
    forging = forgingValue === 1;
    detail = `forging metric ${forgingValue}`;
  } else detail = `${FORGING_ENABLED_METRIC} has unexpected value ${forgingValue}`;
  if (slot !== null) detail += `, slot ${slot}`;
  return { forging, slot, detail };
}
