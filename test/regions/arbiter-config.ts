// How the three-region test and the lab configure the cross-region arbiter of every sidecar
// (docs/coordination.md, "Protocol"): environment variables, as a Deployment would set them. Short
// timings keep the scenarios fast; they pass the same fencing check as production ones:
// TTL − renew deadline (5 s) ≥ the local revocation chain with Lease 6/3/1 s and a 500 ms SIGHUP
// bound (2.9 s) + etcd's election timeout (1 s) + clock drift (0.16 s).
import type { ArbiterContext, ArbiterSetup } from './harness.ts';

export const ARBITER_TIMINGS = {
  /** etcd lease TTL of the forger key and the candidate records. */
  ttlSeconds: 8,
  /** A holder acts until the send time of its last confirmed round + this. */
  renewDeadlineSeconds: 3,
  /** One round (keepalive, read, record write) this often. */
  retryPeriodSeconds: 1,
  /** A better candidate must be present this long before the holder hands over (anti-flap). */
  holdDownSeconds: 5,
} as const;

export function arbiterSetup(context: ArbiterContext): ArbiterSetup {
  return {
    env: {
      ETCD_ARBITER_ENABLED: 'true',
      ETCD_ENDPOINTS: context.endpoints.join(','),
      ETCD_ARBITER_REGION: context.region,
      ETCD_LEASE_TTL: String(ARBITER_TIMINGS.ttlSeconds),
      ETCD_RENEW_DEADLINE: String(ARBITER_TIMINGS.renewDeadlineSeconds),
      ETCD_RETRY_PERIOD: String(ARBITER_TIMINGS.retryPeriodSeconds),
      ETCD_HOLD_DOWN: String(ARBITER_TIMINGS.holdDownSeconds),
      ETCD_ELECTION_TIMEOUT_MS: String(context.electionTimeoutMs),
    },
  };
}
