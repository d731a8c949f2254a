/**
 * A pod's filesystem, as the files provisioner (through CredentialFileOps) and the node see it:
 * the Secret-mounted sources and the credential targets the node reads on start and on SIGHUP.
 * Faults: a read-only target directory (EROFS), EIO, EACCES, a full disk (ENOSPC), slow fsync.
 */
import { dirname } from 'node:path';
import { PUBLISHED_KES_SKEY, PUBLISHED_OPCERT, type CredentialFileOps, type FileFacts } from './framework.ts';
import type { Owner, Sim } from './sim.ts';

export type FsFault = 'EROFS' | 'EIO' | 'EACCES' | 'ENOSPC';

export const SOURCE_DIR = '/secrets';
export const TARGET_DIR = '/opt/cardano/keys';
export const SOURCES = {
  kesKey: `${SOURCE_DIR}/kes.skey`,
  vrfKey: `${SOURCE_DIR}/vrf.skey`,
  opCert: `${SOURCE_DIR}/node.cert`,
};
export const TARGETS = {
  kesKey: `${TARGET_DIR}/kes.skey`,
  vrfKey: `${TARGET_DIR}/vrf.skey`,
  opCert: `${TARGET_DIR}/node.cert`,
};
const ENVELOPE_TYPES = {
  kesKey: 'KesSigningKey_ed25519_kes_2^6',
  vrfKey: 'VrfSigningKey_PraosVrf',
  opCert: 'NodeOperationalCertificate',
};

const cborHexOf = (envelopeText: string): string => (JSON.parse(envelopeText) as { cborHex: string }).cborHex;

/**
 * Fixed key material in the exact CBOR shape of each type, as the provisioner validates it. The
 * KES key and opcert are a published matching pair: the provisioner refuses a pair that does not
 * belong together.
 */
const CBOR_HEX = {
  kesKey: cborHexOf(PUBLISHED_KES_SKEY),
  vrfKey: `5840${'cd'.repeat(64)}`,
  opCert: cborHexOf(PUBLISHED_OPCERT),
};

function envelope(type: string, hex: string): Buffer {
  return Buffer.from(JSON.stringify({ type, description: '', cborHex: hex }));
}

function fsError(code: string, op: string, path: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: ${op} '${path}'`) as NodeJS.ErrnoException;
  error.code = code;
  return error;
}

interface Entry {
  data: Buffer;
  mode: number;
}

export class SimFilesystem {
  readonly files = new Map<string, Entry>();
  readonly dirs = new Set<string>(['/', SOURCE_DIR]);
  /** Faults on mutations under the target directory. */
  targetFault: FsFault | null = null;
  /** EIO on every read (sources and targets). */
  readFault: 'EIO' | 'EACCES' | null = null;
  /** Extra true-time delay of every fsync. */
  fsyncDelayMs = 0;

  private readonly sim: Sim;
  private readonly owner: () => Owner;
  private readonly who: string;

  constructor(sim: Sim, owner: () => Owner, who: string) {
    this.sim = sim;
    this.owner = owner;
    this.who = who;
    for (const [key, path] of Object.entries(SOURCES))
      this.files.set(path, {
        data: envelope(ENVELOPE_TYPES[key as keyof typeof SOURCES], CBOR_HEX[key as keyof typeof SOURCES]),
        mode: 0o400,
      });
  }

  /** What the node loads: true when all three targets are valid envelopes of the right type. */
  targetsValid(): boolean {
    if (this.readFault !== null) return false;
    return Object.entries(TARGETS).every(([key, path]) => {
      const entry = this.files.get(path);
      if (entry === undefined) return false;
      try {
        const parsed = JSON.parse(entry.data.toString('utf8')) as { type?: unknown; cborHex?: unknown };
        return (
          parsed.type === ENVELOPE_TYPES[key as keyof typeof TARGETS] &&
          typeof parsed.cborHex === 'string' &&
          /^(?:[0-9a-fA-F]{2})+$/.test(parsed.cborHex)
        );
      } catch {
        return false;
      }
    });
  }

  /** Puts a credential set at the targets directly (a node image that ships keys, a test setup). */
  seedTargets(): void {
    this.dirs.add(TARGET_DIR);
    for (const [key, path] of Object.entries(TARGETS))
      this.files.set(path, { ...this.files.get(SOURCES[key as keyof typeof SOURCES])! });
  }

  #mutation(op: string, path: string): void {
    if (this.targetFault !== null && path.startsWith(TARGET_DIR))
      throw fsError(this.targetFault === 'ENOSPC' && op !== 'write' ? 'EIO' : this.targetFault, op, path);
  }

  #read(op: string, path: string): void {
    if (this.readFault !== null) throw fsError(this.readFault, op, path);
  }

  #slow(): Promise<void> {
    if (this.fsyncDelayMs <= 0) return Promise.resolve();
    return new Promise((resolve) => this.sim.at(this.owner(), this.fsyncDelayMs, resolve));
  }

  ops(): CredentialFileOps {
    const run = <T>(work: () => T): Promise<T> => Promise.resolve().then(work);
    return {
      readFile: (path) =>
        run(() => {
          this.#read('open', path);
          const entry = this.files.get(path);
          if (entry === undefined) throw fsError('ENOENT', 'open', path);
          return Buffer.from(entry.data);
        }),
      stat: (path) =>
        run((): FileFacts => {
          this.#read('stat', path);
          const entry = this.files.get(path);
          if (entry !== undefined) return { isFile: () => true, mode: 0o100000 | entry.mode };
          if (this.dirs.has(path)) return { isFile: () => false, mode: 0o040000 | 0o700 };
          throw fsError('ENOENT', 'stat', path);
        }),
      mkdir: (path) =>
        run(() => {
          if (this.dirs.has(path)) return;
          this.#mutation('mkdir', path);
          this.dirs.add(path);
        }),
      writeNewFile: async (path, data, mode) => {
        await run(() => {
          if (!this.dirs.has(dirname(path))) throw fsError('ENOENT', 'open', path);
          if (this.files.has(path)) throw fsError('EEXIST', 'open', path);
          this.#mutation('write', path);
          this.files.set(path, { data: Buffer.from(data), mode });
        });
        await this.#slow();
      },
      rename: (from, to) =>
        run(() => {
          const entry = this.files.get(from);
          if (entry === undefined) throw fsError('ENOENT', 'rename', from);
          this.#mutation('rename', to);
          this.files.delete(from);
          this.files.set(to, entry);
          if (to.startsWith(TARGET_DIR)) this.sim.log(this.who, `fs: wrote ${to}`);
        }),
      syncDirectory: async (path) => {
        await run(() => {
          if (!this.dirs.has(path)) throw fsError('ENOENT', 'open', path);
        });
        await this.#slow();
      },
      unlink: (path) =>
        run(() => {
          if (!this.files.has(path)) throw fsError('ENOENT', 'unlink', path);
          this.#mutation('unlink', path);
          this.files.delete(path);
          if (path.startsWith(TARGET_DIR) && !path.includes('tmp'))
            this.sim.log(this.who, `fs: removed ${path}`);
        }),
      readdir: (path) =>
        run(() => {
          this.#read('scandir', path);
          if (!this.dirs.has(path)) throw fsError('ENOENT', 'scandir', path);
          const prefix = path.endsWith('/') ? path : `${path}/`;
          return [...this.files.keys()]
            .filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/'))
            .map((p) => p.slice(prefix.length));
        }),
      chmod: (path, mode) =>
        run(() => {
          const entry = this.files.get(path);
          if (entry === undefined) throw fsError('ENOENT', 'chmod', path);
          this.#mutation('chmod', path);
          entry.mode = mode;
        }),
    };
  }

  /** rm(path) as the fail-safe does it. */
  remove(path: string): Promise<void> {
    return this.ops().unlink(path);
  }
}
