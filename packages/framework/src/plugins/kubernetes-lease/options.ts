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
  readonly identity: string;
  readonly leaseName: string;
}

export function defaultRequestTimeoutSeconds(renewDeadlineSeconds: number): number {
  return Math.max(1, renewDeadlineSeconds / 2);
}
