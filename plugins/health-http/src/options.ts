import { z } from 'zod';
import { PLUGIN_VERSION } from './version.js';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'OPTIONS'] as const;

const statusCode = z.number().int().min(100).max(599);

export const healthHttpOptionsSchema = z
  .strictObject({
    url: z.url({ protocol: /^https?$/, error: 'url must be an absolute http:// or https:// URL' }),
    method: z.enum(HTTP_METHODS).default('GET'),
    /** One status or a list; a single number is accepted for convenience in YAML. */
    expectedStatus: z
      .union([statusCode, z.array(statusCode).min(1, 'expectedStatus must list at least one status')])
      .transform((v) => (Array.isArray(v) ? v : [v]))
      .default([200]),
    timeoutMs: z.number().int().positive().max(600_000).default(10_000),
    headers: z.record(z.string().min(1), z.string()).default({}),
    /** Read before every check so a rotated (projected) token is picked up; never logged. */
    bearerTokenFile: z.string().min(1).optional(),
    tls: z
      .strictObject({
        /** PEM bundle of CAs to trust instead of the default roots; re-read when it changes. */
        caFile: z.string().min(1).optional(),
        insecureSkipVerify: z.boolean().default(false),
        /** SNI and certificate host name to verify, when it differs from the URL host. */
        serverName: z.string().min(1).optional(),
      })
      .optional(),
    expectJson: z
      .strictObject({
        /** Dot path into the JSON body, e.g. `status` or `checks.0.state`; '' means the whole body. */
        path: z.string(),
        equals: z.json(),
      })
      .optional(),
    userAgent: z.string().min(1).default(`cardano-forge/${PLUGIN_VERSION}`),
  })
  .superRefine((o, ctx) => {
    if (o.tls !== undefined && new URL(o.url).protocol !== 'https:') {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'tls options need an https:// url' });
    }
    if (o.expectJson !== undefined && o.method === 'HEAD') {
      ctx.addIssue({
        code: 'custom',
        path: ['expectJson'],
        message: 'expectJson cannot be used with method HEAD (no body)',
      });
    }
    for (const name of Object.keys(o.headers)) {
      if (name.toLowerCase() === 'authorization' && o.bearerTokenFile !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['headers', name],
          message: 'set either an Authorization header or bearerTokenFile, not both',
        });
      }
    }
  });

export type HealthHttpOptions = z.output<typeof healthHttpOptionsSchema>;
export type HealthHttpOptionsInput = z.input<typeof healthHttpOptionsSchema>;
