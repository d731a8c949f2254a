import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { TickRecord } from '../core/reconciler.js';
import { UNKNOWN_BELIEF } from '../core/node-belief.js';
import { SidecarMetrics } from './metrics.js';

const info = {
  podName: 'bp-0',
  namespace: 'ns',
  version: '0',
  network: 'preprod',
  poolId: 'pool1',
  poolTicker: 'T',
  applicationType: 'block-producer',
};

function tick(patch: {
  forge: boolean;
  leader: boolean;
  loaded: boolean | null;
  pid: number | null;
  fault?: TickRecord['observation']['fault'];
  unrevocable?: boolean;
  results?: TickRecord['results'];
}): TickRecord {
  return {
    observation: {
      nowMs: 10_000,
      phase: 'running',
      node: { socket: 'up', pid: patch.pid, forgingMetric: null, atTip: null, message: '' },
      nodeLoaded: UNKNOWN_BELIEF,
      leadership: {
        lockName: 'l',
        identity: 'bp-0',
        holder: 'bp-0',
        leaderUntilMs: 20_000,
        transitions: 1,
        observedAtMs: 0,
        reason: '',
        message: '',
      },
      policy: { forgingAllowed: true, reason: '', message: '' },
      credentials: {
        presence: 'all',
        upToDate: true,
        sourcesValid: true,
        sourceFingerprint: 'f',
        reason: '',
        message: '',
      },
      credentialsUnrevocable: patch.unrevocable ?? false,
      revokeRetryDue: false,
      fault: patch.fault ?? null,
      config: {
        startAsNonProducing: true,
        disableSocketCheck: false,
        confirmTimeoutMs: 3000,
        handoverHoldDownMs: 30_000,
      },
    },
    decision: {
      candidate: true,
      leader: patch.leader,
      forge: patch.forge,
      actions: (patch.results ?? []).map((r) => r.action),
      reason: patch.fault?.reason ?? 'Forging',
      message: '',
    },
    results: patch.results ?? [],
    nodeLoaded: { ...UNKNOWN_BELIEF, forging: patch.loaded },
    credentialsUnrevocable: patch.unrevocable ?? false,
    completedAtMs: 10_000,
  };
}

async function sample(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await registry.metrics();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith(name) &&
        !l.startsWith(`${name}_`) &&
        Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    );
  if (line === undefined) throw new Error(`${name} not exposed`);
  return Number(line.split(' ').at(-1));
}

describe('sidecar metrics', () => {
  it('a leader whose node PID cannot be found is not "forging": mismatch 1 and the fault is exposed', async () => {
    const registry = new Registry();
    const metrics = new SidecarMetrics(
      registry,
      { pod: 'bp-0', network: 'preprod', poolIdShort: 'pool1', application: 'bp' },
      info,
    );
    const fault = { reason: 'NodePidUnknown' as const, message: 'no pid', sinceMs: 0 };
    metrics.record(
      tick({
        forge: true,
        leader: true,
        loaded: null,
        pid: null,
        fault,
        results: [
          {
            action: { type: 'signal', reason: 'enable_forging', forging: true },
            ok: false,
            message: 'no pid',
          },
        ],
      }),
      new Date(),
    );
    expect(await sample(registry, 'cardano_forging_enabled')).toBe(0);
    expect(await sample(registry, 'cardano_forge_node_forging_mismatch')).toBe(1);
    expect(await sample(registry, 'cardano_forge_forging_fault', { reason: 'NodePidUnknown' })).toBe(1);
  });

  it('forging counts only once the node confirmed it; a failed revoke is counted and flagged', async () => {
    const registry = new Registry();
    const metrics = new SidecarMetrics(
      registry,
      { pod: 'bp-0', network: 'preprod', poolIdShort: 'pool1', application: 'bp' },
      info,
    );
    metrics.record(tick({ forge: true, leader: true, loaded: null, pid: 7 }), new Date());
    expect(await sample(registry, 'cardano_forging_enabled')).toBe(0);
    metrics.record(tick({ forge: true, leader: true, loaded: true, pid: 7 }), new Date());
    expect(await sample(registry, 'cardano_forging_enabled')).toBe(1);
    expect(await sample(registry, 'cardano_forge_node_forging_mismatch')).toBe(0);
    metrics.record(
      tick({
        forge: false,
        leader: true,
        loaded: true,
        pid: 7,
        unrevocable: true,
        results: [{ action: { type: 'revoke' }, ok: false, message: 'EROFS' }],
      }),
      new Date(),
    );
    expect(await sample(registry, 'cardano_forge_revoke_failures_total')).toBe(1);
    expect(await sample(registry, 'cardano_forge_credentials_unrevocable')).toBe(1);
    expect(await sample(registry, 'cardano_forge_node_forging_mismatch')).toBe(1);
  });
});
