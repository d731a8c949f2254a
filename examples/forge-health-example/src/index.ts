/**
 * @acme/forge-health-example: a minimal third-party health plugin for cardano-forge.
 *
 *   plugins:
 *     health:
 *       - use: "@acme/forge-health-example"
 *         id: keys-mounted
 *         options: { file: /secrets/kes.skey }
 *       - use: "@acme/forge-health-example"
 *         id: relay-port
 *         options: { tcp: { host: 127.0.0.1, port: 3001 }, timeoutMs: 2000 }
 *
 * It depends on the framework only as a peer (the host's copy is used) and never throws for an
 * unhealthy target: failures come back as `healthy: false` with a reason.
 */
import { access, constants } from 'node:fs/promises';
import { connect } from 'node:net';
import { definePlugin, type HealthProbe, type HealthResult } from '@cardano-forge/framework';
import { z } from 'zod';

export const optionsSchema = z
  .strictObject({
    /** Healthy when this file exists and is readable. */
    file: z.string().min(1).optional(),
    /** Healthy when a TCP connection to host:port succeeds. */
    tcp: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(1).max(65535),
      })
      .optional(),
    timeoutMs: z.number().int().positive().default(2000),
  })
  .refine((o) => (o.file === undefined) !== (o.tcp === undefined), {
    message: 'set exactly one of "file" or "tcp"',
  });

export type ExampleOptions = z.output<typeof optionsSchema>;

function checkTcp(
  host: string,
  port: number,
  signal: AbortSignal,
): Promise<{ ok: boolean; reason: string; message: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, signal });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true, reason: 'Connected', message: `${host}:${port} accepts connections` });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      const reason = signal.aborted
        ? 'Timeout'
        : error.code === 'ECONNREFUSED'
          ? 'ConnectionRefused'
          : 'ConnectFailed';
      resolve({ ok: false, reason, message: `${host}:${port}: ${error.message}` });
    });
  });
}

export function createExampleProbe(id: string, options: ExampleOptions): HealthProbe {
  return {
    id,
    async check(signal: AbortSignal): Promise<HealthResult> {
      const started = performance.now();
      const bounded = AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]);
      let outcome: { ok: boolean; reason: string; message: string };
      if (options.file !== undefined) {
        try {
          await access(options.file, constants.R_OK);
          outcome = { ok: true, reason: 'FileExists', message: `${options.file} is readable` };
        } catch (error) {
          outcome = {
            ok: false,
            reason: 'FileMissing',
            message: `${options.file}: ${(error as Error).message}`,
          };
        }
      } else {
        outcome = await checkTcp(options.tcp!.host, options.tcp!.port, bounded);
      }
      return {
        healthy: outcome.ok,
        reason: outcome.reason,
        message: outcome.message,
        latencyMs: performance.now() - started,
      };
    },
  };
}

export const exampleHealthPlugin = definePlugin<'health-probe', ExampleOptions>({
  kind: 'health-probe',
  name: '@acme/forge-health-example',
  version: '1.0.0',
  description: 'Checks that a file exists or that a TCP port accepts connections.',
  optionsSchema,
  create: (context, options) => {
    context.logger.debug({ options }, 'example probe created');
    return createExampleProbe(context.instanceId, options);
  },
});

export default exampleHealthPlugin;
