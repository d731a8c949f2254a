/**
 * The built-in credential provisioner: copies the KES key, VRF key and operational certificate
 * from their source files (a Secret mount) to the paths cardano-node reads, or removes them.
 *
 * Guarantees (docs: fixes G21 of the Python sidecar):
 *  - sources are validated as text envelopes of the right type before anything is written, and
 *    the KES key and operational certificate must belong together (the certificate signed by its
 *    cold key, for this KES key): a mismatched set is refused like any invalid source;
 *  - each write is atomic (O_EXCL temp file with mode 0600 in the target directory, fsync,
 *    rename, fsync of the directory), so the node never reads a half-written key;
 *  - identical targets are detected by content (a digest of the bytes), never by mtime; inspect(),
 *    every tick, reads a file again only when its stat identity (device, inode, size, mtime, ctime)
 *    changed or its last change is under 2 s old, and keeps digests, not keys, between ticks;
 *  - all three targets are present together or not at all: a failure while writing removes the
 *    whole set (fail closed);
 *  - no error, log line or metric ever carries key material.
 */
import { createHash, randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type {
  CredentialChange,
  CredentialPresence,
  CredentialProvisioner,
  CredentialState,
} from '../../contracts/index.js';
import { createMutex } from '../../core/mutex.js';
import { checkCredentialPair, parseOperationalCertificate, type PairCheck } from '../../kes/opcert.js';
import { CREDENTIAL_FILES, checkEnvelope, type CredentialFile } from './envelope.js';
import { nodeCredentialFileOps, type CredentialFileOps, type FileFacts } from './file-ops.js';
import type { CredentialPaths, FilesCredentialsOptions } from './options.js';

export const CREDENTIAL_OPERATIONS_METRIC = 'cardano_credential_operations_total';

export interface FilesCredentialProvisionerDeps {
  readonly logger: Logger;
  readonly registry?: Registry;
  /** File-system seam; defaults to node:fs. */
  readonly fs?: CredentialFileOps;
}

const TARGET_FILE_MODE = 0o600;
const TARGET_DIR_MODE = 0o700;
/** Marks temp files as ours so revoke() can clean up after a crash mid-write. */
const TEMP_MARKER = '.cardano-forge-tmp-';
const FINGERPRINT_HEX_CHARS = 16;
/**
 * The racy rule (as git's index): a digest is reused only when it was taken at least this long
 * after the file's last change, so a rewrite within the same timestamp tick, with the same size,
 * cannot hide behind an unchanged identity.
 */
const RACY_MS = 2000;

const PATH_KEY: Readonly<Record<CredentialFile, keyof CredentialPaths>> = {
  kes: 'kesKey',
  vrf: 'vrfKey',
  opcert: 'opCert',
};

type SourceProblemReason = 'SourceMissing' | 'SourceUnreadable' | 'InvalidSource' | 'CredentialMismatch';

interface SourceProblem {
  readonly reason: SourceProblemReason;
  readonly message: string;
}

type SourceRead =
  | { readonly file: CredentialFile; readonly path: string; readonly valid: true; readonly content: Buffer }
  | {
      readonly file: CredentialFile;
      readonly path: string;
      readonly valid: false;
      readonly reason: SourceProblemReason;
      readonly detail: string;
      /** Present when the file could be read but is not a valid envelope. */
      readonly content?: Buffer;
    };

/**
 * A source as the checks see it: a valid one by its digest and length, with its content when it
 * was just read (a summary reused from an earlier read carries none: no key is kept between ticks).
 */
type SourceSummary =
  | {
      readonly file: CredentialFile;
      readonly path: string;
      readonly valid: true;
      readonly digest: string;
      readonly length: number;
      readonly content?: Buffer;
    }
  | Extract<SourceRead, { valid: false }>;

interface InspectedTarget {
  readonly present: boolean;
  readonly digest: string | null;
}

function summarize(read: SourceRead): SourceSummary {
  if (!read.valid) return read;
  const digest = createHash('sha256').update(read.content).digest('hex');
  return { ...read, digest, length: read.content.length };
}

/** A failed step while installing, described without any content. */
class InstallStepError extends Error {
  constructor(
    readonly file: CredentialFile,
    readonly path: string,
    readonly step: 'mkdir' | 'write' | 'rename' | 'sync',
    readonly code: string,
  ) {
    super(
      step === 'mkdir'
        ? `creating target directory ${path} failed (${code})`
        : `${step} of ${file} target ${path} failed (${code})`,
    );
  }
}

function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : 'unknown error';
}

/** Codes that mean "there is no credential file at this path". */
/** Why a source could not be read, and what to change. */
function unreadableDetail(code: string): string {
  if (code === 'EACCES' || code === 'EPERM')
    return `is not readable by the sidecar (permission denied, ${code}): give its user read access (the Secret volume's defaultMode, or fsGroup)`;
  if (code === 'EISDIR') return 'is a directory, not a file: point the path at the key file inside it';
  if (code === 'ENOTDIR') return 'has a path component that is not a directory: check the path';
  if (code === 'ELOOP') return 'is a symlink loop: check the Secret mount';
  return `is unreadable (${code})`;
}

function isAbsentCode(code: string): boolean {
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}

function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}${TEMP_MARKER}${randomBytes(6).toString('hex')}`);
}

function credentialOperationsCounter(registry: Registry | undefined): Counter<'operation' | 'file'> | null {
  if (registry === undefined) return null;
  // One registry may serve several instances (tests, re-created plugins): reuse the metric.
  const existing = registry.getSingleMetric(CREDENTIAL_OPERATIONS_METRIC);
  if (existing !== undefined) return existing as Counter<'operation' | 'file'>;
  return new Counter({
    name: CREDENTIAL_OPERATIONS_METRIC,
    help: 'Credential file operations, counted per successful file copy or removal',
    labelNames: ['operation', 'file'],
    registers: [registry],
  });
}

export function createFilesCredentialProvisioner(
  deps: FilesCredentialProvisionerDeps,
  options: FilesCredentialsOptions,
): CredentialProvisioner {
  const fs = deps.fs ?? nodeCredentialFileOps;
  const logger = deps.logger;
  const operations = credentialOperationsCounter(deps.registry);
  const targetOf = (file: CredentialFile): string => options.target[PATH_KEY[file]];
  const sourceOf = (file: CredentialFile): string => options.source[PATH_KEY[file]];
  const targetDirs = [...new Set(CREDENTIAL_FILES.map((file) => dirname(targetOf(file))))];

  // provision/revoke must never interleave (a revoke racing a half-done provision could leave a
  // partial set): calls on one instance run one after another.
  const serialized = createMutex();

  async function readSource(file: CredentialFile): Promise<SourceRead> {
    const path = sourceOf(file);
    let content: Buffer;
    try {
      content = await fs.readFile(path);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT')
        return {
          file,
          path,
          valid: false,
          reason: 'SourceMissing',
          detail: 'is missing (no such file: check the Secret mount and the path)',
        };
      return { file, path, valid: false, reason: 'SourceUnreadable', detail: unreadableDetail(code) };
    }
    const check = checkEnvelope(file, content);
    if (!check.valid)
      return { file, path, valid: false, reason: 'InvalidSource', detail: check.detail, content };
    return { file, path, valid: true, content };
  }

  const readSources = (): Promise<SourceRead[]> => Promise.all(CREDENTIAL_FILES.map(readSource));

  /**
   * inspect() runs every tick, but the files rarely change: a file whose stat identity is
   * unchanged (and not racy) is not read again; what was learnt from it is reused. Digests only:
   * no copy of key material is kept between ticks. provision() always reads afresh.
   */
  interface Remembered<T> {
    readonly identity: string;
    readonly readAtMs: number;
    readonly value: T;
  }
  const sourceSummaries = new Map<CredentialFile, Remembered<SourceSummary>>();
  const targetDigests = new Map<CredentialFile, Remembered<InspectedTarget>>();

  /**
   * What `read` yields for `file`, or what it yielded last time while the file's stat identity is
   * unchanged and the read came at least RACY_MS after the file's last change. `read` says what to
   * remember (null: nothing, the next call reads again).
   */
  async function readUnlessUnchanged<T>(
    memory: Map<CredentialFile, Remembered<T>>,
    file: CredentialFile,
    facts: FileFacts | null,
    read: () => Promise<{ value: T; remember: T | null }>,
  ): Promise<T> {
    const cached = memory.get(file);
    if (
      cached !== undefined &&
      facts?.identity === cached.identity &&
      facts.changedAtMs !== undefined &&
      cached.readAtMs - facts.changedAtMs >= RACY_MS
    )
      return cached.value;
    const readAtMs = Date.now();
    const { value, remember } = await read();
    if (remember !== null && facts?.identity !== undefined)
      memory.set(file, { identity: facts.identity, readAtMs, value: remember });
    else memory.delete(file);
    return value;
  }

  const statOrNull = (path: string): Promise<FileFacts | null> => fs.stat(path).catch(() => null);

  async function inspectSource(file: CredentialFile, fresh: boolean): Promise<SourceSummary> {
    if (fresh) sourceSummaries.delete(file);
    const facts = await statOrNull(sourceOf(file));
    return readUnlessUnchanged(sourceSummaries, file, facts, async () => {
      const summary = summarize(await readSource(file));
      if (!summary.valid) return { value: summary, remember: null };
      const { content: _dropped, ...withoutContent } = summary;
      return { value: summary, remember: withoutContent };
    });
  }

  /** Whether a credential file is at the target, and its digest (null when it cannot be read). */
  async function inspectTarget(file: CredentialFile): Promise<InspectedTarget> {
    const facts = await statOrNull(targetOf(file));
    if (facts === null || !facts.isFile()) {
      targetDigests.delete(file);
      return { present: false, digest: null };
    }
    return readUnlessUnchanged(targetDigests, file, facts, async () => {
      const content = await readTarget(file).catch(() => null);
      if (content === null) return { value: { present: true, digest: null }, remember: null };
      const value = { present: true, digest: createHash('sha256').update(content).digest('hex') };
      return { value, remember: value };
    });
  }

  /** The first problem of the set; 'unchecked' when the pair changed but was not read (re-read it). */
  function describeSourceProblems(sources: readonly SourceSummary[]): SourceProblem | 'unchecked' | null {
    const problems = sources.filter((source) => !source.valid);
    const first = problems[0];
    if (first === undefined) return pairProblem(sources);
    if (first.valid) return null;
    const message = problems
      .map((source) => (source.valid ? '' : `${source.file} source ${source.path} ${source.detail}`))
      .join('; ');
    return { reason: first.reason, message };
  }

  let lastPairCheck: {
    readonly key: string;
    readonly problem: SourceProblem | null;
  } | null = null;

  /**
   * Valid files can still be an unusable set: a node given a KES key its certificate does not
   * name (a half-done rotation) or a certificate its cold key did not sign forges nothing, and the
   * ledger rejects any block it makes. Checked by the kes module; only verification-key
   * fingerprints are ever shown.
   */
  function pairProblem(sources: readonly SourceSummary[]): SourceProblem | 'unchecked' | null {
    const kes = sources.find((source) => source.file === 'kes');
    const opcert = sources.find((source) => source.file === 'opcert');
    if (kes?.valid !== true || opcert?.valid !== true) return null;
    // Sources are looked at on every tick but rarely change: check each distinct pair once.
    const key = `${kes.digest}:${opcert.digest}`;
    if (lastPairCheck?.key === key) return lastPairCheck.problem;
    if (kes.content === undefined || opcert.content === undefined) return 'unchecked';
    const problem = checkPair({ ...kes, content: kes.content }, { ...opcert, content: opcert.content });
    lastPairCheck = { key, problem };
    return problem;
  }

  function checkPair(
    kes: { readonly path: string; readonly content: Buffer },
    opcert: { readonly path: string; readonly content: Buffer },
  ): SourceProblem | null {
    const certWhat = `opcert source ${opcert.path}`;
    let check: PairCheck;
    try {
      const cert = parseOperationalCertificate(opcert.content.toString('utf8'), certWhat);
      check = checkCredentialPair(kes.content.toString('utf8'), cert, `kes source ${kes.path}`);
    } catch (error) {
      // The kes module's errors name the file and never carry key bytes; anything else is shown
      // by its name only.
      const detail =
        error instanceof Error && error.name === 'CredentialFormatError' ? error.message : errorCode(error);
      return {
        reason: 'InvalidSource',
        message: `the KES key ${kes.path} and the operational certificate ${opcert.path} cannot be checked against each other: ${detail}`,
      };
    }
    if (check.ok) return null;
    if (check.reason === 'BadSignature')
      return {
        reason: 'InvalidSource',
        message: `${certWhat} is not signed by its cold key (the signature over its KES key, counter and KES period does not verify: a corrupt or edited certificate); issue it again with cardano-cli node issue-op-cert`,
      };
    return {
      reason: 'CredentialMismatch',
      message: `the KES key ${kes.path} does not belong to the operational certificate ${opcert.path}: the certificate's KES verification key is ${check.certificateKesKey}…, the key's is ${check.signingKeyKesKey}…; issue a new opcert for this KES key (cardano-cli node issue-op-cert) or deploy the KES key the certificate was issued for`,
    };
  }

  /** Reads a target; null when there is no credential file at its path. */
  async function readTarget(file: CredentialFile): Promise<Buffer | null> {
    try {
      return await fs.readFile(targetOf(file));
    } catch (error) {
      if (isAbsentCode(errorCode(error))) return null;
      throw error;
    }
  }

  async function targetPresent(file: CredentialFile): Promise<boolean> {
    try {
      return (await fs.stat(targetOf(file))).isFile();
    } catch {
      return false;
    }
  }

  async function presence(): Promise<CredentialPresence> {
    const present = await Promise.all(CREDENTIAL_FILES.map(targetPresent));
    const count = present.filter(Boolean).length;
    if (count === 0) return 'none';
    return count === CREDENTIAL_FILES.length ? 'all' : 'partial';
  }

  /** Installs one file atomically. Returns whether it wrote anything. */
  async function install(file: CredentialFile, content: Buffer): Promise<boolean> {
    const target = targetOf(file);
    let current: Buffer | null;
    try {
      current = await readTarget(file);
    } catch (error) {
      throw new InstallStepError(file, target, 'write', errorCode(error));
    }
    if (current !== null && current.equals(content)) {
      // Same bytes: nothing for the node to re-read; only tighten a loose mode.
      try {
        const facts = await fs.stat(target);
        if ((facts.mode & 0o777) !== TARGET_FILE_MODE) await fs.chmod(target, TARGET_FILE_MODE);
      } catch (error) {
        throw new InstallStepError(file, target, 'write', errorCode(error));
      }
      return false;
    }
    const temp = tempPathFor(target);
    try {
      await fs.writeNewFile(temp, content, TARGET_FILE_MODE);
    } catch (error) {
      await fs.unlink(temp).catch(() => undefined);
      throw new InstallStepError(file, target, 'write', errorCode(error));
    }
    try {
      await fs.rename(temp, target);
    } catch (error) {
      await fs.unlink(temp).catch(() => undefined);
      throw new InstallStepError(file, target, 'rename', errorCode(error));
    }
    try {
      await fs.syncDirectory(dirname(target));
    } catch (error) {
      throw new InstallStepError(file, target, 'sync', errorCode(error));
    }
    return true;
  }

  interface RemovalReport {
    readonly removed: CredentialFile[];
    readonly failures: string[];
  }

  /** Removes every target and our stray temp files. Never throws. */
  async function removeAll(): Promise<RemovalReport> {
    const removed: CredentialFile[] = [];
    const failures: string[] = [];
    for (const file of CREDENTIAL_FILES) {
      const target = targetOf(file);
      try {
        await fs.unlink(target);
        removed.push(file);
        operations?.inc({ operation: 'remove', file });
        logger.info({ file, path: target }, 'removed credential file');
      } catch (error) {
        const code = errorCode(error);
        if (!isAbsentCode(code)) failures.push(`${file} target ${target} could not be removed (${code})`);
      }
    }
    for (const dir of targetDirs) {
      let names: string[];
      try {
        names = await fs.readdir(dir);
      } catch {
        continue; // no directory, no temp files
      }
      const prefixes = CREDENTIAL_FILES.filter((file) => dirname(targetOf(file)) === dir).map(
        (file) => `.${basename(targetOf(file))}${TEMP_MARKER}`,
      );
      for (const name of names) {
        if (!prefixes.some((prefix) => name.startsWith(prefix))) continue;
        await fs.unlink(join(dir, name)).catch((error: unknown) => {
          if (!isAbsentCode(errorCode(error)))
            failures.push(`temp file ${join(dir, name)} could not be removed (${errorCode(error)})`);
        });
      }
      if (removed.length > 0) await fs.syncDirectory(dir).catch(() => undefined);
    }
    return { removed, failures };
  }

  async function provisionNow(signal: AbortSignal): Promise<CredentialChange> {
    if (signal.aborted)
      return { ok: false, changed: false, reason: 'Aborted', message: 'provision aborted before it started' };
    const sources = await readSources();
    // Read afresh, so the pair is always checked here ('unchecked' cannot come back).
    const problem = describeSourceProblems(sources.map(summarize));
    if (problem !== null && problem !== 'unchecked') {
      logger.warn({ reason: problem.reason }, `not provisioning credentials: ${problem.message}`);
      return { ok: false, changed: false, ...problem };
    }
    if (signal.aborted)
      return { ok: false, changed: false, reason: 'Aborted', message: 'provision aborted before writing' };
    // From here on the call runs to the end (local file operations are short): stopping halfway
    // could leave a partial set, which is worse than finishing late.
    const written: CredentialFile[] = [];
    try {
      for (const dir of targetDirs) {
        try {
          await fs.mkdir(dir, TARGET_DIR_MODE);
        } catch (error) {
          const file = CREDENTIAL_FILES.find((f) => dirname(targetOf(f)) === dir) ?? 'kes';
          throw new InstallStepError(file, dir, 'mkdir', errorCode(error));
        }
      }
      for (const source of sources) {
        if (!source.valid) continue; // unreachable: validated above
        if (await install(source.file, source.content)) {
          written.push(source.file);
          operations?.inc({ operation: 'copy', file: source.file });
          logger.info(
            { file: source.file, path: targetOf(source.file) },
            'installed credential file (mode 0600)',
          );
        }
      }
    } catch (error) {
      const failure =
        error instanceof InstallStepError ? error.message : `provisioning failed (${errorCode(error)})`;
      const rollback = await removeAll();
      const left = await presence();
      const dirFailed = error instanceof InstallStepError && error.step === 'mkdir';
      const reason = left !== 'none' ? 'RollbackIncomplete' : dirFailed ? 'TargetUnwritable' : 'WriteFailed';
      const rollbackNote =
        left === 'none'
          ? 'removed all targets so no partial set remains'
          : `rollback left ${left} targets: ${rollback.failures.join('; ')}`;
      const message = `${failure}; ${rollbackNote}`;
      logger.error({ reason }, `credential provisioning failed: ${message}`);
      return { ok: false, changed: written.length > 0 || rollback.removed.length > 0, reason, message };
    }
    if (written.length === 0) {
      return {
        ok: true,
        changed: false,
        reason: 'AlreadyUpToDate',
        message: 'all three targets already equal their sources',
      };
    }
    const untouched = CREDENTIAL_FILES.filter((file) => !written.includes(file));
    const note = untouched.length > 0 ? ` (${untouched.join(', ')} already up to date)` : '';
    return {
      ok: true,
      changed: true,
      reason: 'Provisioned',
      message: `installed ${written.join(', ')}${note}`,
    };
  }

  async function revokeNow(): Promise<CredentialChange> {
    const { removed, failures } = await removeAll();
    if (failures.length > 0) {
      const message = failures.join('; ');
      logger.error({ reason: 'RemoveFailed' }, `credential revocation incomplete: ${message}`);
      return { ok: false, changed: removed.length > 0, reason: 'RemoveFailed', message };
    }
    if (removed.length === 0)
      return {
        ok: true,
        changed: false,
        reason: 'AlreadyAbsent',
        message: 'no credential targets were present',
      };
    return { ok: true, changed: true, reason: 'Revoked', message: `removed ${removed.join(', ')}` };
  }

  async function inspectNow(): Promise<CredentialState> {
    const inspectSources = (fresh: boolean): Promise<SourceSummary[]> =>
      Promise.all(CREDENTIAL_FILES.map((file) => inspectSource(file, fresh)));
    const [summaries, targets] = await Promise.all([
      inspectSources(false),
      Promise.all(CREDENTIAL_FILES.map(inspectTarget)),
    ]);
    let sources = summaries;
    let checked = describeSourceProblems(sources);
    if (checked === 'unchecked') {
      // Reused digests name a pair this instance has not checked (it saw another since): read again.
      sources = await inspectSources(true);
      checked = describeSourceProblems(sources);
    }
    const problem: SourceProblem | null =
      checked === 'unchecked'
        ? { reason: 'InvalidSource', message: 'the KES key and operational certificate could not be checked' }
        : checked;
    const count = targets.filter((target) => target.present).length;
    const present: CredentialPresence =
      count === 0 ? 'none' : count === CREDENTIAL_FILES.length ? 'all' : 'partial';
    const sourcesValid = problem === null;
    let sourceFingerprint: string | null = null;
    let upToDate = false;
    if (sourcesValid) {
      const hash = createHash('sha256');
      for (const source of sources) {
        if (!source.valid) continue;
        // Length-prefixed so different splits cannot collide.
        hash.update(`${source.file}:${source.length}:${source.digest};`);
      }
      sourceFingerprint = hash.digest('hex').slice(0, FINGERPRINT_HEX_CHARS);
      // Identical targets are detected by content (digests of the bytes), never by mtime.
      upToDate =
        present === 'all' &&
        sources.every((source, index) => source.valid && targets[index]?.digest === source.digest);
    }
    const base = { presence: present, upToDate, sourcesValid, sourceFingerprint };
    if (present === 'partial') {
      const missing = CREDENTIAL_FILES.filter((_, index) => !targets[index]?.present);
      return {
        ...base,
        reason: 'Partial',
        message: `partial credential set at the targets (missing: ${missing.join(', ')})`,
      };
    }
    if (problem !== null) return { ...base, ...problem };
    if (present === 'none') return { ...base, reason: 'Absent', message: 'no credentials at the targets' };
    if (upToDate) return { ...base, reason: 'UpToDate', message: 'all three targets equal their sources' };
    return { ...base, reason: 'Outdated', message: 'targets differ from the sources (rotation pending)' };
  }

  return {
    // inspect only reads; revoke is the fail-closed direction and always runs to completion
    // (a few unlinks), so neither is cut short by the signal.
    inspect: (_signal) => inspectNow(),
    provision: (signal) => serialized(() => provisionNow(signal)),
    revoke: (_signal) => serialized(() => revokeNow()),
  };
}
