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
import type {
  Action,
  Decision,
  DecisionConfig,
  NodeLoaded,
  Observation,
  Phase,
  PolicyView,
} from './decide.js';

export interface PolicyFeed {
  snapshot(): PolicyView;
  subscribe?(listener: () => void): () => void;
}

export interface ReconcilerOptions {
  /** Periodic re-observation even when nothing signals a change. */
  readonly intervalMs: number;
  /** Bound on each observation and action call. */
  readonly callTimeoutMs: number;
  readonly config: DecisionConfig;
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
  /** Whether the node is, as far as we know after this tick, forging. */
  readonly nodeLoaded: NodeLoaded;
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
  private nodeLoaded: NodeLoaded = { forging: null, fingerprint: null };
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
        const holds = record.observation.leadership.holder === record.observation.leadership.identity;
        if (!holds) {
          converged = true;
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
    // While converging (actions were taken), re-check soon.
    if (this.last && this.last.decision.actions.length > 0) wait = Math.min(wait, 50);
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
  private async withTimeout<T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const timeout = clockTimeout(this.deps.clock, this.options.callTimeoutMs, this.abort.signal);
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
      this.withTimeout('node observation', (s) => node.observe(s)).catch((error: Error): NodeObservation => ({
        socket: 'missing',
        pid: null,
        forgingMetric: null,
        atTip: null,
        message: error.message,
      })),
      this.withTimeout('credential inspection', (s) => credentials.inspect(s)).catch(
        (error: Error): CredentialState => ({ ...UNKNOWN_CREDENTIALS, message: error.message }),
      ),
    ]);
    this.trackStartFlag(nodeObs);
    this.trackNodeLifecycle(nodeObs, credState);
    // DISABLE_SOCKET_CHECK means "do not wait for the socket" everywhere, not only at start (Python's G16).
    const nodeUp = nodeObs.socket === 'up' || this.options.config.disableSocketCheck;
    const phase: Phase = this.phase === 'stopping' ? 'stopping' : nodeUp ? 'running' : 'starting';
    if (phase !== this.phase && this.phase !== 'stopping') {
      logger.info({ from: this.phase, to: phase, socket: nodeObs.socket }, 'phase change');
      this.phase = phase;
    }
    return {
      nowMs: clock.monotonicMs(),
      phase,
      node: nodeObs,
      nodeLoaded: this.nodeLoaded,
      leadership: elector.snapshot(),
      policy: policy.snapshot(),
      credentials: credState,
      config: this.decisionConfig(),
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

  /** Keeps `nodeLoaded` true to the node's life: a dead node forges nothing; a freshly started node
   * forges only if it started as a producer with credentials on disk. */
  private trackNodeLifecycle(now: NodeObservation, creds: CredentialState): void {
    const prev = this.lastNode;
    this.lastNode = now;
    const down = now.socket !== 'up' && now.pid === null;
    if (down) {
      this.nodeLoaded = { forging: false, fingerprint: null };
      return;
    }
    const restarted =
      prev !== null &&
      ((prev.socket !== 'up' && now.socket === 'up') ||
        (prev.pid !== null && now.pid !== null && prev.pid !== now.pid));
    if (restarted) {
      const nonProducing = now.startsNonProducing ?? this.decisionConfig().startAsNonProducing;
      const forging = !nonProducing && creds.presence === 'all';
      this.nodeLoaded = { forging, fingerprint: forging ? creds.sourceFingerprint : null };
    }
    // First observation with a running node: what it loaded is unknown (nodeLoaded stays null).
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
      if (!result.result.ok && action.type === 'provision') break; // never signal "enable" on a failed provision
    }
    this.last = {
      observation,
      decision,
      results,
      nodeLoaded: this.nodeLoaded,
      completedAtMs: clock.monotonicMs(),
    };
    try {
      await this.deps.onTick?.(this.last);
    } catch (error) {
      logger.warn({ err: error }, 'tick listener failed');
    }
  }

  private async act(
    action: Action,
    credentials: CredentialState,
    observation: Observation,
  ): Promise<{ result: ActionResult; credentials: CredentialState }> {
    const { logger, credentials: provisioner, node, elector } = this.deps;
    try {
      switch (action.type) {
        case 'provision': {
          const change = await this.withTimeout('provision', (s) => provisioner.provision(s));
          if (!change.ok)
            logger.error({ reason: change.reason }, `provisioning credentials failed: ${change.message}`);
          else if (change.changed) logger.info('credentials provisioned');
          const next: CredentialState = change.ok
            ? { ...credentials, presence: 'all', upToDate: true }
            : await this.withTimeout('inspect', (s) => provisioner.inspect(s));
          return { result: { action, ok: change.ok, message: change.message }, credentials: next };
        }
        case 'revoke': {
          const change = await this.withTimeout('revoke', (s) => provisioner.revoke(s));
          if (!change.ok)
            logger.error({ reason: change.reason }, `revoking credentials failed: ${change.message}`);
          else if (change.changed) logger.info('credentials revoked');
          const next: CredentialState = change.ok
            ? { ...credentials, presence: 'none', upToDate: false }
            : await this.withTimeout('inspect', (s) => provisioner.inspect(s));
          return { result: { action, ok: change.ok, message: change.message }, credentials: next };
        }
        case 'signal': {
          const outcome = await this.withTimeout('signal', () => node.reload(action.reason));
          if (outcome.delivered) {
            const forging = action.forging && credentials.presence === 'all';
            this.nodeLoaded = { forging, fingerprint: forging ? credentials.sourceFingerprint : null };
            logger.info({ pid: outcome.pid, reason: action.reason }, `SIGHUP delivered (${action.reason})`);
          } else {
            // Could not tell the node: what it has loaded is unknown, so the next tick signals again.
            this.nodeLoaded =
              observation.node.socket === 'up' ? { forging: null, fingerprint: null } : this.nodeLoaded;
            logger.warn({ reason: outcome.reason }, `SIGHUP not delivered: ${outcome.message}`);
          }
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
      logger.error({ err: error, action: action.type }, `${action.type} failed`);
      return { result: { action, ok: false, message: (error as Error).message }, credentials };
    }
  }
}
