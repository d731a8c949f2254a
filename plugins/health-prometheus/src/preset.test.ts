import { describe, expect, it } from 'vitest';
import { healthPrometheusOptionsSchema } from './options.js';
import { presetChecks, promqlString } from './preset.js';

function preset(input: Record<string, unknown> = {}) {
  const parsed = healthPrometheusOptionsSchema.parse({
    url: 'http://p',
    preset: { name: 'cardano-node-basic', ...input },
  });
  if (!parsed.preset) throw new Error('preset missing');
  return presetChecks(parsed.preset);
}

describe('cardano-node-basic preset', () => {
  it('builds the five Option A checks with the seed thresholds', () => {
    const checks = preset();
    expect(checks.map((c) => [c.name, c.op, c.threshold])).toEqual([
      ['node-up', '==', 1],
      ['node-syncing', '>', 0],
      ['cpu', '<', 90],
      ['memory', '<', 90],
      ['disk-free', '>', 10],
    ]);
    expect(checks.every((c) => c.aggregate === 'all' && c.onNoData === 'fail')).toBe(true);
    expect(checks.map((c) => c.query)).toEqual([
      'up{job="cardano-node"}',
      'changes(cardano_node_metrics_slotNum_int{job="cardano-node"}[5m])',
      '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{job="node-exporter",mode="idle"}[5m])))',
      '100 * (1 - node_memory_MemAvailable_bytes{job="node-exporter"} / node_memory_MemTotal_bytes{job="node-exporter"})',
      'node_filesystem_avail_bytes{job="node-exporter",mountpoint="/"} / 1e9',
    ]);
  });

  it('applies job names, the selector, windows and thresholds', () => {
    const checks = preset({
      job: 'bp',
      nodeExporterJob: 'ne',
      selector: 'cluster="eu-1"',
      syncWindow: '30s',
      cpuWindow: '1m',
      slotMetric: 'cardano_node_metrics_slotInEpoch_int',
      maxCpuPercent: 80,
      maxMemoryPercent: 70,
      minDiskFreeGb: 50,
      diskMountpoint: '/data',
    });
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    expect(byName['node-up']?.query).toBe('up{job="bp",cluster="eu-1"}');
    expect(byName['node-syncing']?.query).toBe(
      'changes(cardano_node_metrics_slotInEpoch_int{job="bp",cluster="eu-1"}[30s])',
    );
    expect(byName.cpu?.query).toContain('node_cpu_seconds_total{job="ne",mode="idle",cluster="eu-1"}[1m]');
    expect(byName.cpu?.threshold).toBe(80);
    expect(byName.memory?.threshold).toBe(70);
    expect(byName['disk-free']?.query).toBe(
      'node_filesystem_avail_bytes{job="ne",mountpoint="/data",cluster="eu-1"} / 1e9',
    );
    expect(byName['disk-free']?.threshold).toBe(50);
  });

  it('lets node and system checks have their own no-data policy, and skips checks', () => {
    const checks = preset({ systemOnNoData: 'pass', skip: ['disk-free'] });
    expect(checks.map((c) => [c.name, c.onNoData])).toEqual([
      ['node-up', 'fail'],
      ['node-syncing', 'fail'],
      ['cpu', 'pass'],
      ['memory', 'pass'],
    ]);
  });

  it('escapes label values', () => {
    expect(promqlString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(preset({ job: 'we"ird' })[0]?.query).toBe('up{job="we\\"ird"}');
  });

  it('keeps node-only and system-only selectors apart (pod labels are not on node_exporter series)', () => {
    const checks = preset({
      selector: 'cluster="eu-1"',
      nodeSelector: 'pod="bp-0"',
      systemSelector: 'instance="10.0.0.7:9100"',
    });
    const byName = Object.fromEntries(checks.map((c) => [c.name, c.query]));
    expect(byName['node-up']).toBe('up{job="cardano-node",cluster="eu-1",pod="bp-0"}');
    expect(byName['node-syncing']).toContain('{job="cardano-node",cluster="eu-1",pod="bp-0"}');
    for (const name of ['cpu', 'memory', 'disk-free']) {
      expect(byName[name]).toContain('cluster="eu-1",instance="10.0.0.7:9100"}');
      expect(byName[name]).not.toContain('pod=');
    }
  });
});
