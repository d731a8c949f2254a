/**
 * The decision core: one pure function from what the sidecar observes to what it must do.
 * Level-triggered like a Kubernetes reconciler: it never looks at what happened last tick, only at
 * the current observation (which includes what the node has loaded, as far as we know). The act
 * layer (reconciler.ts) executes the returned actions in order and feeds the results back into the
 * next observation. The safety argument this encodes is written down in docs/safety.md.
 */
import type { CredentialState, LeadershipSnapshot, NodeObservation } from '../contracts/index.js';
import type { ForgingFault, NodeLoaded } from './node-belief.js';

export type Phase = 'starting' | 'running' | 'stopping';

export type { NodeLoaded } from './node-belief.js';

export interface PolicyView {
  readonly forgingAllowed: boolean;
  readonly reason: string;
  readonly message: string;
}

export interface DecisionConfig {
  /** The node runs with --start-as-non-producing-node, so credentials on disk at start are not loaded. */
  readonly startAsNonProducing: boolean;
  /** DISABLE_SOCKET_CHECK: treat the node as up without a socket (local/dev only). */
  readonly disableSocketCheck: boolean;
  /** How long a delivered SIGHUP may stay unconfirmed before the sidecar gives up on it (re-sends an
   * enable; stops the node that was told to stop). */
  readonly confirmTimeoutMs: number;
  /** How long a leader may stay in a forging fault (PID unknown, SIGHUP failing, node not forging,
   * behind the tip) before it hands over. */
  readonly handoverHoldDownMs: number;
}

export interface Observation {
  /** Clock.monotonicMs() at observation time. */
  readonly nowMs: number;
  readonly phase: Phase;
  readonly node: NodeObservation;
  readonly nodeLoaded: NodeLoaded;
  readonly leadership: LeadershipSnapshot;
  readonly policy: PolicyView;
  readonly credentials: CredentialState;
  /** A revoke failed and the files may still be there (they cannot be removed: read-only, EIO, ...). */
  readonly credentialsUnrevocable: boolean;
  /** With credentialsUnrevocable: whether another revoke attempt is due (retried at the interval). */
  readonly revokeRetryDue: boolean;
  /** A condition in which this pod's node cannot forge or cannot be controlled (node-belief.ts). */
  readonly fault: ForgingFault | null;
  readonly config: DecisionConfig;
}

export type Action =
  | { readonly type: 'provision' }
  | { readonly type: 'revoke' }
  | { readonly type: 'signal'; readonly reason: SignalReason; readonly forging: boolean }
  | { readonly type: 'terminate'; readonly reason: string }
  | { readonly type: 'release' };

/** Metric labels of cardano_sighup_signals_total, as in the Python sidecar. */
export type SignalReason = 'enable_forging' | 'disable_forging' | 'startup_cleanup';

export interface Decision {
  /** Whether the elector may hold or try to take the lock. */
  readonly candidate: boolean;
  /** This pod holds a lease it may act on right now (held and not past leaderUntilMs). */
  readonly leader: boolean;
  /** Desired state: the node forges. */
  readonly forge: boolean;
  /** Ordered side effects for the act layer. Empty = converged. */
  readonly actions: readonly Action[];
  readonly reason: string;
  readonly message: string;
}

/** Why this pod may not forge, or null when it may (given leadership). */
function ineligibility(o: Observation): { reason: string; message: string } | null {
  if (o.phase === 'stopping') return { reason: 'ShuttingDown', message: 'the sidecar is shutting down' };
  if (o.node.socket === 'unknown')
    return { reason: 'NodeUnobservable', message: `the node could not be observed: ${o.node.message}` };
  if (!o.config.disableSocketCheck && o.node.socket !== 'up') {
    const reason =
      o.node.socket === 'stale'
        ? 'NodeSocketStale'
        : o.node.socket === 'missing'
          ? 'NodeStarting'
          : 'NodeSocketInvalid';
    return { reason, message: `node socket is ${o.node.socket}: ${o.node.message}` };
  }
  if (o.phase === 'starting') return { reason: 'Starting', message: 'startup has not finished' };
  if (!o.policy.forgingAllowed)
    return {
      reason: `PolicyDisallows`,
      message: `cluster policy disallows forging (${o.policy.reason}): ${o.policy.message}`,
    };
  if (!o.credentials.sourcesValid)
    return {
      reason: 'CredentialsInvalid',
      message: `forging credentials are not usable: ${o.credentials.message}`,
    };
  if (o.credentialsUnrevocable)
    return {
      reason: 'CredentialsUnrevocable',
      message: `credentials at the node paths cannot be removed (${o.credentials.message}); make the target writable`,
    };
  return null;
}

/** A fault blocks a standby at once and a leader after the hold-down (it then hands over). */
function faultBlocks(o: Observation, holdsLock: boolean): boolean {
  if (o.fault === null) return false;
  return !holdsLock || o.nowMs - o.fault.sinceMs >= o.config.handoverHoldDownMs;
}

export function decide(o: Observation): Decision {
  const me = o.leadership.identity;
  const holdsLock = o.leadership.holder === me;
  // Self-fencing: leadership counts only until the deadline derived from the last successful renew,
  // even if the elector has not yet noticed that renewing failed.
  const leader = holdsLock && o.nowMs < o.leadership.leaderUntilMs;
  const faulted = faultBlocks(o, holdsLock);
  const blocked =
    ineligibility(o) ??
    (faulted && o.fault !== null
      ? {
          reason: o.fault.reason,
          message: holdsLock
            ? `${o.fault.message}; handing over (for ${Math.round(o.nowMs - o.fault.sinceMs)} ms)`
            : o.fault.message,
        }
      : null);
  const behindTip = o.node.atTip === false;
  // Taking a lock that was vacant without a release: wait until a previous holder must have fenced.
  const inGrace = leader && o.nowMs < (o.leadership.actAfterMs ?? 0);
  const forge = leader && blocked === null && !inGrace;

  const loaded = o.nodeLoaded;
  // Unknown counts as forging: only a confirmed `false` lets go of anything.
  const mayBeForging = loaded.forging !== false;
  const pending = loaded.pending;
  const pendingAgeMs = pending === null ? 0 : o.nowMs - pending.atMs;
  const awaitingEnable = pending?.forging === true && pendingAgeMs <= o.config.confirmTimeoutMs;
  const awaitingDisable = pending?.forging === false && pendingAgeMs <= o.config.confirmTimeoutMs;
  const disableUnconfirmed = pending?.forging === false && pendingAgeMs > o.config.confirmTimeoutMs;
  // A SIGHUP that could not be delivered is retried after a pause, not on every 50 ms tick.
  const signalBackoff =
    loaded.signalFailure !== null && o.nowMs - loaded.signalFailure.atMs < o.config.confirmTimeoutMs;

  // During startup the node needs credential files to start at all; with --start-as-non-producing-node
  // they are not loaded, so a non-leader may keep them until the node is up (docs/safety.md, startup).
  const startupKeep =
    o.config.startAsNonProducing &&
    !o.config.disableSocketCheck &&
    loaded.forging === false &&
    o.node.socket !== 'up' &&
    o.node.socket !== 'unknown' &&
    o.phase !== 'stopping';
  // Withdrawn: the node is confirmed not forging and nothing will make it start by itself (files gone,
  // or files it cannot load without a SIGHUP nobody will send).
  const withdrawn =
    loaded.forging === false &&
    (o.credentials.presence === 'none' || startupKeep || o.credentialsUnrevocable);
  // A holder keeps the lock (keeps renewing) until its node is confirmed withdrawn, so nobody else can
  // start forging while this node may still hold keys; a standby behind the tip does not contend.
  const eligibleToContend = blocked === null && !(behindTip && !holdsLock);
  const candidate = eligibleToContend || (holdsLock && !withdrawn);

  const actions: Action[] = [];
  if (forge) {
    const needsFiles = o.credentials.presence !== 'all' || !o.credentials.upToDate;
    if (needsFiles) actions.push({ type: 'provision' });
    // Signal whenever the node is not confirmed forging with the current credentials (a null
    // fingerprint: loaded before we watched, e.g. startup files — the Python sidecar's G1).
    const loadedCurrent = loaded.forging === true && loaded.fingerprint === o.credentials.sourceFingerprint;
    if (needsFiles || (!loadedCurrent && !awaitingEnable && !signalBackoff))
      actions.push({ type: 'signal', reason: 'enable_forging', forging: true });
    const fault = o.fault;
    return {
      candidate: true,
      leader,
      forge,
      actions,
      ...(fault !== null
        ? {
            reason: fault.reason,
            message: `leader of ${o.leadership.lockName}, but ${fault.message}; hands over after ${Math.ceil((fault.sinceMs + o.config.handoverHoldDownMs - o.nowMs) / 1000)} s unless it clears`,
          }
        : {
            reason: 'Forging',
            message: `leader of ${o.leadership.lockName} (epoch ${o.leadership.transitions}); ${loadedCurrent ? 'forging (confirmed)' : 'forging requested, not yet confirmed by the node'}`,
          }),
    };
  }

  // A node that could not be observed may still be reachable: the controller looks its PID up itself.
  const nodeReachable = o.node.socket === 'up' || o.node.socket === 'unknown' || o.node.pid !== null;
  if (startupKeep) {
    if (o.credentials.presence !== 'all' && o.credentials.sourcesValid) actions.push({ type: 'provision' });
  } else if (o.credentialsUnrevocable && o.credentials.presence !== 'none') {
    // The files stay: a SIGHUP would reload them. A node that may forge with them is stopped instead
    // (it restarts non-producing); the lock is kept until then.
    if (mayBeForging && (o.node.pid !== null || o.node.socket === 'unknown'))
      actions.push({ type: 'terminate', reason: 'credentials cannot be removed' });
    else if (o.revokeRetryDue) actions.push({ type: 'revoke' });
  } else {
    if (o.credentials.presence !== 'none') actions.push({ type: 'revoke' });
    // A leader that still holds its lease can wait (and re-send); one that is fenced or stopping cannot.
    const mustEndNow = !leader || o.phase === 'stopping';
    if (
      mayBeForging &&
      disableUnconfirmed &&
      mustEndNow &&
      (o.node.pid !== null || o.node.socket === 'unknown')
    )
      actions.push({ type: 'terminate', reason: 'the node did not confirm it stopped forging' });
    else if (mayBeForging && nodeReachable && !awaitingDisable && !signalBackoff) {
      // The node must re-read (now absent) credentials unless it is known not to forge. A node that is
      // not up cannot be signalled; it will start without credentials.
      const reason: SignalReason =
        o.phase === 'starting' || (loaded.source === 'unknown' && pending === null)
          ? 'startup_cleanup'
          : 'disable_forging';
      actions.push({ type: 'signal', reason, forging: false });
    }
  }
  if (holdsLock && !candidate && withdrawn && actions.length === 0) actions.push({ type: 'release' });

  const waiting =
    awaitingDisable && mayBeForging
      ? ` (waiting for the node to confirm it stopped forging, ${Math.round(pendingAgeMs)} ms)`
      : '';
  const why =
    inGrace && blocked === null
      ? {
          reason: 'TakeoverGrace',
          message: `took ${o.leadership.lockName} without a release; waiting ${Math.ceil((o.leadership.actAfterMs ?? 0) - o.nowMs)} ms for a previous holder to fence`,
        }
      : !leader
        ? holdsLock
          ? {
              reason: 'LeaseUnconfirmed',
              message: `lease ${o.leadership.lockName} could not be renewed in time; fenced`,
            }
          : (blocked ??
            (behindTip
              ? { reason: 'BehindTip', message: `node is behind the chain tip: ${o.node.message}` }
              : {
                  reason: 'NotLeader',
                  message: o.leadership.holder
                    ? `lease ${o.leadership.lockName} is held by ${o.leadership.holder}`
                    : `lease ${o.leadership.lockName} is not held by this pod (${o.leadership.reason})`,
                }))
        : (blocked as { reason: string; message: string });
  return { candidate, leader, forge: false, actions, reason: why.reason, message: why.message + waiting };
}
