// How the three-region test and the lab configure the cross-region arbiter of every sidecar: the
// environment of its configuration (see docs/coordination.md, "Protocol") for one region. Short
// timings keep the scenarios fast; production uses longer ones with the same ratios.
import type { ArbiterContext, ArbiterSetup } from './harness.ts';

export const ARBITER_TIMINGS = {
  /** etcd lease TTL of the forger key and the candidate records. */
  ttlSeconds: 5,
  /** A better candidate must be present this long before the holder hands over (anti-flap). */
  holdDownSeconds: 5,
} as const;

export function arbiterSetup(context: ArbiterContext): ArbiterSetup {
  return {
    env: {
      ETCD_ENDPOINTS: context.endpoints.join(','),
      ETCD_LEASE_TTL: String(ARBITER_TIMINGS.ttlSeconds),
      ETCD_HOLD_DOWN: String(ARBITER_TIMINGS.holdDownSeconds),
    },
  };
}
