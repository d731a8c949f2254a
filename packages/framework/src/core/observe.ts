/**
 * The observation half of a tick: ask the node and the credential provisioner (each bounded by the
 * call timeout), fold the answers into the node tracking (node-tracking.ts), and read the elector's
 * and the policy's snapshots. A call that fails or times out is "unknown", never "down".
 */
import type { Logger } from 'pino';
import type {
  Clock,
  CredentialProvisioner,
  CredentialState,
  LeaderElector,
  NodeController,
} from '../contracts/index.js';
import { withDeadline } from './deadline.js';
import type { DecisionConfig, Observation, PolicyView } from './decide.js';
import { unobservable } from './node-belief.js';
import {
  effectiveDecisionConfig,
  trackObservation,
  type NodeTracking,
  type TrackingConfig,
} from './node-tracking.js';

export interface PolicyFeed {
  snapshot(): PolicyView;
  subscribe?(listener: () => void): () => void;
}

/** What an inspection that failed or timed out stands for: possibly present, not valid. */
export const UNKNOWN_CREDENTIALS: CredentialState = {
  presence: 'partial',
  upToDate: false,
  sourcesValid: false,
  sourceFingerprint: null,
  reason: 'InspectFailed',
  message: 'credential state unknown',
};

/**
 * One call of the act layer, bounded on the clock by `ms` and by the loop's own stop signal; its
 * error says which call failed.
 */
export async function boundedCall<T>(
  clock: Clock,
  what: string,
  ms: number,
  call: (signal: AbortSignal) => Promise<T>,
  loopSignal: AbortSignal,
): Promise<T> {
  try {
    return await withDeadline(clock, ms, call, { parent: loopSignal });
  } catch (error) {
    throw new Error(`${what} failed: ${(error as Error).message}`, { cause: error });
  }
}

export interface ObserveDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly node: NodeController;
  readonly credentials: CredentialProvisioner;
  readonly elector: LeaderElector;
  readonly policy: PolicyFeed;
}

export interface ObserveSettings extends TrackingConfig {
  readonly callTimeoutMs: number;
  /** A failed revoke is retried once this long has passed since the last attempt. */
  readonly revokeRetryMs: number;
}

export interface ObserveContext {
  readonly deps: ObserveDeps;
  readonly settings: ObserveSettings;
  /** The loop's stop signal: aborts calls in flight. */
  readonly signal: AbortSignal;
  /** The tracking as it is now (read after the calls return: the loop may have started stopping). */
  tracking(): NodeTracking;
  setTracking(next: NodeTracking): void;
}

export async function observe(ctx: ObserveContext): Promise<Observation> {
  const { node, credentials, elector, policy, clock, logger } = ctx.deps;
  const { callTimeoutMs } = ctx.settings;
  const [nodeObs, credState] = await Promise.all([
    boundedCall(clock, 'node observation', callTimeoutMs, (s) => node.observe(s), ctx.signal).catch(
      (error: Error) =>
        // Unknown, never "down": a node that cannot be observed may still be forging.
        unobservable(error.message),
    ),
    boundedCall(
      clock,
      'credential inspection',
      callTimeoutMs,
      (s) => credentials.inspect(s),
      ctx.signal,
    ).catch((error: Error): CredentialState => ({ ...UNKNOWN_CREDENTIALS, message: error.message })),
  ]);
  const nowMs = clock.monotonicMs();
  const { next, notes } = trackObservation(ctx.tracking(), nodeObs, credState, nowMs, ctx.settings);
  for (const note of notes) logger[note.level](note.fields, note.message);
  ctx.setTracking(next);
  const config: DecisionConfig = effectiveDecisionConfig(ctx.settings.decision, next.nonProducingSeen);
  return {
    nowMs,
    phase: next.phase,
    node: nodeObs,
    nodeLoaded: next.nodeLoaded,
    leadership: elector.snapshot(),
    policy: policy.snapshot(),
    credentials: credState,
    credentialsUnrevocable: next.credentialsUnrevocable,
    revokeRetryDue: nowMs - next.lastRevokeAttemptMs >= ctx.settings.revokeRetryMs,
    fault: next.fault,
    config,
  };
}
