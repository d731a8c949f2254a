/**
 * The file-system operations the provisioner uses, behind an interface so tests can inject a
 * failure at an exact step (for example the third rename) and check the rollback.
 */
import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';

export interface FileFacts {
  isFile(): boolean;
  readonly mode: number;
  /**
   * Device, inode, size, mtime and ctime (ns): equal identities mean unchanged content, unless the
   * file changed within the timestamp granularity of `changedAtMs` (see the provisioner's racy
   * rule). Absent: the seam cannot tell, and the content is read every time.
   */
  readonly identity?: string;
  /** The ctime, in wall-clock ms. */
  readonly changedAtMs?: number;
}

export interface CredentialFileOps {
  /** Reads a file, following symlinks (Secret mounts are `..data` symlinks). */
  readFile(path: string): Promise<Buffer>;
  /** stat (follows symlinks). Rejects with ENOENT when absent. */
  stat(path: string): Promise<FileFacts>;
  mkdir(path: string, mode: number): Promise<void>;
  /** Creates `path` exclusively (O_EXCL) with `mode`, writes `data`, fsyncs and closes it. */
  writeNewFile(path: string, data: Buffer, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** fsync of a directory, so a rename or unlink in it survives a crash. */
  syncDirectory(path: string): Promise<void>;
  unlink(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  chmod(path: string, mode: number): Promise<void>;
}

export const nodeCredentialFileOps: CredentialFileOps = {
  readFile: (path) => fsp.readFile(path),
  stat: async (path) => {
    const facts = await fsp.stat(path, { bigint: true });
    return {
      isFile: () => facts.isFile(),
      mode: Number(facts.mode),
      identity: `${facts.dev}:${facts.ino}:${facts.size}:${facts.mtimeNs}:${facts.ctimeNs}`,
      changedAtMs: Number(facts.ctimeNs / 1_000_000n),
    };
  },
  mkdir: async (path, mode) => {
    await fsp.mkdir(path, { recursive: true, mode });
  },
  writeNewFile: async (path, data, mode) => {
    const handle = await fsp.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    try {
      // The umask may have cleared bits but never adds any; chmod makes the mode exact anyway.
      await handle.chmod(mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  rename: (from, to) => fsp.rename(from, to),
  syncDirectory: async (path) => {
    const handle = await fsp.open(path, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  unlink: (path) => fsp.unlink(path),
  readdir: (path) => fsp.readdir(path),
  chmod: (path, mode) => fsp.chmod(path, mode),
};
