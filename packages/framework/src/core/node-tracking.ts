/**
 * What the act layer remembers about the node between ticks, as pure functions: the previous
 * tracking plus what just happened (an observation, a revoke, a SIGHUP, a terminate) gives the next
 * tracking. What the node has loaded is node-belief.ts's rules; this adds the phase, the
 * --start-as-non-producing-node check, the forging fault, and the revoke bookkeeping (Rule N).
 * Log lines are returned as notes, so the caller logs them and this stays free of I/O.
 */
import type { CredentialState, NodeObservation, SignalOutcome } from '../contracts/index.js';
import type { DecisionConfig, Phase } from './decide.js';
import {
  UNKNOWN_BELIEF,
  believeObservation,
  believeSignal,
  believeTermination,
  nextFault,
  type ForgingFault,
  type NodeLoaded,
} from './node-belief.js';

export interface NodeTracking {
  readonly phase: Phase;
  /** What the node has loaded as far as we know. */
  readonly nodeLoaded: NodeLoaded;
  readonly fault: ForgingFault | null;
  /** A revoke failed: the files may still be at the node's paths (cleared once they are gone). */
  readonly credentialsUnrevocable: boolean;
  readonly lastRevokeAttemptMs: number;
  /** What the running node's command line says about --start-as-non-producing-node (null = not seen). */
  readonly nonProducingSeen: boolean | null;
  /** The last observation that reached the node (restart detection). */
  readonly lastNode: NodeObservation | null;
}

export const INITIAL_TRACKING: NodeTracking = {
  phase: 'starting',
  nodeLoaded: UNKNOWN_BELIEF,
  fault: null,
  credentialsUnrevocable: false,
  lastRevokeAttemptMs: Number.NEGATIVE_INFINITY,
  nonProducingSeen: null,
  lastNode: null,
};

export interface TrackingConfig {
  readonly decision: DecisionConfig;
  /** Whether the node's forging metric is configured (else a delivered SIGHUP counts after the bound). */
  readonly metricsConfigured: boolean;
  readonly sighupLatencyBoundMs: number;
}

/** A line for the log, in the order things happened. */
export interface TrackingNote {
  readonly level: 'info' | 'warn' | 'error';
  readonly fields: Readonly<Record<string, unknown>>;
  readonly message: string;
}

/** Startup credentials rely on --start-as-non-producing-node: once the running node is seen
 * without it, they are no longer handed out (safety.md §6). */
export function effectiveDecisionConfig(
  config: DecisionConfig,
  nonProducingSeen: boolean | null,
): DecisionConfig {
  return config.startAsNonProducing && nonProducingSeen === false
    ? { ...config, startAsNonProducing: false }
    : config;
}

/**
 * The tracking after an observation. An unobservable node (socket 'unknown') changes neither the
 * phase nor the start flag nor the restart reference: it is not known to be anything.
 */
export function trackObservation(
  prev: NodeTracking,
  node: NodeObservation,
  credentials: CredentialState,
  nowMs: number,
  config: TrackingConfig,
): { readonly next: NodeTracking; readonly notes: readonly TrackingNote[] } {
  const notes: TrackingNote[] = [];
  const observed = node.socket !== 'unknown';

  let nonProducingSeen = prev.nonProducingSeen;
  const seen = observed ? (node.startsNonProducing ?? null) : null;
  if (seen !== null && seen !== prev.nonProducingSeen) {
    nonProducingSeen = seen;
    if (!seen && config.decision.startAsNonProducing)
      notes.push({
        level: 'error',
        fields: { pid: node.pid },
        message:
          'the node runs WITHOUT --start-as-non-producing-node although startAsNonProducing is set: it forges with whatever credentials are on disk at start; startup credentials are no longer provided',
      });
  }
  const decision = effectiveDecisionConfig(config.decision, nonProducingSeen);

  const nodeLoaded = believeObservation(prev.nodeLoaded, prev.lastNode, node, credentials, nowMs, {
    metricsConfigured: config.metricsConfigured,
    sighupLatencyBoundMs: config.sighupLatencyBoundMs,
    startAsNonProducing: decision.startAsNonProducing,
  });
  const credentialsUnrevocable = credentials.presence === 'none' ? false : prev.credentialsUnrevocable;

  // DISABLE_SOCKET_CHECK means "do not wait for the socket" everywhere, not only at start (Python's G16).
  const nodeUp = node.socket === 'up' || config.decision.disableSocketCheck;
  const phase: Phase =
    prev.phase === 'stopping' ? 'stopping' : !observed ? prev.phase : nodeUp ? 'running' : 'starting';
  if (phase !== prev.phase)
    notes.push({
      level: 'info',
      fields: { from: prev.phase, to: phase, socket: node.socket },
      message: 'phase change',
    });

  const fault = nextFault(prev.fault, node, nodeLoaded, nowMs, decision);
  if (fault !== null && (prev.fault === null || prev.fault.reason !== fault.reason))
    notes.push({
      level: 'warn',
      fields: { reason: fault.reason },
      message: `forging fault: ${fault.message}`,
    });
  else if (fault === null && prev.fault !== null)
    notes.push({ level: 'info', fields: { reason: prev.fault.reason }, message: 'forging fault cleared' });

  return {
    next: {
      ...prev,
      phase,
      nodeLoaded,
      fault,
      credentialsUnrevocable,
      nonProducingSeen,
      lastNode: observed ? node : prev.lastNode,
    },
    notes,
  };
}

/** A revoke is being attempted now (a failed one is retried at the loop interval). */
export function trackRevokeAttempt(prev: NodeTracking, atMs: number): NodeTracking {
  return { ...prev, lastRevokeAttemptMs: atMs };
}

/** A revoke ended: a failed one leaves the files possibly in place (Rule N). */
export function trackRevokeResult(prev: NodeTracking, ok: boolean): NodeTracking {
  return { ...prev, credentialsUnrevocable: !ok };
}

export function trackSignal(
  prev: NodeTracking,
  forging: boolean,
  outcome: SignalOutcome,
  credentials: CredentialState,
  nowMs: number,
): NodeTracking {
  return { ...prev, nodeLoaded: believeSignal(prev.nodeLoaded, forging, outcome, credentials, nowMs) };
}

export function trackTermination(prev: NodeTracking, outcome: SignalOutcome): NodeTracking {
  return { ...prev, nodeLoaded: believeTermination(prev.nodeLoaded, outcome) };
}
