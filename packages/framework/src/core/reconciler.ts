/**
 * The control loop around the pure decision core: observe → decide → act, level-triggered.
 * A tick runs on a timer, whenever the policy or the leadership changes (not on a mere renewal),
 * and exactly at the self-fencing deadline (leaderUntilMs), so a leader that cannot renew revokes
 * its credentials before any standby may take the lease (docs/safety.md). The halves of a tick
 * live next door: observe.ts (gathering the observation), act.ts (running the actions),
 * node-tracking.ts (what is remembered about the node between ticks, pure).
 */
import type { Logger } from 'pino';
import type { Clock, CredentialProvisioner, LeaderElector, NodeController } from '../contracts/index.js';
import { executeAction, type ActContext, type ActionResult } from './act.js';
import { decide } from './decide.js';
import { leadershipChangeNeedsTick } from './leadership-change.js';
import type { Decision, DecisionConfig, Observation } from './decide.js';
import type { NodeLoaded } from './node-belief.js';
import { INITIAL_TRACKING, type NodeTracking } from './node-tracking.js';
import { observe, type ObserveContext, type PolicyFeed } from './observe.js';

export type { ActionResult } from './act.js';
export type { PolicyFeed } from './observe.js';

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

const STARTING_POLL_MS = 200;
/** How soon to look again while converging (actions were taken) or a SIGHUP awaits confirmation. */
const CONVERGING_POLL_MS = 50;

export class Reconciler {
  private readonly deps: ReconcilerDeps;
  private readonly options: ReconcilerOptions;
  private tracking: NodeTracking = INITIAL_TRACKING;
  private last: TickRecord | null = null;
  private wake: (() => void) | null = null;
  private pending = false;
  private loop: Promise<void> | null = null;
  private readonly abort = new AbortController();
  private unsubscribers: Array<() => void> = [];
  private readonly observeContext: ObserveContext;
  private readonly actContext: ActContext;

  constructor(deps: ReconcilerDeps, options: ReconcilerOptions) {
    this.deps = deps;
    this.options = options;
    const tracking = () => this.tracking;
    this.observeContext = {
      deps,
      settings: {
        callTimeoutMs: options.callTimeoutMs,
        revokeRetryMs: options.intervalMs,
        decision: options.config,
        metricsConfigured: options.metricsConfigured,
        sighupLatencyBoundMs: options.sighupLatencyBoundMs,
      },
      signal: this.abort.signal,
      tracking,
      setTracking: (next) => {
        this.tracking = next;
      },
    };
    this.actContext = {
      deps,
      settings: { callTimeoutMs: options.callTimeoutMs, terminateGraceMs: options.terminateGraceMs },
      signal: this.abort.signal,
      phase: () => this.tracking.phase,
      tracking,
      updateTracking: (change) => {
        this.tracking = change(this.tracking);
      },
    };
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
    // Renewals alone do not tick (leadership-change.ts says why that is safe); the interval and
    // the fencing-deadline wake still do.
    let seen = this.deps.elector.snapshot();
    this.unsubscribers.push(
      this.deps.elector.subscribe((snapshot) => {
        const needed = leadershipChangeNeedsTick(seen, snapshot);
        seen = snapshot;
        if (needed) this.trigger();
      }),
    );
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
    this.tracking = { ...this.tracking, phase: 'stopping' };
    const end = this.deps.clock.monotonicMs() + deadlineMs;
    let converged = false;
    this.trigger();
    while (this.deps.clock.monotonicMs() < end) {
      const record = this.last;
      if (record && record.observation.phase === 'stopping' && record.decision.actions.length === 0) {
        const lease = this.deps.elector.snapshot();
        // Converged: the lease is not ours (released only once the node was confirmed not forging)
        // and no credentials are stuck at the node's paths.
        // (or the elector withheld the release during its takeover grace: the lease expires instead)
        if (lease.holder !== lease.identity || lease.reason === 'ReleaseWithheld') {
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
    if (this.last && this.last.decision.actions.length > 0) wait = Math.min(wait, CONVERGING_POLL_MS);
    const { nodeLoaded, fault } = this.tracking;
    if (nodeLoaded.pending !== null) wait = Math.min(wait, CONVERGING_POLL_MS);
    // A leader in a forging fault hands over exactly when its hold-down ends.
    if (fault !== null)
      wait = Math.min(wait, Math.max(1, fault.sinceMs + this.options.config.handoverHoldDownMs - now + 1));
    return Math.max(0, wait);
  }

  /** Sleeps on the clock until `ms` passed or trigger() is called. */
  private async waitForWake(ms: number): Promise<void> {
    const woken = new AbortController();
    this.wake = () => {
      this.wake = null;
      // A fixed reason: the default builds a DOMException, and nothing reads it.
      woken.abort('woken');
    };
    try {
      await this.deps.clock.sleep(ms, woken.signal);
    } catch {
      // woken early
    } finally {
      this.wake = null;
    }
  }

  private async tick(): Promise<void> {
    const { elector, logger, clock } = this.deps;
    const observation = await observe(this.observeContext);
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
      const acted = await executeAction(this.actContext, action, credentials, observation);
      results.push(acted.result);
      credentials = acted.credentials;
      // Never signal "enable" on a failed provision; never signal at all after a failed revoke (the
      // files may still be there: a SIGHUP would reload them).
      if (!acted.result.ok && (action.type === 'provision' || action.type === 'revoke')) break;
    }
    this.last = {
      observation,
      decision,
      results,
      nodeLoaded: this.tracking.nodeLoaded,
      credentialsUnrevocable: this.tracking.credentialsUnrevocable,
      completedAtMs: clock.monotonicMs(),
    };
    try {
      await this.deps.onTick?.(this.last);
    } catch (error) {
      logger.warn({ err: error }, 'tick listener failed');
    }
  }
}
