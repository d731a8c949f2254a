/**
 * The act layer around the pure decision core: observe → decide → act, level-triggered.
 * A tick runs on a timer, whenever the elector or the policy changes, and exactly at the
 * self-fencing deadline (leaderUntilMs), so a leader that cannot renew revokes its credentials
 * before any standby may take the lease (docs/safety.md).
 */
import type { Logger } from 'pino';
import type {
  Clock,
  CredentialProvisioner,
  CredentialState,
  LeaderElector,
  NodeController,
  NodeObservation,
} from '../contracts/index.js';
import { clockTimeout } from './deadline.js';
import { decide } from './decide.js';
import type { Action, Decision, DecisionConfig, Observation, Phase, PolicyView } from './decide.js';
import {
  UNKNOWN_BELIEF,
  believeObservation,
  believeSignal,
  believeTermination,
  nextFault,
  unobservable,
  type ForgingFault,
  type NodeLoaded,
} from './node-belief.js';

export interface PolicyFeed {
  snapshot(): PolicyView;
  subscribe?(listener: () => void): () => void;
}

export interface ReconcilerOptions {
  /** Periodic re-observation even when nothing signals a change. */
  readonly intervalMs: number;
  /** Bound on each observation and action call (core/timing.ts derives it from the fencing margin). */
  readonly callTimeoutMs: number;
  readonly config: DecisionConfig;
  /** Whether the node's forging metric is configured (else a delivered SIGHUP counts after the bound). */
  readonly metricsConfigured: boolean;
  /** The assumed bound from a delivered SIGHUP to the node having applied it. */
  readonly sighupLatencyBoundMs: number;
  /** node.terminate(): SIGTERM → SIGKILL grace (and SIGKILL → gone). */
  readonly terminateGraceMs: number;
}

export interface ReconcilerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly node: NodeController;
  readonly credentials: CredentialProvisioner;
  readonly elector: LeaderElector;
  readonly policy: PolicyFeed;
  /** Called after every tick (status writer, metrics). Must not throw. */
  readonly onTick?: (tick: TickRecord) => void | Promise<void>;
}

export interface ActionResult {
  readonly action: Action;
  readonly ok: boolean;
  readonly message: string;
}

export interface TickRecord {
  readonly observation: Observation;
  readonly decision: Decision;
  readonly results: readonly ActionResult[];
  /** What the node has loaded, as far as we know after this tick. */
  readonly nodeLoaded: NodeLoaded;
  /** After this tick: a revoke failed and the files may still be at the node's paths. */
  readonly credentialsUnrevocable: boolean;
  readonly completedAtMs: number;
}

const UNKNOWN_CREDENTIALS: CredentialState = {
  presence: 'partial',
  upToDate: false,
  sourcesValid: false,
  sourceFingerprint: null,
  reason: 'InspectFailed',
  message: 'credential state unknown',
};

const STARTING_POLL_MS = 200;

export class Reconciler {
  private readonly deps: ReconcilerDeps;
  private readonly options: ReconcilerOptions;
  private phase: Phase = 'starting';
  private nodeLoaded: NodeLoaded = UNKNOWN_BELIEF;
  private fault: ForgingFault | null = null;
  private credentialsUnrevocable = false;
  private lastRevokeAttemptMs = Number.NEGATIVE_INFINITY;
  /** What the running node's command line says about --start-as-non-producing-node (null = not seen). */
  private nonProducingSeen: boolean | null = null;
  private lastNode: NodeObservation | null = null;
  private last: TickRecord | null = null;
  private wake: (() => void) | null = null;
  private pending = false;
  private loop: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private unsubscribers: Array<() => void> = [];

  constructor(deps: ReconcilerDeps, options: ReconcilerOptions) {
    this.deps = deps;
    this.options = options;
  }

  current(): TickRecord | null {
    return this.last;
  }

  /** Monotonic time of the last completed tick (liveness of the control loop). */
  lastTickAtMs(): number | null {
    return this.last?.completedAtMs ?? null;
  }

  start(): void {
    if (this.loop) return;
    this.unsubscribers.push(this.deps.elector.subscribe(() => this.trigger()));
    const unsubscribePolicy = this.deps.policy.subscribe?.(() => this.trigger());
    if (unsubscribePolicy) this.unsubscribers.push(unsubscribePolicy);
    this.loop = this.run();
  }

  /** Asks for a tick as soon as the current one (if any) is done. */
  trigger(): void {
    this.pending = true;
    this.wake?.();
  }

  /**
   * Graceful stop: revoke credentials, signal the node, release the lease; bounded by deadlineMs.
   * Returns whether everything converged in time.
   */
  async shutdown(deadlineMs: number): Promise<boolean> {
    this.phase = 'stopping';
    const end = this.deps.clock.monotonicMs() + deadlineMs;
    let converged = false;
    this.trigger();
    while (this.deps.clock.monotonicMs() < end) {
      const record = this.last;
      if (record && record.observation.phase === 'stopping' && record.decision.actions.length === 0) {
        const lease = this.deps.elector.snapshot();
        // Converged: the lease is not ours (released only once the node was confirmed not forging)
        // and no credentials are stuck at the node's paths.
        if (lease.holder !== lease.identity) {
          converged = !record.credentialsUnrevocable;
          break;
        }
      }
      await this.deps.clock.sleep(20);
      this.trigger();
    }
    this.abort.abort(new Error('reconciler stopped'));
    this.wake?.();
    await this.loop;
    for (const u of this.unsubscribers) u();
    return converged;
  }

  private async run(): Promise<void> {
    const { clock, logger } = this.deps;
    while (!this.abort.signal.aborted) {
      this.pending = false;
      try {
        await this.tick();
      } catch (error) {
        // A bug or an unexpected throw must not kill the loop; the fencing deadline still applies next tick.
        logger.error({ err: error }, 'reconcile tick failed');
      }
      if (this.abort.signal.aborted) break;
      if (this.pending) continue;
      await this.waitForWake(this.nextWaitMs(clock.monotonicMs()));
    }
  }

  private nextWaitMs(now: number): number {
    let wait = this.options.intervalMs;
    const lease = this.deps.elector.snapshot();
    // Wake exactly at the fencing deadline so revocation is not delayed by the interval.
    if (lease.holder === lease.identity && lease.leaderUntilMs > now)
      wait = Math.min(wait, lease.leaderUntilMs - now + 1);
    if (lease.actAfterMs !== undefined && lease.actAfterMs > now)
      wait = Math.min(wait, lease.actAfterMs - now + 1);
    // While the node is starting, watch for it closely: the moment it is up is when a node that
    // ignored --start-as-non-producing-node would start forging with its startup credentials.
    if (this.last && this.last.observation.phase === 'starting') wait = Math.min(wait, STARTING_POLL_MS);
    // While converging (actions were taken) or a SIGHUP awaits the node's confirmation, re-check soon.
    if (this.last && this.last.decision.actions.length > 0) wait = Math.min(wait, 50);
    if (this.nodeLoaded.pending !== null) wait = Math.min(wait, 50);
    // A leader in a forging fault hands over exactly when its hold-down ends.
    if (this.fault !== null)
      wait = Math.min(
        wait,
        Math.max(1, this.fault.sinceMs + this.options.config.handoverHoldDownMs - now + 1),
      );
    return Math.max(0, wait);
  }

  /** Sleeps on the clock until `ms` passed or trigger() is called. */
  private async waitForWake(ms: number): Promise<void> {
    const woken = new AbortController();
    this.wake = () => {
      this.wake = null;
      woken.abort();
    };
    try {
      await this.deps.clock.sleep(ms, woken.signal);
    } catch {
      // woken early
    } finally {
      this.wake = null;
    }
  }

  /**
   * Bounds every call, also one that ignores its AbortSignal: the loop must reach the fencing
   * deadline even when a plugin hangs (the abandoned promise is left to settle on its own).
   */
  private lookupBudgetMs(): number {
    return Math.floor(this.options.callTimeoutMs / 2);
  }

  private async withTimeout<T>(
    what: string,
    fn: (signal: AbortSignal) => Promise<T>,
    ms = this.options.callTimeoutMs,
  ): Promise<T> {
    const timeout = clockTimeout(this.deps.clock, ms, this.abort.signal);
    const signal = timeout.signal;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () =>
        reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([fn(signal), aborted]);
    } catch (error) {
      throw new Error(`${what} failed: ${(error as Error).message}`, { cause: error });
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
      timeout.cancel();
    }
  }

  private async observe(): Promise<Observation> {
    const { node, credentials, elector, policy, clock, logger } = this.deps;
    const [nodeObs, credState] = await Promise.all([
      this.withTimeout('node observation', (s) => node.observe(s)).catch((error: Error) =>
        // Unknown, never "down": a node that cannot be observed may still be forging.
        unobservable(error.message),
      ),
      this.withTimeout('credential inspection', (s) => credentials.inspect(s)).catch(
        (error: Error): CredentialState => ({ ...UNKNOWN_CREDENTIALS, message: error.message }),
      ),
    ]);
    const nowMs = clock.monotonicMs();
    if (nodeObs.socket !== 'unknown') this.trackStartFlag(nodeObs);
    this.nodeLoaded = believeObservation(this.nodeLoaded, this.lastNode, nodeObs, credState, nowMs, {
      metricsConfigured: this.options.metricsConfigured,
      sighupLatencyBoundMs: this.options.sighupLatencyBoundMs,
      startAsNonProducing: this.decisionConfig().startAsNonProducing,
    });
    if (nodeObs.socket !== 'unknown') this.lastNode = nodeObs;
    if (credState.presence === 'none') this.credentialsUnrevocable = false;
    // DISABLE_SOCKET_CHECK means "do not wait for the socket" everywhere, not only at start (Python's G16).
    const nodeUp = nodeObs.socket === 'up' || this.options.config.disableSocketCheck;
    // An unobservable node does not move the phase: it is not known to be starting.
    const phase: Phase =
      this.phase === 'stopping'
        ? 'stopping'
        : nodeObs.socket === 'unknown'
          ? this.phase
          : nodeUp
            ? 'running'
            : 'starting';
    if (phase !== this.phase && this.phase !== 'stopping') {
      logger.info({ from: this.phase, to: phase, socket: nodeObs.socket }, 'phase change');
      this.phase = phase;
    }
    const config = this.decisionConfig();
    const fault = nextFault(this.fault, nodeObs, this.nodeLoaded, nowMs, config);
    if (fault !== null && (this.fault === null || this.fault.reason !== fault.reason))
      logger.warn({ reason: fault.reason }, `forging fault: ${fault.message}`);
    else if (fault === null && this.fault !== null)
      logger.info({ reason: this.fault.reason }, 'forging fault cleared');
    this.fault = fault;
    return {
      nowMs,
      phase,
      node: nodeObs,
      nodeLoaded: this.nodeLoaded,
      leadership: elector.snapshot(),
      policy: policy.snapshot(),
      credentials: credState,
      credentialsUnrevocable: this.credentialsUnrevocable && credState.presence !== 'none',
      revokeRetryDue: nowMs - this.lastRevokeAttemptMs >= this.options.intervalMs,
      fault,
      config,
    };
  }

  /** Startup credentials rely on --start-as-non-producing-node: once the running node is seen
   * without it, they are no longer handed out (safety.md §5). */
  private decisionConfig(): DecisionConfig {
    const { config } = this.options;
    return config.startAsNonProducing && this.nonProducingSeen === false
      ? { ...config, startAsNonProducing: false }
      : config;
  }

  private trackStartFlag(node: NodeObservation): void {
    const seen = node.startsNonProducing ?? null;
    if (seen === null || seen === this.nonProducingSeen) return;
    this.nonProducingSeen = seen;
    if (!seen && this.options.config.startAsNonProducing)
      this.deps.logger.error(
        { pid: node.pid },
        'the node runs WITHOUT --start-as-non-producing-node although startAsNonProducing is set: it forges with whatever credentials are on disk at start; startup credentials are no longer provided',
      );
  }

  private async tick(): Promise<void> {
    const { elector, logger, clock } = this.deps;
    const observation = await this.observe();
    const decision = decide(observation);
    elector.setCandidacy(decision.candidate, decision.reason);
    const previous = this.last?.decision;
    if (
      !previous ||
      previous.reason !== decision.reason ||
      previous.forge !== decision.forge ||
      previous.leader !== decision.leader
    )
      logger.info(
        {
          reason: decision.reason,
          forge: decision.forge,
          leader: decision.leader,
          candidate: decision.candidate,
        },
        decision.message,
      );
    const results: ActionResult[] = [];
    let credentials = observation.credentials;
    for (const action of decision.actions) {
      const result = await this.act(action, credentials, observation);
      results.push(result.result);
      credentials = result.credentials;
      // Never signal "enable" on a failed provision; never signal at all after a failed revoke (the
      // files may still be there: a SIGHUP would reload them).
      if (!result.result.ok && (action.type === 'provision' || action.type === 'revoke')) break;
    }
    this.last = {
      observation,
      decision,
      results,
      nodeLoaded: this.nodeLoaded,
      credentialsUnrevocable: this.credentialsUnrevocable,
      completedAtMs: clock.monotonicMs(),
    };
    try {
      await this.deps.onTick?.(this.last);
    } catch (error) {
      logger.warn({ err: error }, 'tick listener failed');
    }
  }

  /**
   * Why this pod may not start (or keep starting) to forge right now, or null: re-checked immediately
   * before every provision and every enable SIGHUP, not only at the start of the tick (a tick can
   * outlast the fencing deadline).
   */
  private fencingBlock(): string | null {
    const lease = this.deps.elector.snapshot();
    const now = this.deps.clock.monotonicMs();
    if (this.phase === 'stopping') return 'the sidecar is shutting down';
    if (lease.holder !== lease.identity) return 'the lease is no longer held';
    if (now >= lease.leaderUntilMs)
      return `the fencing deadline passed ${Math.round(now - lease.leaderUntilMs)} ms ago`;
    if (now < (lease.actAfterMs ?? 0)) return 'the takeover grace has not ended';
    return null;
  }

  private async act(
    action: Action,
    credentials: CredentialState,
    observation: Observation,
  ): Promise<{ result: ActionResult; credentials: CredentialState }> {
    const { logger, credentials: provisioner, node, elector, clock } = this.deps;
    try {
      switch (action.type) {
        case 'provision': {
          const fenced = this.fencingBlock();
          if (fenced !== null && observation.leadership.holder === observation.leadership.identity) {
            logger.warn(`provision skipped: ${fenced}`);
            return { result: { action, ok: false, message: `skipped: ${fenced}` }, credentials };
          }
          const change = await this.withTimeout('provision', (s) => provisioner.provision(s));
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
          this.lastRevokeAttemptMs = clock.monotonicMs();
          let change: { ok: boolean; reason: string; message: string; changed: boolean };
          try {
            change = await this.withTimeout('revoke', (s) => provisioner.revoke(s));
          } catch (error) {
            if (this.abort.signal.aborted) throw error;
            change = { ok: false, changed: false, reason: 'Timeout', message: (error as Error).message };
          }
          if (!change.ok) {
            this.credentialsUnrevocable = true;
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
          if (this.credentialsUnrevocable) logger.info('credentials removed after earlier failures');
          this.credentialsUnrevocable = false;
          return {
            result: { action, ok: true, message: change.message },
            credentials: { ...credentials, presence: 'none', upToDate: false },
          };
        }
        case 'signal': {
          let refused: string | null = null;
          const proceed = action.forging
            ? () => {
                refused = this.fencingBlock();
                return refused;
              }
            : undefined;
          // A revoke may not wait on a hung process lookup: half the call budget, then the PID
          // last seen serving the socket.
          const outcome = await this.withTimeout('signal', () =>
            node.reload(action.reason, proceed ? { proceed } : { lookupBudgetMs: this.lookupBudgetMs() }),
          );
          if (refused !== null) {
            logger.warn(`enable SIGHUP not sent: ${refused as string}`);
            return { result: { action, ok: false, message: `skipped: ${refused as string}` }, credentials };
          }
          this.nodeLoaded = believeSignal(
            this.nodeLoaded,
            action.forging,
            outcome,
            credentials,
            clock.monotonicMs(),
          );
          if (outcome.delivered)
            logger.info({ pid: outcome.pid, reason: action.reason }, `SIGHUP delivered (${action.reason})`);
          else logger.warn({ reason: outcome.reason }, `SIGHUP not delivered: ${outcome.message}`);
          return { result: { action, ok: outcome.delivered, message: outcome.message }, credentials };
        }
        case 'terminate': {
          const graceMs = this.options.terminateGraceMs;
          logger.error(
            { reason: action.reason, pid: observation.node.pid },
            `stopping the node as a last resort: ${action.reason}; it restarts with --start-as-non-producing-node`,
          );
          const outcome = await this.withTimeout(
            'terminate',
            (s) => node.terminate(action.reason, graceMs, s, { lookupBudgetMs: this.lookupBudgetMs() }),
            2 * graceMs + this.options.callTimeoutMs,
          );
          this.nodeLoaded = believeTermination(this.nodeLoaded, outcome);
          if (outcome.delivered) logger.warn({ pid: outcome.pid }, `node stopped: ${outcome.message}`);
          else logger.error({ reason: outcome.reason }, `node could not be stopped: ${outcome.message}`);
          return { result: { action, ok: outcome.delivered, message: outcome.message }, credentials };
        }
        case 'release': {
          await this.withTimeout('release', (s) => elector.release(s));
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
      if (this.abort.signal.aborted)
        logger.info({ action: action.type }, `${action.type} interrupted: the reconciler is stopping`);
      else logger.error({ err: error, action: action.type }, `${action.type} failed`);
      return { result: { action, ok: false, message: (error as Error).message }, credentials };
    }
  }
}
