/**
 * The seams of cardano-forge. Every side effect the sidecar has goes through one of these
 * interfaces, so the decision core stays pure and every part can be replaced by a plugin or,
 * in unit tests and the deterministic simulation, by an in-memory fake.
 *
 * Conventions shared by all of them:
 *  - async work takes an AbortSignal and must stop promptly when it fires;
 *  - expected failures (a probe that fails, a lease that is held by someone else, a missing
 *    source file) are returned as data with a machine-readable `reason` and a human `message`;
 *    only programming errors throw;
 *  - nothing here logs or prints key material.
 */

/** A result that explains itself. `reason` is a short CamelCase or snake_case token for metrics and
 * status conditions; `message` is for people. */
export interface Explained {
  readonly reason: string;
  readonly message: string;
}

// ---------------------------------------------------------------------------------------------
// Clock
// ---------------------------------------------------------------------------------------------

/**
 * Time, behind an interface so the deterministic simulation can drive it.
 * `monotonicMs` never jumps with wall-clock changes; every expiry and deadline is measured on it.
 * `wallNow` is only for timestamps shown to people (status, logs).
 */
export interface Clock {
  monotonicMs(): number;
  wallNow(): Date;
  /** Resolves after `ms`, or rejects with the signal's reason when it is aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// HealthProbe
// ---------------------------------------------------------------------------------------------

export interface HealthResult extends Explained {
  readonly healthy: boolean;
  /** How long the check took, in milliseconds. */
  readonly latencyMs: number;
  /** Optional structured details (per sub-check results); must not contain secrets. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * Answers "is this cluster (or node) fit to forge?". Called periodically by the health loop of the
 * pod that holds the lease (with cluster management enabled); failures raise the effective priority.
 * A probe must never throw for an unhealthy target: it returns `healthy: false` with a reason
 * such as `Timeout`, `ConnectionRefused`, `UnexpectedStatus`, `QueryFailed`.
 */
export interface HealthProbe {
  /** Unique among the configured probes; used as a metric label and in status messages. */
  readonly id: string;
  check(signal: AbortSignal): Promise<HealthResult>;
  /** Releases sockets, agents, watches. */
  close?(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// PriorityStrategy
// ---------------------------------------------------------------------------------------------

export type ForgeState = 'Enabled' | 'Disabled' | 'Priority-based';

export interface PriorityInput {
  /** spec.priority (or an override's forcePriority); lower number = preferred. 1..999. */
  readonly basePriority: number;
  /** Consecutive failed health rounds (0 when healthy or when no probe is configured). */
  readonly consecutiveFailures: number;
  /** spec.healthCheck.failureThreshold, or the configured default. */
  readonly failureThreshold: number;
  /** The effective forge state after overrides. */
  readonly state: ForgeState;
}

export interface PriorityResult extends Explained {
  readonly effectivePriority: number;
}

/**
 * Turns a cluster's base priority and health into an effective priority. Pure and synchronous:
 * the cluster policy (cluster/policy.ts) calls it whenever it recomputes the policy. It does not
 * decide which pod forges; cross-cluster arbitration compares effective priorities.
 */
export interface PriorityStrategy {
  compute(input: PriorityInput): PriorityResult;
}

// ---------------------------------------------------------------------------------------------
// LeaderElector
// ---------------------------------------------------------------------------------------------

/** What the elector currently knows. Pure data, safe to log. */
export interface LeadershipSnapshot extends Explained {
  /** Name of the lock (a Lease name, or a logical name for multi-cluster electors). */
  readonly lockName: string;
  /** This candidate's identity as written into the lock (kubernetes-lease: `<pod name>_<incarnation id>`). */
  readonly identity: string;
  /** Last observed holder; '' = released or vacant; null = never observed (e.g. API unreachable). */
  readonly holder: string | null;
  /**
   * Monotonic time (Clock.monotonicMs) until which this candidate may act as leader: the send
   * time of the last successful acquire/renew plus renewDeadline. 0 when not leader.
   * The decision core treats `now >= leaderUntilMs` as "not leader" even if the elector has not
   * noticed yet: this is the self-fencing rule (docs/safety.md).
   */
  readonly leaderUntilMs: number;
  /** leaseTransitions as observed: a monotonically increasing epoch / fencing token. */
  readonly transitions: number;
  /** Monotonic time of the last observation (successful read or write). */
  readonly observedAtMs: number;
  /** True when the previous holder released the lock (no wait was needed to take it). */
  readonly acquiredFromRelease?: boolean;
  /**
   * Monotonic time before which this leader must not start forging, because a previous holder may
   * still be revoking (the lock was taken without a release by its holder: after expiry, a hand
   * edit or a deletion). Absent or in the past = may act now.
   */
  readonly actAfterMs?: number;
}

export interface LeaderElector {
  readonly identity: string;
  /** Starts contending (when a candidate) and observing. Returns once the loop is running. */
  start(signal: AbortSignal): Promise<void>;
  /**
   * Whether this candidate may hold the lock. An ineligible candidate does not try to acquire,
   * and a holder that becomes ineligible stops renewing and releases (after the caller revoked).
   */
  setCandidacy(eligible: boolean, why: string): void;
  snapshot(): LeadershipSnapshot;
  /** Called after every snapshot change; returns an unsubscribe function. */
  subscribe(listener: (snapshot: LeadershipSnapshot) => void): () => void;
  /**
   * Gives the lock up at once so a standby can take it without waiting for expiry. Callers must
   * have revoked credentials and signalled the node before calling this.
   */
  release(signal: AbortSignal): Promise<void>;
  /** Stops all loops and watches (does not release). */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// CredentialProvisioner
// ---------------------------------------------------------------------------------------------

export type CredentialPresence = 'all' | 'none' | 'partial';

export interface CredentialState extends Explained {
  /** What is at the node's target paths right now. */
  readonly presence: CredentialPresence;
  /** True when every target exists and equals its (valid) source byte for byte. */
  readonly upToDate: boolean;
  /** True when every source exists and is a valid text envelope of the expected type. */
  readonly sourcesValid: boolean;
  /** A fingerprint of the source set (a hash, never the content) to notice rotation. */
  readonly sourceFingerprint: string | null;
}

export interface CredentialChange extends Explained {
  readonly ok: boolean;
  /** Whether anything on disk changed (so the node must be signalled). */
  readonly changed: boolean;
}

/**
 * Puts the forging credentials (KES key, VRF key, operational certificate) where the node reads
 * them, or takes them away. All-or-nothing: after any call the target holds all three files or
 * none of them.
 */
export interface CredentialProvisioner {
  inspect(signal: AbortSignal): Promise<CredentialState>;
  provision(signal: AbortSignal): Promise<CredentialChange>;
  revoke(signal: AbortSignal): Promise<CredentialChange>;
}

// ---------------------------------------------------------------------------------------------
// NodeController (built-in seam, not a plugin kind yet)
// ---------------------------------------------------------------------------------------------

/** 'unknown': the observation failed or timed out (never a reason to believe the node is down). */
export type SocketState = 'up' | 'missing' | 'stale' | 'not-a-socket' | 'unknown';

export interface NodeObservation {
  /** 'up' only when a connect() to the node socket succeeded. */
  readonly socket: SocketState;
  readonly pid: number | null;
  /** cardano_node_metrics_forging_enabled, or null when metrics are not configured/unreachable. */
  readonly forgingMetric: boolean | null;
  /** Whether the node is within the configured distance of the chain tip; null = unknown/not gated. */
  readonly atTip: boolean | null;
  /** Whether the running node was started with --start-as-non-producing-node; null/absent = unknown. */
  readonly startsNonProducing?: boolean | null;
  readonly message: string;
}

export interface SignalOutcome extends Explained {
  readonly delivered: boolean;
  readonly pid: number | null;
}

export interface ReloadOptions {
  readonly proceed?: () => string | null;
  /**
   * For a revoke only: when finding the node's process takes longer than this (a /proc read that
   * hangs) or fails, signal the PID last seen serving the socket instead of giving up. A node that
   * may still be forging must be told to stop even when it cannot be looked up again.
   */
  readonly lookupBudgetMs?: number;
}

export interface NodeController {
  observe(signal: AbortSignal): Promise<NodeObservation>;
  /**
   * Sends SIGHUP so the node re-reads its credential paths. `reason` is the metric label. Only a
   * process that has been seen serving its socket is signalled (SIGHUP kills a process that has not
   * installed its handler yet). `options.proceed` is called immediately before the signal is sent;
   * when it returns a string the signal is not sent (e.g. the fencing deadline has passed).
   */
  reload(reason: string, options?: ReloadOptions): Promise<SignalOutcome>;
  /**
   * The last resort when the node cannot be made to stop forging otherwise (credentials cannot be
   * removed, or the node does not confirm it stopped): SIGTERM, then SIGKILL after `graceMs`.
   * `delivered` is true only once the process is confirmed gone; its container restarts it
   * (non-producing). `reason` is a label for logs and metrics.
   */
  terminate(
    reason: string,
    graceMs: number,
    signal: AbortSignal,
    options?: Pick<ReloadOptions, 'lookupBudgetMs'>,
  ): Promise<SignalOutcome>;
}
