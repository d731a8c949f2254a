/**
 * The decision core: one pure function from what the sidecar observes to what it must do.
 * Level-triggered like a Kubernetes reconciler: it never looks at what happened last tick, only at
 * the current observation (which includes what the node has loaded, as far as we know). The act
 * layer (reconciler.ts) executes the returned actions in order and feeds the results back into the
 * next observation. The safety argument this encodes is written down in docs/safety.md.
 */
import type { CredentialState, LeadershipSnapshot, NodeObservation } from '../contracts/index.js';

export type Phase = 'starting' | 'running' | 'stopping';

/** What the node has loaded as far as the sidecar knows. `null` = unknown (e.g. we just started and
 * the node was already running, or a SIGHUP could not be delivered). */
export interface NodeLoaded {
  readonly forging: boolean | null;
  /** Source fingerprint of the credentials the node loaded with its last reload (rotation check). */
  readonly fingerprint: string | null;
}

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
  readonly config: DecisionConfig;
}

export type Action =
  | { readonly type: 'provision' }
  | { readonly type: 'revoke' }
  | { readonly type: 'signal'; readonly reason: SignalReason; readonly forging: boolean }
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
  return null;
}

export function decide(o: Observation): Decision {
  const me = o.leadership.identity;
  const holdsLock = o.leadership.holder === me;
  // Self-fencing: leadership counts only until the deadline derived from the last successful renew,
  // even if the elector has not yet noticed that renewing failed.
  const leader = holdsLock && o.nowMs < o.leadership.leaderUntilMs;
  const blocked = ineligibility(o);
  const behindTip = o.node.atTip === false;
  // Taking a lock that was vacant without a release: wait until a previous holder must have fenced.
  const inGrace = leader && o.nowMs < (o.leadership.actAfterMs ?? 0);
  const forge = leader && blocked === null && !inGrace;

  // During startup the node needs credential files to start at all; with --start-as-non-producing-node
  // they are not loaded, so a non-leader may keep them until the node is up (docs/safety.md, startup).
  const startupKeep =
    o.config.startAsNonProducing &&
    !o.config.disableSocketCheck &&
    o.nodeLoaded.forging === false &&
    o.node.socket !== 'up' &&
    o.phase !== 'stopping';
  // Credentials are withdrawn once the node is known not to forge and cannot start forging by itself.
  const withdrawn = o.nodeLoaded.forging === false && (o.credentials.presence === 'none' || startupKeep);
  // A holder keeps the lock until its credentials are withdrawn, so nobody else can start forging
  // while this node may still hold keys; a standby behind the tip does not contend.
  const eligibleToContend = blocked === null && !(behindTip && !holdsLock);
  const candidate = eligibleToContend || (holdsLock && !withdrawn && o.phase !== 'stopping' && leader);

  const actions: Action[] = [];
  if (forge) {
    const needsFiles = o.credentials.presence !== 'all' || !o.credentials.upToDate;
    if (needsFiles) actions.push({ type: 'provision' });
    const rotated =
      o.nodeLoaded.fingerprint !== null && o.nodeLoaded.fingerprint !== o.credentials.sourceFingerprint;
    // Signal whenever the node is not known to forge with the current credentials. This covers a
    // pod that becomes leader while startup credentials are already on disk (the Python sidecar's G1).
    if (needsFiles || o.nodeLoaded.forging !== true || rotated)
      actions.push({ type: 'signal', reason: 'enable_forging', forging: true });
    return {
      candidate: true,
      leader,
      forge,
      actions,
      reason: 'Forging',
      message: `leader of ${o.leadership.lockName} (epoch ${o.leadership.transitions}); forging`,
    };
  }

  if (startupKeep) {
    if (o.credentials.presence !== 'all' && o.credentials.sourcesValid) actions.push({ type: 'provision' });
  } else {
    if (o.credentials.presence !== 'none') actions.push({ type: 'revoke' });
    // The node must re-read (now absent) credentials unless it is known not to forge. A node that is
    // not up cannot be signalled; it will start without credentials.
    const nodeReachable = o.node.socket === 'up' || o.node.pid !== null;
    if (o.nodeLoaded.forging !== false && nodeReachable) {
      const reason: SignalReason =
        o.phase === 'starting' || o.nodeLoaded.forging === null ? 'startup_cleanup' : 'disable_forging';
      actions.push({ type: 'signal', reason, forging: false });
    }
  }
  if (holdsLock && !candidate && actions.length === 0) actions.push({ type: 'release' });

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
  return { candidate, leader, forge: false, actions, reason: why.reason, message: why.message };
}
