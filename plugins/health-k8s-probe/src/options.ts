import { z } from 'zod';

const dnsName = z.string().min(1).max(253);

export const healthK8sProbeOptionsSchema = z
  .strictObject({
    /** Namespace of the pods and the workload; default: the manager's own namespace. */
    namespace: z.string().min(1).max(63).optional(),
    pods: z
      .strictObject({
        /** Kubernetes label selector, e.g. `app=cardano-bp,pool=pool1abc`. */
        labelSelector: z.string().min(1, 'pods.labelSelector must not be empty'),
        minReady: z.number().int().min(1).default(1),
      })
      .optional(),
    workload: z
      .strictObject({
        kind: z.enum(['Deployment', 'StatefulSet']),
        name: dnsName,
        /** Default: spec.replicas (at least 1: a workload scaled to zero is not fit to forge). */
        minAvailable: z.number().int().min(1).optional(),
      })
      .optional(),
    nodes: z
      .strictObject({
        /** Which nodes to check; default: all nodes. */
        labelSelector: z.string().min(1).optional(),
        requireReady: z.boolean().default(true),
      })
      .optional(),
    /** Per API call; the checks run in parallel, so this also bounds a whole check. */
    timeoutMs: z.number().int().positive().max(120_000).default(5_000),
  })
  .refine((o) => o.pods !== undefined || o.workload !== undefined || o.nodes !== undefined, {
    message: 'configure at least one check: pods, workload or nodes',
  });

export type HealthK8sProbeOptions = z.output<typeof healthK8sProbeOptionsSchema>;
export type HealthK8sProbeOptionsInput = z.input<typeof healthK8sProbeOptionsSchema>;
