import { z } from 'zod';

export const DEFAULT_MINOR_PENALTY = 10;
export const DEFAULT_MAJOR_PENALTY = 100;

export const priorityStaticOptionsSchema = z
  .object({
    minorPenalty: z.number().int().min(0).default(DEFAULT_MINOR_PENALTY),
    majorPenalty: z.number().int().min(0).default(DEFAULT_MAJOR_PENALTY),
    failureThreshold: z.number().int().min(1).optional(),
  })
  .strict()
  // A degraded cluster must never look better than an intermittently failing one.
  .refine((o) => o.majorPenalty >= o.minorPenalty, {
    message: 'majorPenalty must be greater than or equal to minorPenalty',
    path: ['majorPenalty'],
  });

export type PriorityStaticOptions = z.output<typeof priorityStaticOptionsSchema>;
export type PriorityStaticOptionsInput = z.input<typeof priorityStaticOptionsSchema>;
