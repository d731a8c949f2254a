import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { pluginShapeProblems } from '../../plugin/define.js';
import type { Clock } from '../../contracts/index.js';
import { createKubernetesLeaseElector, kubernetesLeasePlugin } from './index.js';
import { kubernetesLeaseOptionsSchema, leaseTimingProblems } from './options.js';

const clock: Clock = {
  monotonicMs: () => performance.now(),
  wallNow: () => new Date(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};
const kubeConfig = new KubeConfig();
kubeConfig.loadFromOptions({
  clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
  users: [{ name: 'u', token: 't' }],
  contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
  currentContext: 'x',
});
const deps = { kubeConfig, clock, logger: pino({ level: 'silent' }) };
const base = { namespace: 'ns', identity: 'pod-0', leaseName: 'forge' };

describe('kubernetes-lease timing validation', () => {
  it.each([
    [
      { leaseDurationSeconds: 10, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 },
      /leaseDurationSeconds \(10\) must be greater than renewDeadlineSeconds \(10\)/,
    ],
    [
      { leaseDurationSeconds: 15, renewDeadlineSeconds: 2.4, retryPeriodSeconds: 2 },
      /renewDeadlineSeconds \(2.4\) must be greater than 1.2 × retryPeriodSeconds/,
    ],
    [
      { leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 0 },
      /retryPeriodSeconds must be > 0/,
    ],
    [
      { leaseDurationSeconds: -1, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 },
      /leaseDurationSeconds must be > 0/,
    ],
    [
      { leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2, requestTimeoutSeconds: 0 },
      /requestTimeoutSeconds must be > 0/,
    ],
  ])('construction throws and names the options: %j', (timing, message) => {
    expect(() => createKubernetesLeaseElector(deps, { ...base, ...timing })).toThrow(message);
    expect(leaseTimingProblems(timing).join('\n')).toMatch(message);
  });

  it('accepts client-go defaults and short test timings', () => {
    expect(
      leaseTimingProblems({ leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 }),
    ).toEqual([]);
    expect(() =>
      createKubernetesLeaseElector(deps, {
        ...base,
        leaseDurationSeconds: 3,
        renewDeadlineSeconds: 2,
        retryPeriodSeconds: 0.5,
      }),
    ).not.toThrow();
  });

  it('schema applies defaults and rejects bad timing and unknown keys', () => {
    const parsed = kubernetesLeaseOptionsSchema.parse({ leaseName: 'forge' });
    expect(parsed).toMatchObject({
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
    });
    expect(parsed.requestTimeoutSeconds).toBeUndefined();
    const bad = kubernetesLeaseOptionsSchema.safeParse({
      leaseName: 'forge',
      leaseDurationSeconds: 5,
      renewDeadlineSeconds: 6,
    });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toMatch(
      /leaseDurationSeconds \(5\) must be greater than renewDeadlineSeconds \(6\)/,
    );
    expect(kubernetesLeaseOptionsSchema.safeParse({ leaseName: 'forge', leaseDuration: 5 }).success).toBe(
      false,
    );
    expect(kubernetesLeaseOptionsSchema.safeParse({ leaseName: 'Not_A_Name' }).success).toBe(false);
  });

  it('is a well-formed leader-elector plugin', () => {
    expect(pluginShapeProblems(kubernetesLeasePlugin)).toEqual([]);
    expect(kubernetesLeasePlugin.kind).toBe('leader-elector');
    expect(kubernetesLeasePlugin.name).toBe('kubernetes-lease');
  });
});

describe('kubernetes-lease legacyLeaseName (MultiLock for the upgrade from the Python sidecar)', () => {
  const timing = { leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 };
  it('builds one elector holding both leases, with one per-incarnation identity', () => {
    const elector = createKubernetesLeaseElector(deps, {
      ...base,
      ...timing,
      legacyLeaseName: 'cardano-node-leader',
    });
    expect(elector.identity).toMatch(/^pod-0_[0-9a-f-]{36}$/);
    expect(elector.snapshot().lockName).toBe('forge+cardano-node-leader');
    expect(elector.snapshot().leaderUntilMs).toBe(0);
  });
  it('uses one lease when the legacy name equals the lease name', () => {
    const elector = createKubernetesLeaseElector(deps, { ...base, ...timing, legacyLeaseName: 'forge' });
    expect(elector.snapshot().lockName).toBe('forge');
  });
  it('rejects a legacy name that is not a Kubernetes object name', () => {
    const parsed = kubernetesLeaseOptionsSchema.safeParse({
      leaseName: 'forge',
      legacyLeaseName: 'Not_A_Name',
    });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toMatch(/legacyLeaseName/);
  });
});
