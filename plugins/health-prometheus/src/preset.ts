/**
 * The `cardano-node-basic` preset: the seed's "Option A" health API turned into PromQL checks.
 * Pure: builds check specs from the preset options, nothing else.
 */
import type { CheckSpec, PresetCheckName, PresetOptions } from './options.js';

/** A PromQL string literal (Go-style escapes; JSON's are a compatible subset). */
export function promqlString(value: string): string {
  return JSON.stringify(value);
}

/** `{job="x",<more>,<selectors>}` with the user's matchers appended verbatim. */
function matchers(job: string, more: readonly string[], selectors: readonly string[]): string {
  const parts = [`job=${promqlString(job)}`, ...more, ...selectors.filter((s) => s !== '')];
  return `{${parts.join(',')}}`;
}

export function presetChecks(preset: PresetOptions): CheckSpec[] {
  const node = matchers(preset.job, [], [preset.selector, preset.nodeSelector]);
  const system = (...more: string[]) =>
    matchers(preset.nodeExporterJob, more, [preset.selector, preset.systemSelector]);
  const all: Record<PresetCheckName, CheckSpec> = {
    // Every matching cardano-node target answered its last scrape.
    'node-up': {
      name: 'node-up',
      query: `up${node}`,
      op: '==',
      threshold: 1,
      aggregate: 'all',
      onNoData: preset.nodeOnNoData,
    },
    // The tip slot moved within the window: the node follows the chain (a stuck or
    // partitioned node keeps answering scrapes but its slot stops changing).
    'node-syncing': {
      name: 'node-syncing',
      query: `changes(${preset.slotMetric}${node}[${preset.syncWindow}])`,
      op: '>',
      threshold: 0,
      aggregate: 'all',
      onNoData: preset.nodeOnNoData,
    },
    cpu: {
      name: 'cpu',
      query: `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total${system('mode="idle"')}[${preset.cpuWindow}])))`,
      op: '<',
      threshold: preset.maxCpuPercent,
      aggregate: 'all',
      onNoData: preset.systemOnNoData,
    },
    memory: {
      name: 'memory',
      query: `100 * (1 - node_memory_MemAvailable_bytes${system()} / node_memory_MemTotal_bytes${system()})`,
      op: '<',
      threshold: preset.maxMemoryPercent,
      aggregate: 'all',
      onNoData: preset.systemOnNoData,
    },
    'disk-free': {
      name: 'disk-free',
      query: `node_filesystem_avail_bytes${system(`mountpoint=${promqlString(preset.diskMountpoint)}`)} / 1e9`,
      op: '>',
      threshold: preset.minDiskFreeGb,
      aggregate: 'all',
      onNoData: preset.systemOnNoData,
    },
  };
  return Object.values(all).filter((check) => !preset.skip.includes(check.name as PresetCheckName));
}
