import { z } from 'zod';

/** Kubernetes object names: DNS-1123 subdomain (Leases) or label (namespaces). */
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface LeaseTiming {
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineSeconds: number;
  readonly retryPeriodSeconds: number;
  readonly requestTimeoutSeconds?: number | undefined;
}

/** client-go's jitter factor for the acquire loop; also part of its timing validation. */
export const LEASE_JITTER_FACTOR = 1.2;

/**
 * Assumed bound on how much two pods' monotonic clocks may differ in RATE (not offset): 1 %.
 * Real clocks differ by parts per million; 1 % leaves room for a VM whose clock is slewed hard.
 */
export const CLOCK_RATE_BOUND = 0.01;

/** The smallest takeover margin: also absorbs a late-starting fence tick on a loaded machine. */
export const MIN_TAKEOVER_MARGIN_MS = 500;

/**
 * What a new holder waits beyond `previous holder's last renew + leaseDuration` before acting
 * (see elector.ts, "takeover grace"): two clocks each off by the rate bound over one lease
 * duration, and at least MIN_TAKEOVER_MARGIN_MS.
 */
export function takeoverMarginMs(leaseDurationMs: number): number {
  return Math.max(MIN_TAKEOVER_MARGIN_MS, Math.ceil(2 * CLOCK_RATE_BOUND * leaseDurationMs));
}

/**
 * client-go's rule (leaderelection.go NewLeaderElector): leaseDuration > renewDeadline >
 * 1.2·retryPeriod, all > 0. The margin leaseDuration − renewDeadline is what keeps an old leader
 * that stopped renewing from overlapping a new one. Returns human-readable problems.
 */
export function leaseTimingProblems(t: LeaseTiming): string[] {
  const problems: string[] = [];
  for (const [name, value] of [
    ['leaseDurationSeconds', t.leaseDurationSeconds],
    ['renewDeadlineSeconds', t.renewDeadlineSeconds],
    ['retryPeriodSeconds', t.retryPeriodSeconds],
  ] as const) {
    if (!(typeof value === 'number' && Number.isFinite(value) && value > 0))
      problems.push(`${name} must be > 0 (got ${value})`);
  }
  if (
    t.requestTimeoutSeconds !== undefined &&
    !(Number.isFinite(t.requestTimeoutSeconds) && t.requestTimeoutSeconds > 0)
  )
    problems.push(`requestTimeoutSeconds must be > 0 (got ${t.requestTimeoutSeconds})`);
  if (problems.length > 0) return problems;
  if (!(t.leaseDurationSeconds > t.renewDeadlineSeconds))
    problems.push(
      `leaseDurationSeconds (${t.leaseDurationSeconds}) must be greater than renewDeadlineSeconds (${t.renewDeadlineSeconds})`,
    );
  if (!(t.renewDeadlineSeconds > LEASE_JITTER_FACTOR * t.retryPeriodSeconds))
    problems.push(
      `renewDeadlineSeconds (${t.renewDeadlineSeconds}) must be greater than ${LEASE_JITTER_FACTOR} × retryPeriodSeconds (${LEASE_JITTER_FACTOR * t.retryPeriodSeconds})`,
    );
  return problems;
}

/** Throws one Error naming every offending option. */
export function assertValidLeaseTiming(t: LeaseTiming): void {
  const problems = leaseTimingProblems(t);
  if (problems.length > 0) throw new Error(`invalid kubernetes-lease timing: ${problems.join('; ')}`);
}

/**
 * Options of the `kubernetes-lease` elector. `namespace` and `identity` may be omitted in plugin
 * config: the plugin then uses the pod's namespace and name from its context.
 */
export const kubernetesLeaseOptionsSchema = z
  .object({
    namespace: z.string().regex(DNS1123_LABEL, 'must be a DNS-1123 label').max(63).optional(),
    identity: z.string().min(1).max(253).optional(),
    leaseName: z.string().regex(DNS1123_SUBDOMAIN, 'must be a DNS-1123 subdomain').max(253),
    /**
     * A second Lease this candidate must ALSO hold to lead (client-go MultiLock for migrations):
     * the Python sidecar's `cardano-node-leader` during an upgrade, so an old pod holding it blocks
     * every new one. Absent or equal to leaseName = one lease only.
     */
    legacyLeaseName: z.string().regex(DNS1123_SUBDOMAIN, 'must be a DNS-1123 subdomain').max(253).optional(),
    // Written to spec.leaseDurationSeconds (int32), so whole seconds.
    leaseDurationSeconds: z.number().int().positive().default(15),
    renewDeadlineSeconds: z.number().positive().default(10),
    retryPeriodSeconds: z.number().positive().default(2),
    /** Per API call; default max(1, renewDeadline/2) like client-go's NewFromKubeconfig. */
    requestTimeoutSeconds: z.number().positive().optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    for (const problem of leaseTimingProblems(value)) ctx.addIssue({ code: 'custom', message: problem });
  });

export type KubernetesLeaseOptionsInput = z.input<typeof kubernetesLeaseOptionsSchema>;
export type KubernetesLeasePluginOptions = z.output<typeof kubernetesLeaseOptionsSchema>;

/** What the elector itself needs: namespace and identity resolved. */
export interface KubernetesLeaseOptions extends LeaseTiming {
  readonly namespace: string;
  /**
   * The candidate's readable name (the pod name). The identity written into the Lease is
   * `<identity>_<incarnation id>`, unique per process (see elector.ts).
   */
  readonly identity: string;
  readonly leaseName: string;
  /** See kubernetesLeaseOptionsSchema.legacyLeaseName. */
  readonly legacyLeaseName?: string | undefined;
}

export function defaultRequestTimeoutSeconds(renewDeadlineSeconds: number): number {
  return Math.max(1, renewDeadlineSeconds / 2);
}
