import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';
import type { PinoLevel } from '../config/schema.js';

export interface CreateLoggerOptions {
  readonly level: PinoLevel;
  /** Human-readable output. Default: when stdout is a TTY (JSON in containers). */
  readonly pretty?: boolean;
  /** Where to write; default stdout. Tests pass a stream to capture lines. */
  readonly destination?: NodeJS.WritableStream;
  readonly name?: string;
}

/** pino JSON logs; pretty-printed in-process (no worker thread) when a person is watching. */
export function createLogger(options: CreateLoggerOptions): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  const base = { level: options.level, name: options.name ?? 'forge-manager' };
  if (pretty) return pino(base, prettyStream(options.destination));
  return options.destination ? pino(base, options.destination as pino.DestinationStream) : pino(base);
}

function prettyStream(destination?: NodeJS.WritableStream): pino.DestinationStream {
  // Loaded only when a person watches: a sidecar in a container logs JSON and never needs it.
  const pinoPretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
  return pinoPretty({
    colorize: destination === undefined && process.stdout.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    sync: true,
    ...(destination ? { destination } : {}),
  });
}
