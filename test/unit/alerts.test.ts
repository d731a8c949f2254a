// The Prometheus alert rules (deploy/helm/cardano-forge/files/prometheus-rules.yaml): promtool accepts
// them, their unit tests (deploy/alerts/tests) pass and cover every alert firing and quiet, every metric
// they read is one the code exports, and every runbook link names a section of docs/operations.md.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { runPromtool } from '../prometheus/promtool.ts';
import { unexportedMetrics } from '../support/metric-names.ts';

const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
const RULES = join(REPO, 'deploy/helm/cardano-forge/files/prometheus-rules.yaml');
const TESTS_DIR = join(REPO, 'deploy/alerts/tests');
const OPERATIONS = join(REPO, 'docs/operations.md');

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface RuleTestFile {
  rule_files: string[];
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
}

function alertRules(): AlertRule[] {
  const file = parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> };
  return file.groups.flatMap((group) => group.rules);
}

function ruleTestFiles(): string[] {
  return readdirSync(TESTS_DIR)
    .filter((name) => name.endsWith('.yaml'))
    .map((name) => join(TESTS_DIR, name));
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of markdown.split('\n')) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading === null) continue;
    anchors.add(
      heading[1]!
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9 _-]/g, '')
        .replace(/ /g, '-'),
    );
  }
  return anchors;
}

describe('alert rules', () => {
  it('promtool check rules accepts the rule file', async () => {
    const run = await runPromtool(['check', 'rules', RULES]);
    expect(run.output).toContain('SUCCESS');
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain(`SUCCESS: ${alertRules().length} rules found`);
  });

  it('promtool test rules: every unit test passes', async () => {
    const files = ruleTestFiles();
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const run = await runPromtool(['test', 'rules', file]);
      expect(run.code, `${relative(REPO, file)}:\n${run.output}`).toBe(0);
      expect(run.output).toContain('SUCCESS');
    }
  });

  it('a promtool unit test that expects the wrong alert is reported as a failure', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'promtool-'));
    try {
      const file = join(dir, 'wrong.test.yaml');
      const test = {
        rule_files: [RULES],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [
              { series: 'cardano_forge_node_forging_mismatch{instance="a",job="j"}', values: '0x5' },
            ],
            alert_rule_test: [
              {
                eval_time: '5m',
                alertname: 'CardanoForgeNodeForgingMismatch',
                exp_alerts: [{ exp_labels: { severity: 'critical', instance: 'a', job: 'j' } }],
              },
            ],
          },
        ],
      };
      await writeFile(file, JSON.stringify(test));
      const run = await runPromtool(['test', 'rules', file]);
      expect(run.code).not.toBe(0);
      expect(run.output).toContain('FAILED');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('every alert has a firing and a quiet unit test case', () => {
    const firing = new Set<string>();
    const quiet = new Set<string>();
    for (const path of ruleTestFiles()) {
      const file = parse(readFileSync(path, 'utf8')) as RuleTestFile;
      expect(file.rule_files.map((f) => resolve(TESTS_DIR, f))).toContain(RULES);
      for (const test of file.tests) {
        for (const check of test.alert_rule_test ?? []) {
          if ((check.exp_alerts ?? []).length > 0) firing.add(check.alertname);
          else quiet.add(check.alertname);
        }
      }
    }
    const names = alertRules().map((rule) => rule.alert);
    expect(names.filter((name) => !firing.has(name))).toEqual([]);
    expect(names.filter((name) => !quiet.has(name))).toEqual([]);
  });

  it('every alert has a severity, a summary, a description and a runbook section in docs/operations.md', () => {
    const anchors = headingAnchors(readFileSync(OPERATIONS, 'utf8'));
    const names = new Set<string>();
    for (const rule of alertRules()) {
      expect(names.has(rule.alert), `duplicate alert ${rule.alert}`).toBe(false);
      names.add(rule.alert);
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.annotations?.description, rule.alert).toBeTruthy();
      const runbook = /^docs\/operations\.md#(.+)$/.exec(rule.annotations?.runbook ?? '');
      expect(runbook, `${rule.alert}: runbook must be docs/operations.md#<section>`).not.toBeNull();
      expect([...anchors], `${rule.alert}: no section #${runbook![1]} in docs/operations.md`).toContain(
        runbook![1],
      );
    }
  });

  it('every metric an alert reads is exported by the code, or listed as pending with its reason', () => {
    const unknown = unexportedMetrics(alertRules().map((rule) => ({ where: rule.alert, expr: rule.expr })));
    expect(unknown).toEqual([]);
  });
});
