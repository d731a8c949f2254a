import { stat } from 'node:fs/promises';
import { createConnection } from 'node:net';
import type { Clock, SocketState } from '../contracts/index.js';
import { createSystemClock } from '../core/clock.js';
import { clockTimeout } from '../core/deadline.js';

export interface SocketProbe {
  readonly state: SocketState;
  readonly detail: string;
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

/**
 * Is a process accepting connections on the unix socket at `path`? The file alone proves
 * nothing: a node killed by OOM or SIGKILL leaves its socket file behind (fixes G4), so the
 * answer is 'up' only when connect() succeeds within `timeoutMs`.
 */
export async function probeUnixSocket(
  path: string,
  timeoutMs: number,
  signal?: AbortSignal,
  clock: Clock = createSystemClock(),
): Promise<SocketProbe> {
  try {
    const facts = await stat(path);
    if (!facts.isSocket()) return { state: 'not-a-socket', detail: `${path} exists but is not a socket` };
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return { state: 'missing', detail: `no socket at ${path}` };
    return { state: 'missing', detail: `cannot stat ${path} (${code})` };
  }
  return new Promise<SocketProbe>((resolve) => {
    const socket = createConnection({ path });
    let settled = false;
    const finish = (probe: SocketProbe): void => {
      if (settled) return;
      settled = true;
      timeout.cancel();
      timeout.signal.removeEventListener('abort', onTimeout);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(probe);
    };
    const timeout = clockTimeout(clock, timeoutMs);
    const onTimeout = (): void =>
      finish({ state: 'stale', detail: `connect to ${path} timed out after ${timeoutMs} ms` });
    timeout.signal.addEventListener('abort', onTimeout, { once: true });
    const onAbort = (): void => finish({ state: 'stale', detail: `connect to ${path} aborted` });
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ state: 'up', detail: `accepting connections on ${path}` }));
    socket.once('error', (error) =>
      finish({
        state: 'stale',
        detail: `socket file ${path} present but connect failed (${errorCode(error)})`,
      }),
    );
  });
}
