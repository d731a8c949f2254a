/**
 * The action half of a tick: runs one action decide() ordered, each call bounded by the call
 * timeout, and records what it did to the node tracking. The fencing deadline is checked again
 * immediately before every provision and inside the node controller right before an enable SIGHUP
 * (Rule F); a failed revoke marks the credentials unrevocable (Rule N).
 */
import type { Logger } from 'pino';
import type {
  Clock,
  CredentialProvisioner,
  CredentialState,
  LeaderElector,
  LeadershipSnapshot,
  NodeController,
} from '../contracts/index.js';
import type { Action, Observation, Phase } from './decide.js';
import {
  trackRevokeAttempt,
  trackRevokeResult,
  trackSignal,
  trackTermination,
  type NodeTracking,
} from './node-tracking.js';
import { boundedCall, UNKNOWN_CREDENTIALS } from './observe.js';

export interface ActionResult {
  readonly action: Action;
  readonly ok: boolean;
  readonly message: string;
}

export interface ActDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly node: NodeController;
  readonly credentials: CredentialProvisioner;
  readonly elector: LeaderElector;
}

export interface ActSettings {
  readonly callTimeoutMs: number;
  /** node.terminate(): SIGTERM → SIGKILL grace (and SIGKILL → gone). */
  readonly terminateGraceMs: number;
}

export interface ActContext {
  readonly deps: ActDeps;
  readonly settings: ActSettings;
  /** The loop's stop signal: aborts calls in flight. */
  readonly signal: AbortSignal;
  /** The loop's phase now (it turns 'stopping' while a tick runs). */
  phase(): Phase;
  /** Applies a change to the tracking as it is at that moment. */
  updateTracking(change: (prev: NodeTracking) => NodeTracking): void;
  tracking(): NodeTracking;
}

/**
 * Pure: why this pod may not start (or keep starting) to forge right now, or null. Re-checked
 * immediately before every provision and every enable SIGHUP, not only at the start of the tick
 * (a tick can outlast the fencing deadline).
 */
export function fencingBlock(lease: LeadershipSnapshot, nowMs: number, phase: Phase): string | null {
  if (phase === 'stopping') return 'the sidecar is shutting down';
  if (lease.holder !== lease.identity) return 'the lease is no longer held';
  if (nowMs >= lease.leaderUntilMs)
    return `the fencing deadline passed ${Math.round(nowMs - lease.leaderUntilMs)} ms ago`;
  if (nowMs < (lease.actAfterMs ?? 0)) return 'the takeover grace has not ended';
  return null;
}

interface Acted {
  readonly result: ActionResult;
  /** What is on disk after the action, as far as we know (the next action in the tick uses it). */
  readonly credentials: CredentialState;
}

export async function executeAction(
  ctx: ActContext,
  action: Action,
  credentials: CredentialState,
  observation: Observation,
): Promise<Acted> {
  const { logger, credentials: provisioner, node, elector, clock } = ctx.deps;
  const { callTimeoutMs, terminateGraceMs } = ctx.settings;
  const fenced = (): string | null => fencingBlock(elector.snapshot(), clock.monotonicMs(), ctx.phase());
  const lookupBudgetMs = (): number => Math.floor(callTimeoutMs / 2);
  const bounded = <T>(what: string, call: (signal: AbortSignal) => Promise<T>, ms = callTimeoutMs) =>
    boundedCall(clock, what, ms, call, ctx.signal);
  try {
    switch (action.type) {
      case 'provision': {
        const block = fenced();
        if (block !== null && observation.leadership.holder === observation.leadership.identity) {
          logger.warn(`provision skipped: ${block}`);
          return { result: { action, ok: false, message: `skipped: ${block}` }, credentials };
        }
        const change = await bounded('provision', (s) => provisioner.provision(s));
        if (!change.ok)
          logger.error({ reason: change.reason }, `provisioning credentials failed: ${change.message}`);
        else if (change.changed) logger.info('credentials provisioned');
        // A failed provision may have left anything behind: unknown, i.e. "may be present".
        const next: CredentialState = change.ok
          ? { ...credentials, presence: 'all', upToDate: true }
          : { ...UNKNOWN_CREDENTIALS, message: change.message };
        return { result: { action, ok: change.ok, message: change.message }, credentials: next };
      }
      case 'revoke': {
        ctx.updateTracking((prev) => trackRevokeAttempt(prev, clock.monotonicMs()));
        let change: { ok: boolean; reason: string; message: string; changed: boolean };
        try {
          change = await bounded('revoke', (s) => provisioner.revoke(s));
        } catch (error) {
          if (ctx.signal.aborted) throw error;
          change = { ok: false, changed: false, reason: 'Timeout', message: (error as Error).message };
        }
        if (!change.ok) {
          ctx.updateTracking((prev) => trackRevokeResult(prev, false));
          logger.error(
            { reason: change.reason, alert: 'CredentialsUnrevocable' },
            `revoking credentials failed: ${change.message}. The node may keep forging with them: this pod keeps the lease so no standby starts, and stops its node (it restarts non-producing) where it must give up forging. Operator: make the credential target writable (read-only mount? disk error?) and restart the pod`,
          );
          return {
            result: { action, ok: false, message: change.message },
            credentials: { ...UNKNOWN_CREDENTIALS, message: change.message },
          };
        }
        if (change.changed) logger.info('credentials revoked');
        if (ctx.tracking().credentialsUnrevocable) logger.info('credentials removed after earlier failures');
        ctx.updateTracking((prev) => trackRevokeResult(prev, true));
        return {
          result: { action, ok: true, message: change.message },
          credentials: { ...credentials, presence: 'none', upToDate: false },
        };
      }
      case 'signal': {
        // The node controller asks right before it sends an enable SIGHUP.
        const gate: { refused: string | null } = { refused: null };
        const proceed = action.forging
          ? () => {
              gate.refused = fenced();
              return gate.refused;
            }
          : undefined;
        // A revoke may not wait on a hung process lookup: half the call budget, then the PID
        // last seen serving the socket.
        const outcome = await bounded('signal', () =>
          node.reload(action.reason, proceed ? { proceed } : { lookupBudgetMs: lookupBudgetMs() }),
        );
        if (gate.refused !== null) {
          logger.warn(`enable SIGHUP not sent: ${gate.refused}`);
          return { result: { action, ok: false, message: `skipped: ${gate.refused}` }, credentials };
        }
        const atMs = clock.monotonicMs();
        ctx.updateTracking((prev) => trackSignal(prev, action.forging, outcome, credentials, atMs));
        if (outcome.delivered)
          logger.info({ pid: outcome.pid, reason: action.reason }, `SIGHUP delivered (${action.reason})`);
        else logger.warn({ reason: outcome.reason }, `SIGHUP not delivered: ${outcome.message}`);
        return { result: { action, ok: outcome.delivered, message: outcome.message }, credentials };
      }
      case 'terminate': {
        logger.error(
          { reason: action.reason, pid: observation.node.pid },
          `stopping the node as a last resort: ${action.reason}; it restarts with --start-as-non-producing-node`,
        );
        const outcome = await bounded(
          'terminate',
          (s) => node.terminate(action.reason, terminateGraceMs, s, { lookupBudgetMs: lookupBudgetMs() }),
          2 * terminateGraceMs + callTimeoutMs,
        );
        ctx.updateTracking((prev) => trackTermination(prev, outcome));
        if (outcome.delivered) logger.warn({ pid: outcome.pid }, `node stopped: ${outcome.message}`);
        else logger.error({ reason: outcome.reason }, `node could not be stopped: ${outcome.message}`);
        return { result: { action, ok: outcome.delivered, message: outcome.message }, credentials };
      }
      case 'release': {
        await bounded('release', (s) => elector.release(s));
        const after = elector.snapshot();
        const released = after.holder !== after.identity;
        if (released) logger.info('lease released');
        else logger.warn(`lease not released (${after.reason}): ${after.message}`);
        return {
          result: { action, ok: released, message: released ? 'released' : after.message },
          credentials,
        };
      }
    }
  } catch (error) {
    // A call cut short by shutdown is not a failure worth an error (the next step handles it).
    if (ctx.signal.aborted)
      logger.info({ action: action.type }, `${action.type} interrupted: the reconciler is stopping`);
    else logger.error({ err: error, action: action.type }, `${action.type} failed`);
    return { result: { action, ok: false, message: (error as Error).message }, credentials };
  }
}
