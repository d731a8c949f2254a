/**
 * Which Kubernetes Events one reconciler tick produces, given the tick before it. Pure: the
 * recorder (recorder.ts) sends them. `kubectl describe pod` then tells the story of a handoff.
 */
import type { TickRecord } from '../core/reconciler.js';

export type ForgeEventReason =
  | 'LeadershipGained'
  | 'LeadershipLost'
  | 'ForgingEnabled'
  | 'ForgingDisabled'
  | 'ForgingStateUnknown'
  | 'HealthDegraded'
  | 'HealthRecovered'
  | 'HandoffStarted'
  | 'HandoffCompleted'
  | 'RevocationFailed';

export interface ForgeEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: ForgeEventReason;
  readonly message: string;
}

/** The priority strategy's reason while health is at or above the failure threshold. */
const HEALTH_DEGRADED = 'health_degraded';

function released(tick: TickRecord): boolean {
  return tick.results.some((r) => r.ok && r.action.type === 'release');
}

function plansRelease(tick: TickRecord | null): boolean {
  return tick?.decision.actions.some((a) => a.type === 'release') ?? false;
}

export function transitionsBetween(previous: TickRecord | null, tick: TickRecord): ForgeEvent[] {
  const events: ForgeEvent[] = [];
  const why = `${tick.decision.reason}: ${tick.decision.message}`;
  const wasLeader = previous?.decision.leader ?? false;
  const { leadership } = tick.observation;

  if (!wasLeader && tick.decision.leader)
    events.push({
      type: 'Normal',
      reason: 'LeadershipGained',
      message: `holds lease ${leadership.lockName} (transition ${leadership.transitions})`,
    });
  if (wasLeader && !tick.decision.leader)
    events.push({
      type: 'Normal',
      reason: 'LeadershipLost',
      message: `no longer leader of ${leadership.lockName}: ${why}`,
    });

  if (!plansRelease(previous) && plansRelease(tick))
    events.push({
      type: 'Normal',
      reason: 'HandoffStarted',
      message: `withdrawing credentials, then releasing the lease: ${why}`,
    });
  if (released(tick))
    events.push({
      type: 'Normal',
      reason: 'HandoffCompleted',
      message: `released lease ${leadership.lockName} after withdrawing credentials`,
    });
  else if (!wasLeader && tick.decision.leader && leadership.acquiredFromRelease === true)
    events.push({
      type: 'Normal',
      reason: 'HandoffCompleted',
      message: `took over lease ${leadership.lockName} released by its previous holder`,
    });

  const wasForging = previous?.nodeLoaded.forging ?? null;
  const forging = tick.nodeLoaded.forging;
  if (forging === true && wasForging !== true)
    events.push({ type: 'Normal', reason: 'ForgingEnabled', message: `the node forges: ${why}` });
  if (forging === false && wasForging === true)
    events.push({ type: 'Normal', reason: 'ForgingDisabled', message: `the node stopped forging: ${why}` });
  if (forging === null && wasForging === true)
    events.push({
      type: 'Warning',
      reason: 'ForgingStateUnknown',
      message: `cannot confirm whether the node still forges (assumed it may): ${why}`,
    });

  const wasDegraded = previous?.observation.policy.reason === HEALTH_DEGRADED;
  const degraded = tick.observation.policy.reason === HEALTH_DEGRADED;
  if (!wasDegraded && degraded)
    events.push({ type: 'Warning', reason: 'HealthDegraded', message: tick.observation.policy.message });
  if (wasDegraded && !degraded && previous !== null)
    events.push({ type: 'Normal', reason: 'HealthRecovered', message: tick.observation.policy.message });

  for (const result of tick.results)
    if (!result.ok && result.action.type === 'revoke')
      events.push({
        type: 'Warning',
        reason: 'RevocationFailed',
        message: `could not withdraw the forging credentials: ${result.message}`,
      });
  return events;
}
