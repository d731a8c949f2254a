/**
 * Finding the cardano-node process through /proc (Linux; needs a shared PID namespace in the pod,
 * `shareProcessNamespace: true`, and the same UID or CAP_SYS_PTRACE to read other fd tables).
 *
 * Two strategies:
 *  - by socket (exact): the process that holds the listening unix socket bound at the node's
 *    socket path. Right even when several cardano-node processes share the namespace.
 *  - by name (exact, never substring; fixes G15): /proc/<pid>/comm or the basename of argv[0].
 */
import { readFile, readdir, readlink, realpath } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** __SO_ACCEPTCON in /proc/net/unix "Flags": the socket is listening. */
const SO_ACCEPTCON = 0x10000;
/** The kernel truncates comm to 15 bytes. */
const COMM_MAX_CHARS = 15;

const UNIX_LINE =
  /^\s*[0-9a-fA-F]+:\s+[0-9a-fA-F]+\s+[0-9a-fA-F]+\s+([0-9a-fA-F]+)\s+[0-9a-fA-F]+\s+[0-9a-fA-F]+\s+(\d+)(?: (.*))?$/;

/** Inodes of listening unix sockets bound at `socketPath` (or at its real path). */
export async function listeningSocketInodes(procRoot: string, socketPath: string): Promise<Set<string>> {
  const wanted = new Set([socketPath]);
  try {
    wanted.add(await realpath(socketPath));
  } catch {
    // the socket may be gone; the given path is all we can match
  }
  // An unreadable table is an error, not "nobody listens": the caller must not conclude the node is gone.
  const table = await readFile(join(procRoot, 'net', 'unix'), 'utf8');
  const inodes = new Set<string>();
  for (const line of table.split('\n')) {
    const match = UNIX_LINE.exec(line);
    if (match === null) continue;
    const [, flags = '0', inode = '', path] = match;
    if (path === undefined || !wanted.has(path)) continue;
    if ((Number.parseInt(flags, 16) & SO_ACCEPTCON) === 0) continue; // accepted connections carry the path too
    inodes.add(inode);
  }
  return inodes;
}

/** Numeric entries of procRoot except our own process. */
export async function listPids(procRoot: string, ownPid: number): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(procRoot);
  } catch {
    return [];
  }
  return names
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => pid !== ownPid);
}

/**
 * The fd through which `pid` holds one of `inodes` (null when none). `tryFirst` (the fd found last
 * time) is looked at before the whole table: a node holds its listener on the same fd for its life,
 * and cardano-node's table grows with its peers, so this turns one readlink per fd into one.
 * Unreadable fd tables count as "no".
 */
export async function socketFdOf(
  procRoot: string,
  pid: number,
  inodes: ReadonlySet<string>,
  tryFirst?: string,
): Promise<string | null> {
  if (inodes.size === 0) return null;
  const fdDir = join(procRoot, String(pid), 'fd');
  const holds = async (fd: string): Promise<boolean> => {
    let target: string;
    try {
      target = await readlink(join(fdDir, fd));
    } catch {
      return false; // fd closed while we looked, or the process is gone
    }
    const match = /^socket:\[(\d+)\]$/.exec(target);
    return match?.[1] !== undefined && inodes.has(match[1]);
  };
  if (tryFirst !== undefined && (await holds(tryFirst))) return tryFirst;
  let fds: string[];
  try {
    fds = await readdir(fdDir);
  } catch {
    return null;
  }
  for (const fd of fds) if (fd !== tryFirst && (await holds(fd))) return fd;
  return null;
}

/** Whether `pid` has an open fd on one of `inodes`. Unreadable fd tables count as "no". */
export async function pidHoldsSocket(
  procRoot: string,
  pid: number,
  inodes: ReadonlySet<string>,
): Promise<boolean> {
  return (await socketFdOf(procRoot, pid, inodes)) !== null;
}

export async function pidsHoldingSocket(
  procRoot: string,
  inodes: ReadonlySet<string>,
  ownPid: number,
): Promise<number[]> {
  if (inodes.size === 0) return [];
  const pids = await listPids(procRoot, ownPid);
  const holders: number[] = [];
  for (const pid of pids) if (await pidHoldsSocket(procRoot, pid, inodes)) holders.push(pid);
  return holders;
}

/**
 * Exact name match: comm equals the name (names longer than the kernel's 15-character comm are
 * matched on argv[0] only), or the basename of argv[0] equals it.
 */
export async function pidHasName(procRoot: string, pid: number, processName: string): Promise<boolean> {
  if (processName.length <= COMM_MAX_CHARS) {
    try {
      const comm = (await readFile(join(procRoot, String(pid), 'comm'), 'utf8')).replace(/\n$/, '');
      if (comm === processName) return true;
    } catch {
      return false; // process gone
    }
  }
  try {
    const cmdline = await readFile(join(procRoot, String(pid), 'cmdline'), 'utf8');
    const argv0 = cmdline.split('\0')[0] ?? '';
    return argv0 !== '' && basename(argv0) === processName;
  } catch {
    return false;
  }
}

export async function pidsWithName(procRoot: string, processName: string, ownPid: number): Promise<number[]> {
  const pids = await listPids(procRoot, ownPid);
  const matches: number[] = [];
  for (const pid of pids) if (await pidHasName(procRoot, pid, processName)) matches.push(pid);
  return matches;
}

/** Whether the process was started with `arg` on its command line; null when it cannot be read. */
export async function pidHasArgument(procRoot: string, pid: number, arg: string): Promise<boolean | null> {
  try {
    const cmdline = await readFile(join(procRoot, String(pid), 'cmdline'), 'utf8');
    return cmdline.split('\0').includes(arg);
  } catch {
    return null;
  }
}
