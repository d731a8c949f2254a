/**
 * What the node has loaded, as a pure function of the previous belief and what just happened
 * (an observation, a signal's outcome, a terminate's outcome). The rules fail closed:
 *
 *  - the node's own forging metric is the authority whenever it is readable;
 *  - a process that is gone forges nothing; a freshly started one forges only if it started as a
 *    producer with credentials on disk;
 *  - a delivered SIGHUP is only a request: the belief changes when the node confirms it (its metric),
 *    or — only when no node metrics are configured — once the SIGHUP latency bound has passed;
 *  - an observation that failed or timed out never makes the belief `false`: unknown = may be forging.
 */
import type { CredentialState, NodeObservation, SignalOutcome } from '../contracts/index.js';

/** Where the current belief comes from (shown on /status). */
export type BeliefSource = 'node-metric' | 'process-gone' | 'node-start' | 'sighup-assumed' | 'unknown';

/** A delivered SIGHUP the node has not confirmed yet. */
export interface PendingSignal {
  readonly forging: boolean;
  readonly atMs: number;
  readonly pid: number | null;
  /** Fingerprint of the credentials on disk when an enable was sent. */
  readonly fingerprint: string | null;
}

/** What the node has loaded as far as the sidecar knows. `forging: null` = unknown = may be forging. */
export interface NodeLoaded {
  readonly forging: boolean | null;
  /** Source fingerprint of the credentials the node loaded with its last confirmed reload. */
  readonly fingerprint: string | null;
  readonly source: BeliefSource;
  readonly pending: PendingSignal | null;
  /** Since when an enable has been outstanding without the node confirming it (sticky across re-sends). */
  readonly enableUnconfirmedSinceMs: number | null;
  /** The last SIGHUP that could not be delivered, until one is (or the node restarts). */
  readonly signalFailure: { readonly reason: string; readonly message: string; readonly atMs: number } | null;
}

export const UNKNOWN_BELIEF: NodeLoaded = {
  forging: null,
  fingerprint: null,
  source: 'unknown',
  pending: null,
  enableUnconfirmedSinceMs: null,
  signalFailure: null,
};

const GONE: NodeLoaded = { ...UNKNOWN_BELIEF, forging: false, source: 'process-gone' };

export interface BeliefConfig {
  /** Whether node metrics (cardano_node_metrics_forging_enabled) are configured at all. */
  readonly metricsConfigured: boolean;
  /** Assumed bound from a delivered SIGHUP to the node having applied it (used without metrics only). */
  readonly sighupLatencyBoundMs: number;
  /** The node is started with --start-as-non-producing-node (effective, after the cmdline check). */
  readonly startAsNonProducing: boolean;
}

/** An observation that failed or timed out (what the reconciler feeds in then). */
export function unobservable(message: string): NodeObservation {
  return { socket: 'unknown', pid: null, forgingMetric: null, atTip: null, message };
}

/**
 * The belief after an observation. `lastNode` is the previous *successful* observation (restart
 * detection); `credentials` what is on disk now (what a restarted producer loaded).
 */
export function believeObservation(
  prev: NodeLoaded,
  lastNode: NodeObservation | null,
  node: NodeObservation,
  credentials: CredentialState,
  nowMs: number,
  config: BeliefConfig,
): NodeLoaded {
  if (node.socket === 'unknown') {
    // Nothing learnt: a node believed forging still may be; anything else becomes unknown, never false.
    return prev.forging === true ? prev : { ...prev, forging: null, fingerprint: null, source: 'unknown' };
  }
  if (node.socket !== 'up' && node.pid === null) return GONE;

  let belief = prev;
  const restarted =
    lastNode !== null &&
    ((lastNode.socket !== 'up' && node.socket === 'up') ||
      (lastNode.pid !== null && node.pid !== null && lastNode.pid !== node.pid));
  if (restarted) {
    const nonProducing = node.startsNonProducing ?? config.startAsNonProducing;
    const forging = nonProducing
      ? false
      : credentials.presence === 'all'
        ? true
        : credentials.presence === 'none'
          ? false
          : null;
    belief = {
      ...UNKNOWN_BELIEF,
      forging,
      fingerprint: forging === true ? credentials.sourceFingerprint : null,
      source: 'node-start',
    };
  }

  const metric = node.forgingMetric;
  const pending = belief.pending;
  if (metric !== null) {
    if (pending === null)
      return {
        ...belief,
        forging: metric,
        // A node that says it forges, with credentials we did not see it load: which ones is unknown.
        fingerprint: metric && belief.forging === true ? belief.fingerprint : null,
        source: 'node-metric',
        enableUnconfirmedSinceMs: metric ? null : belief.enableUnconfirmedSinceMs,
      };
    if (metric === pending.forging)
      return {
        ...belief,
        forging: metric,
        fingerprint: metric ? pending.fingerprint : null,
        source: 'node-metric',
        pending: null,
        enableUnconfirmedSinceMs: null,
      };
    // Not applied yet: a node told to stop still forges; a node told to start may start any moment.
    return { ...belief, forging: pending.forging ? null : true, source: 'node-metric' };
  }
  if (pending !== null && !config.metricsConfigured && nowMs - pending.atMs >= config.sighupLatencyBoundMs)
    return {
      ...belief,
      forging: pending.forging,
      fingerprint: pending.forging ? pending.fingerprint : null,
      source: 'sighup-assumed',
      pending: null,
      enableUnconfirmedSinceMs: null,
    };
  return belief;
}

/** The belief after a SIGHUP attempt telling the node to forge (`forging`) or not. */
export function believeSignal(
  prev: NodeLoaded,
  forging: boolean,
  outcome: SignalOutcome,
  credentials: CredentialState,
  nowMs: number,
): NodeLoaded {
  if (!outcome.delivered)
    return { ...prev, signalFailure: { reason: outcome.reason, message: outcome.message, atMs: nowMs } };
  const fingerprint = forging && credentials.presence === 'all' ? credentials.sourceFingerprint : null;
  return {
    ...prev,
    // Told to start: it may forge from now on. Told to stop: it still may until it confirms.
    forging: forging ? (prev.forging === true ? true : null) : prev.forging,
    pending: { forging, atMs: nowMs, pid: outcome.pid, fingerprint },
    enableUnconfirmedSinceMs: forging ? (prev.enableUnconfirmedSinceMs ?? nowMs) : null,
    signalFailure: null,
  };
}

/** The belief after the last resort: only a confirmed-gone process counts. */
export function believeTermination(prev: NodeLoaded, outcome: SignalOutcome): NodeLoaded {
  return outcome.delivered ? GONE : prev;
}

export type FaultReason = 'NodePidUnknown' | 'SignalFailed' | 'NodeNotForging' | 'BehindTip';

/** A condition in which this pod's node cannot forge (or cannot be controlled) although it may lead. */
export interface ForgingFault {
  readonly reason: FaultReason;
  readonly message: string;
  readonly sinceMs: number;
}

export function nextFault(
  prev: ForgingFault | null,
  node: NodeObservation,
  belief: NodeLoaded,
  nowMs: number,
  config: { readonly disableSocketCheck: boolean; readonly confirmTimeoutMs: number },
): ForgingFault | null {
  const found = ((): { reason: FaultReason; message: string } | null => {
    if (node.socket === 'up' && node.pid === null && !config.disableSocketCheck)
      return {
        reason: 'NodePidUnknown',
        message: `the node is up but its PID cannot be found, so it cannot be signalled (${node.message})`,
      };
    if (belief.signalFailure !== null)
      return {
        reason: 'SignalFailed',
        message: `SIGHUP could not be delivered (${belief.signalFailure.reason}): ${belief.signalFailure.message}`,
      };
    if (
      belief.enableUnconfirmedSinceMs !== null &&
      nowMs - belief.enableUnconfirmedSinceMs > config.confirmTimeoutMs &&
      node.forgingMetric === false
    )
      return {
        reason: 'NodeNotForging',
        message: `told to forge ${Math.round(nowMs - belief.enableUnconfirmedSinceMs)} ms ago, but its forging metric still says 0`,
      };
    if (node.atTip === false)
      return { reason: 'BehindTip', message: `node is behind the chain tip: ${node.message}` };
    return null;
  })();
  if (found === null) return null;
  return { ...found, sinceMs: prev !== null && prev.reason === found.reason ? prev.sinceMs : nowMs };
}
