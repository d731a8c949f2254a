/**
 * The revocation budget: one bound for the whole chain a leader runs when it must stop forging,
 * derived from and checked against the fencing margin LD − RD (docs/safety.md, "Timing").
 *
 * At the fencing deadline (t_send + RD) a tick may already be in flight; it finishes the call it is
 * in (its enabling actions re-check the deadline and are skipped), then the fencing tick observes,
 * revokes, and either signals and waits for the node to apply the SIGHUP, or — when the files cannot
 * be removed — stops the node (SIGTERM, SIGKILL after a grace, confirmed gone). All of that must end
 * before a standby may act (t_send + LD), less what clock-rate differences can eat of the margin:
 *
 *   T (in-flight call) + T (observe) + T (revoke) + max(T (signal) + L, 2 × G) + drift ≤ LD − RD
 *
 * T = one call's timeout, L = the node's SIGHUP latency bound, G = the terminate grace.
 */

/** Assumed bound on the rate difference between two pods' monotonic clocks (1 %, far above NTP'd
 * hardware): the leader measures RD and a standby LD on different clocks. */
export const CLOCK_RATE_BOUND = 0.01;
/** Below this a local call (socket connect, /proc scan, metrics scrape, file write) times out under
 * ordinary load, and a false timeout is a needless step-down. */
export const MIN_CALL_TIMEOUT_MS = 250;
export const MAX_CALL_TIMEOUT_MS = 2000;
export const MIN_TERMINATE_GRACE_MS = 250;
export const MAX_TERMINATE_GRACE_MS = 5000;

export interface TimingInput {
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineSeconds: number;
  /** How long cardano-node may take from a delivered SIGHUP to having (un)loaded its credentials. */
  readonly sighupLatencyBoundMs: number;
}

export interface RevocationBudget {
  readonly marginMs: number;
  readonly driftAllowanceMs: number;
  /** Per call (observe, revoke, provision, signal, release). */
  readonly callTimeoutMs: number;
  /** SIGTERM → SIGKILL, and SIGKILL → confirmed gone, each at most this long. */
  readonly terminateGraceMs: number;
  readonly sighupLatencyBoundMs: number;
  /** The worst-case chain with these values (≤ marginMs − driftAllowanceMs). */
  readonly chainMs: number;
}

export type TimingCheck =
  | { readonly ok: true; readonly budget: RevocationBudget }
  | { readonly ok: false; readonly fields: readonly string[]; readonly message: string };

export function revocationChainMs(
  callTimeoutMs: number,
  sighupLatencyBoundMs: number,
  graceMs: number,
): number {
  return 3 * callTimeoutMs + Math.max(callTimeoutMs + sighupLatencyBoundMs, 2 * graceMs);
}

/** Pure: derives the call timeout and terminate grace from LD − RD, or says which fields to change. */
export function revocationBudget(input: TimingInput): TimingCheck {
  const marginMs = (input.leaseDurationSeconds - input.renewDeadlineSeconds) * 1000;
  const driftAllowanceMs = Math.ceil(
    CLOCK_RATE_BOUND * (input.leaseDurationSeconds + input.renewDeadlineSeconds) * 1000,
  );
  const available = marginMs - driftAllowanceMs;
  const L = input.sighupLatencyBoundMs;
  const callTimeoutMs = Math.min(MAX_CALL_TIMEOUT_MS, Math.floor((available - L) / 4));
  const terminateGraceMs = Math.min(MAX_TERMINATE_GRACE_MS, Math.floor((available - 3 * callTimeoutMs) / 2));
  if (callTimeoutMs < MIN_CALL_TIMEOUT_MS || terminateGraceMs < MIN_TERMINATE_GRACE_MS) {
    const needed = 4 * MIN_CALL_TIMEOUT_MS + L + driftAllowanceMs;
    return {
      ok: false,
      fields: ['election.leaseDurationSeconds', 'election.renewDeadlineSeconds', 'node.sighupLatencyBoundMs'],
      message:
        `election.leaseDurationSeconds − election.renewDeadlineSeconds = ${marginMs} ms is too short for the revocation chain ` +
        `(4 calls of at least ${MIN_CALL_TIMEOUT_MS} ms + node.sighupLatencyBoundMs ${L} ms + clock-drift allowance ${driftAllowanceMs} ms ≈ ${needed} ms): ` +
        `raise election.leaseDurationSeconds, lower election.renewDeadlineSeconds, or lower node.sighupLatencyBoundMs`,
    };
  }
  return {
    ok: true,
    budget: {
      marginMs,
      driftAllowanceMs,
      callTimeoutMs,
      terminateGraceMs,
      sighupLatencyBoundMs: L,
      chainMs: revocationChainMs(callTimeoutMs, L, terminateGraceMs),
    },
  };
}
