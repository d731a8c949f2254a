// Which local process opened the other end of an accepted loopback TCP connection. On one host this
// is exact: the caller's socket is the /proc/net/tcp entry whose local address is our remote address
// (and the reverse), and its inode appears as `socket:[inode]` among the caller's open fds.
// Linux only; IPv4 loopback only (what the test proxies listen on). Erasable-only TypeScript.
import { readdir, readFile, readlink } from 'node:fs/promises';
import { endianness } from 'node:os';
import type { Socket } from 'node:net';

/** "0100007F:1F90" (host byte order address, big-endian port) → "127.0.0.1:8080". */
function decodeProcAddress(field: string): string {
  const [hexAddress = '', hexPort = ''] = field.split(':');
  const bytes = (hexAddress.match(/../g) ?? []).map((pair) => Number.parseInt(pair, 16));
  if (endianness() === 'LE') bytes.reverse();
  return `${bytes.join('.')}:${Number.parseInt(hexPort, 16)}`;
}

/** Inode of the socket whose local end is `local` and remote end is `remote` ("ip:port"). */
export async function socketInode(local: string, remote: string): Promise<string | undefined> {
  const table = await readFile('/proc/net/tcp', 'utf8');
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [, localField = '', remoteField = ''] = fields;
    if (decodeProcAddress(localField) === local && decodeProcAddress(remoteField) === remote) {
      const inode = fields[9];
      // Inode 0: a socket already closed by its owner (TIME_WAIT and the like) belongs to nobody.
      return inode === undefined || inode === '0' ? undefined : inode;
    }
  }
  return undefined;
}

async function holdsSocket(pid: number, inode: string): Promise<boolean> {
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return false; // exited
  }
  const wanted = `socket:[${inode}]`;
  for (const fd of fds) {
    try {
      if ((await readlink(`/proc/${pid}/fd/${fd}`)) === wanted) return true;
    } catch {
      // fd closed meanwhile
    }
  }
  return false;
}

/**
 * The PID among `candidates` that holds the client end of `accepted` (a socket our server accepted),
 * or undefined when none does (another process, or the caller already closed it).
 */
export async function connectingPid(
  accepted: Socket,
  candidates: readonly number[],
): Promise<number | undefined> {
  const { remoteAddress, remotePort, localAddress, localPort } = accepted;
  if (remoteAddress === undefined || remotePort === undefined || localAddress === undefined) return undefined;
  const inode = await socketInode(`${remoteAddress}:${remotePort}`, `${localAddress}:${localPort ?? 0}`);
  if (inode === undefined) return undefined;
  for (const pid of candidates) {
    if (await holdsSocket(pid, inode)) return pid;
  }
  return undefined;
}
