import { describe, expect, it } from 'vitest';
import type { CredentialState, NodeObservation } from '../contracts/index.js';
import type { DecisionConfig } from './decide.js';
import { unobservable } from './node-belief.js';
import {
  INITIAL_TRACKING,
  effectiveDecisionConfig,
  trackObservation,
  trackRevokeAttempt,
  trackRevokeResult,
  trackSignal,
  trackTermination,
  type NodeTracking,
  type TrackingConfig,
} from './node-tracking.js';

const decision: DecisionConfig = {
  startAsNonProducing: true,
  disableSocketCheck: false,
  confirmTimeoutMs: 3000,
  handoverHoldDownMs: 30_000,
};
const config: TrackingConfig = { decision, metricsConfigured: true, sighupLatencyBoundMs: 2000 };
const up = (extra: Partial<NodeObservation> = {}): NodeObservation => ({
  socket: 'up',
  pid: 42,
  forgingMetric: false,
  atTip: true,
  startsNonProducing: true,
  message: 'up',
  ...extra,
});
const files = (presence: CredentialState['presence']): CredentialState => ({
  presence,
  upToDate: presence === 'all',
  sourcesValid: true,
  sourceFingerprint: 'fp',
  reason: 'ok',
  message: 'ok',
});

describe('node tracking (pure)', () => {
  it('an unobservable node changes neither phase, start flag nor restart reference, and is never "not forging"', () => {
    const running = trackObservation(INITIAL_TRACKING, up(), files('none'), 1000, config).next;
    expect(running).toMatchObject({
      phase: 'running',
      nonProducingSeen: true,
      nodeLoaded: { forging: false },
    });
    const { next, notes } = trackObservation(running, unobservable('timed out'), files('none'), 2000, config);
    expect(next.phase).toBe('running');
    expect(next.nonProducingSeen).toBe(true);
    expect(next.lastNode).toBe(running.lastNode);
    expect(next.nodeLoaded.forging).toBeNull();
    expect(notes).toEqual([]);
  });

  it('a node seen without --start-as-non-producing-node is reported once and turns startup credentials off', () => {
    const first = trackObservation(
      INITIAL_TRACKING,
      up({ startsNonProducing: false }),
      files('all'),
      1000,
      config,
    );
    expect(first.next.nonProducingSeen).toBe(false);
    expect(first.notes.map((n) => n.level)).toEqual(['error', 'info']);
    expect(first.notes[0]?.message).toContain('WITHOUT --start-as-non-producing-node');
    expect(effectiveDecisionConfig(decision, first.next.nonProducingSeen).startAsNonProducing).toBe(false);
    const again = trackObservation(first.next, up({ startsNonProducing: false }), files('all'), 2000, config);
    expect(again.notes).toEqual([]);
    // Without startAsNonProducing configured there is nothing to warn about.
    const plain = { ...config, decision: { ...decision, startAsNonProducing: false } };
    expect(
      trackObservation(INITIAL_TRACKING, up({ startsNonProducing: false }), files('all'), 1, plain).notes,
    ).toEqual([
      { level: 'info', fields: { from: 'starting', to: 'running', socket: 'up' }, message: 'phase change' },
    ]);
  });

  it('stopping is sticky; a missing socket means starting unless the socket check is disabled', () => {
    const stopping: NodeTracking = { ...INITIAL_TRACKING, phase: 'stopping' };
    const { next, notes } = trackObservation(stopping, up(), files('none'), 1000, config);
    expect(next.phase).toBe('stopping');
    expect(notes).toEqual([]);
    const down = up({ socket: 'missing', pid: null, forgingMetric: null });
    expect(trackObservation(INITIAL_TRACKING, down, files('none'), 1000, config).next.phase).toBe('starting');
    const noCheck = { ...config, decision: { ...decision, disableSocketCheck: true } };
    expect(trackObservation(INITIAL_TRACKING, down, files('none'), 1000, noCheck).next.phase).toBe('running');
  });

  it('a failed revoke stays unrevocable until the files are seen gone', () => {
    const failed = trackRevokeResult(trackRevokeAttempt(INITIAL_TRACKING, 500), false);
    expect(failed).toMatchObject({ credentialsUnrevocable: true, lastRevokeAttemptMs: 500 });
    expect(trackObservation(failed, up(), files('partial'), 1000, config).next.credentialsUnrevocable).toBe(
      true,
    );
    expect(trackObservation(failed, up(), files('none'), 1000, config).next.credentialsUnrevocable).toBe(
      false,
    );
    expect(trackRevokeResult(failed, true).credentialsUnrevocable).toBe(false);
  });

  it('a forging fault is noted when it starts and when it clears, keeping its start time', () => {
    const noPid = up({ pid: null });
    const raised = trackObservation(INITIAL_TRACKING, noPid, files('none'), 1000, config);
    expect(raised.next.fault).toMatchObject({ reason: 'NodePidUnknown', sinceMs: 1000 });
    expect(raised.notes.at(-1)).toMatchObject({ level: 'warn', fields: { reason: 'NodePidUnknown' } });
    const held = trackObservation(raised.next, noPid, files('none'), 5000, config);
    expect(held.next.fault?.sinceMs).toBe(1000);
    expect(held.notes).toEqual([]);
    const cleared = trackObservation(held.next, up(), files('none'), 6000, config);
    expect(cleared.next.fault).toBeNull();
    expect(cleared.notes).toEqual([
      { level: 'info', fields: { reason: 'NodePidUnknown' }, message: 'forging fault cleared' },
    ]);
  });

  it('a SIGHUP is pending until confirmed; only a confirmed-gone process counts after terminate', () => {
    const running = trackObservation(
      INITIAL_TRACKING,
      up({ forgingMetric: true }),
      files('all'),
      1000,
      config,
    ).next;
    const told = trackSignal(
      running,
      false,
      { delivered: true, pid: 42, reason: 'Delivered', message: '' },
      files('none'),
      1100,
    );
    expect(told.nodeLoaded).toMatchObject({ forging: true, pending: { forging: false, atMs: 1100 } });
    const notGone = trackTermination(told, { delivered: false, pid: 42, reason: 'Timeout', message: '' });
    expect(notGone.nodeLoaded.forging).toBe(true);
    const gone = trackTermination(told, { delivered: true, pid: 42, reason: 'Delivered', message: '' });
    expect(gone.nodeLoaded).toMatchObject({ forging: false, source: 'process-gone' });
  });
});
