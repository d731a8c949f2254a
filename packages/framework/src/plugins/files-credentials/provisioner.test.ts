import { randomBytes } from 'node:crypto';
import {
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  stat,
  symlink,
  unlink,
  writeFile,
  rename as fsRename,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { decode, encode } from 'cborg';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { Registry, type Counter } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { issueOperationalCertificate } from '../../kes/fixtures.js';
import { kesVerificationKeyOf } from '../../kes/opcert.js';
import { pluginShapeProblems } from '../../plugin/define.js';
import {
  CREDENTIAL_OPERATIONS_METRIC,
  createFilesCredentialProvisioner,
  filesCredentialsOptionsSchema,
  filesCredentialsPlugin,
  nodeCredentialFileOps,
  type CredentialFileOps,
  type FilesCredentialsOptions,
} from './index.js';

const never = new AbortController().signal;

interface Envelope {
  type: string;
  description: string;
  cborHex: string;
}

/** A key payload of the exact shape of its type (envelope.ts), with random key bytes. */
function payloadFor(type: string): string {
  const bytes = (n: number) => randomBytes(n).toString('hex');
  const kesDepth = /^KesSigningKey_ed25519_kes_2\^(\d+)$/.exec(type)?.[1];
  if (kesDepth !== undefined) {
    const length = 32 + 96 * Number(kesDepth);
    return `59${length.toString(16).padStart(4, '0')}${bytes(length)}`;
  }
  return `5840${bytes(64)}`;
}

function envelope(type: string): Envelope {
  return { type, description: 'test key', cborHex: payloadFor(type) };
}

const vrfEnvelope = (): Envelope => envelope('VrfSigningKey_PraosVrf');

/** A random KES key and an operational certificate issued for it by a fresh cold key. */
function kesAndOpcert(depth = 7, cert: { counter?: number; kesPeriod?: number } = {}) {
  const kes = envelope(`KesSigningKey_ed25519_kes_2^${depth}`);
  const opcert = JSON.parse(
    issueOperationalCertificate({
      kesVerificationKey: kesVerificationKeyOf(JSON.stringify(kes)),
      counter: cert.counter ?? 3,
      kesPeriod: cert.kesPeriod ?? 1864,
    }),
  ) as Envelope;
  return { kes, opcert };
}

function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

async function counterValue(registry: Registry, operation: string, file: string): Promise<number> {
  const metric = registry.getSingleMetric(CREDENTIAL_OPERATIONS_METRIC) as Counter | undefined;
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  return values.find((v) => v.labels.operation === operation && v.labels.file === file)?.value ?? 0;
}

describe('files credential provisioner', () => {
  let root: string;
  let sourceDir: string;
  let targetDir: string;
  let options: FilesCredentialsOptions;
  let registry: Registry;
  let log: ReturnType<typeof captureLogger>;
  /** Every cborHex written to a source in this test: none may show up in logs or results. */
  let secrets: string[];

  async function writeSource(name: 'kes' | 'vrf' | 'opcert', content: Envelope | string): Promise<string> {
    const text = typeof content === 'string' ? content : JSON.stringify(content, null, 4);
    if (typeof content !== 'string') secrets.push(content.cborHex);
    const path = join(sourceDir, `${name}.skey`);
    await writeFile(path, text);
    return text;
  }

  function provisioner(fs?: CredentialFileOps) {
    return createFilesCredentialProvisioner({ logger: log.logger, registry, ...(fs ? { fs } : {}) }, options);
  }

  async function targetNames(): Promise<string[]> {
    return (await readdir(targetDir).catch(() => [] as string[])).sort();
  }

  function assertNoKeyMaterial(...texts: string[]): void {
    const all = [...log.lines, ...texts].join('\n');
    for (const secret of secrets) {
      expect(all).not.toContain(secret);
      expect(all).not.toContain(secret.slice(0, 24));
    }
  }

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'forge-creds-'));
    sourceDir = join(root, 'secret');
    targetDir = join(root, 'node', 'keys');
    await mkdir(sourceDir);
    options = {
      source: {
        kesKey: join(sourceDir, 'kes.skey'),
        vrfKey: join(sourceDir, 'vrf.skey'),
        opCert: join(sourceDir, 'opcert.skey'),
      },
      target: {
        kesKey: join(targetDir, 'kes.skey'),
        vrfKey: join(targetDir, 'vrf.skey'),
        opCert: join(targetDir, 'node.cert'),
      },
    };
    registry = new Registry();
    log = captureLogger();
    secrets = [];
  });

  afterEach(async () => {
    assertNoKeyMaterial();
    await rm(root, { recursive: true, force: true });
  });

  async function writeValidSources(): Promise<{ kes: string; vrf: string; opcert: string }> {
    const pair = kesAndOpcert();
    return {
      kes: await writeSource('kes', pair.kes),
      vrf: await writeSource('vrf', vrfEnvelope()),
      opcert: await writeSource('opcert', pair.opcert),
    };
  }

  it('installs all three files with mode 0600 in a directory it creates with mode 0700', async () => {
    const sources = await writeValidSources();
    const result = await provisioner().provision(never);
    expect(result).toMatchObject({ ok: true, changed: true, reason: 'Provisioned' });
    expect(await readFile(options.target.kesKey, 'utf8')).toBe(sources.kes);
    expect(await readFile(options.target.vrfKey, 'utf8')).toBe(sources.vrf);
    expect(await readFile(options.target.opCert, 'utf8')).toBe(sources.opcert);
    for (const path of Object.values(options.target)) expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(targetDir)).mode & 0o777).toBe(0o700);
    expect(await targetNames()).toEqual(['kes.skey', 'node.cert', 'vrf.skey']); // no temp files left
    for (const file of ['kes', 'vrf', 'opcert']) expect(await counterValue(registry, 'copy', file)).toBe(1);
    assertNoKeyMaterial(result.message);
  });

  it('reports a valid, up-to-date set with a content fingerprint after provisioning', async () => {
    await writeValidSources();
    const p = provisioner();
    const before = await p.inspect(never);
    expect(before).toMatchObject({ presence: 'none', upToDate: false, sourcesValid: true, reason: 'Absent' });
    await p.provision(never);
    const after = await p.inspect(never);
    expect(after).toMatchObject({ presence: 'all', upToDate: true, sourcesValid: true, reason: 'UpToDate' });
    expect(after.sourceFingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(after.sourceFingerprint).toBe(before.sourceFingerprint);
  });

  it('changes nothing when the targets already equal the sources', async () => {
    await writeValidSources();
    const p = provisioner();
    await p.provision(never);
    const mtimeBefore = (await stat(options.target.kesKey)).mtimeMs;
    const second = await p.provision(never);
    expect(second).toMatchObject({ ok: true, changed: false, reason: 'AlreadyUpToDate' });
    expect((await stat(options.target.kesKey)).mtimeMs).toBe(mtimeBefore);
    expect(await counterValue(registry, 'copy', 'kes')).toBe(1);
  });

  it('compares content, not size or mtime: a same-size rotated key is copied', async () => {
    await writeValidSources();
    const p = provisioner();
    await p.provision(never);
    const fingerprintBefore = (await p.inspect(never)).sourceFingerprint;
    const oldTarget = await readFile(options.target.kesKey, 'utf8');
    const fresh = kesAndOpcert(); // a KES rotation: new key, new opcert for it
    const rotated = await writeSource('kes', fresh.kes); // same length, different bytes
    await writeSource('opcert', fresh.opcert);
    expect(rotated.length).toBe(oldTarget.length);

    const pending = await p.inspect(never);
    expect(pending).toMatchObject({
      presence: 'all',
      upToDate: false,
      sourcesValid: true,
      reason: 'Outdated',
    });
    expect(pending.sourceFingerprint).not.toBe(fingerprintBefore);

    const result = await p.provision(never);
    expect(result).toMatchObject({ ok: true, changed: true, reason: 'Provisioned' });
    expect(result.message).toContain('kes');
    expect(await readFile(options.target.kesKey, 'utf8')).toBe(rotated);
    expect(await counterValue(registry, 'copy', 'kes')).toBe(2);
    expect(await counterValue(registry, 'copy', 'vrf')).toBe(1);
  });

  it('follows Secret-mount symlinks (..data) and picks up a rotation done by swapping them', async () => {
    // kubelet layout: <dir>/..<timestamp>/file, <dir>/..data -> ..<timestamp>, <dir>/file -> ..data/file
    const mount = join(root, 'mount');
    const generation = async (name: string): Promise<string> => {
      const dir = join(mount, name);
      await mkdir(dir, { recursive: true });
      const { kes, opcert } = kesAndOpcert();
      secrets.push(kes.cborHex);
      await writeFile(join(dir, 'kes.skey'), JSON.stringify(kes));
      const vrf = vrfEnvelope();
      secrets.push(vrf.cborHex);
      await writeFile(join(dir, 'vrf.skey'), JSON.stringify(vrf));
      secrets.push(opcert.cborHex);
      await writeFile(join(dir, 'opcert.skey'), JSON.stringify(opcert));
      return JSON.stringify(kes);
    };
    const firstKes = await generation('..2024_01');
    await symlink('..2024_01', join(mount, '..data'));
    for (const name of ['kes.skey', 'vrf.skey', 'opcert.skey'])
      await symlink(join('..data', name), join(mount, name));
    options = {
      ...options,
      source: {
        kesKey: join(mount, 'kes.skey'),
        vrfKey: join(mount, 'vrf.skey'),
        opCert: join(mount, 'opcert.skey'),
      },
    };
    const p = provisioner();
    expect(await p.provision(never)).toMatchObject({ ok: true, changed: true });
    expect(await readFile(options.target.kesKey, 'utf8')).toBe(firstKes);
    expect((await stat(options.target.kesKey)).isFile()).toBe(true);

    const secondKes = await generation('..2024_02');
    await symlink('..2024_02', join(mount, '..data_tmp'));
    await fsRename(join(mount, '..data_tmp'), join(mount, '..data')); // atomic swap, as kubelet does
    expect(await p.provision(never)).toMatchObject({ ok: true, changed: true });
    expect(await readFile(options.target.kesKey, 'utf8')).toBe(secondKes);
  });

  it('provisions a KES key together with the opcert issued for it, of any KES depth', async () => {
    for (const depth of [6, 7]) {
      const pair = kesAndOpcert(depth);
      await writeSource('kes', pair.kes);
      await writeSource('vrf', vrfEnvelope());
      await writeSource('opcert', pair.opcert);
      const p = provisioner();
      expect(await p.inspect(never)).toMatchObject({ sourcesValid: true });
      expect(await p.provision(never)).toMatchObject({ ok: true, changed: true, reason: 'Provisioned' });
    }
  });

  it('refuses a KES key that does not belong to the opcert, naming both files and both verification keys', async () => {
    const first = await writeValidSources();
    const p = provisioner();
    expect(await p.provision(never)).toMatchObject({ ok: true, changed: true });
    // A half-done rotation: a new KES key, the old certificate still in place.
    const stray = kesAndOpcert().kes;
    await writeSource('kes', stray);
    const certKesVkey = Buffer.from(
      (decode(Buffer.from(JSON.parse(first.opcert).cborHex as string, 'hex')) as [[Uint8Array]])[0][0],
    ).toString('hex');
    const strayKesVkey = Buffer.from(kesVerificationKeyOf(JSON.stringify(stray))).toString('hex');

    const state = await p.inspect(never);
    expect(state).toMatchObject({
      sourcesValid: false,
      sourceFingerprint: null,
      reason: 'CredentialMismatch',
    });
    expect(state.message).toBe(
      `the KES key ${options.source.kesKey} does not belong to the operational certificate ${options.source.opCert}: ` +
        `the certificate's KES verification key is ${certKesVkey.slice(0, 8)}…, the key's is ${strayKesVkey.slice(0, 8)}…; ` +
        'issue a new opcert for this KES key (cardano-cli node issue-op-cert) or deploy the KES key the certificate was issued for',
    );
    const result = await p.provision(never);
    expect(result).toMatchObject({ ok: false, changed: false, reason: 'CredentialMismatch' });
    // Nothing of the mismatched set reaches the node: the targets keep the last good set.
    expect(await readFile(options.target.kesKey, 'utf8')).toBe(first.kes);
    assertNoKeyMaterial(result.message, state.message);
    expect(state.message).not.toContain(certKesVkey.slice(0, 9));
    expect(state.message).not.toContain(strayKesVkey.slice(0, 9));
  });

  it.each([
    ['its counter was edited', (body: unknown[]) => [body[0], 4, body[2], body[3]]],
    ['its KES period was edited', (body: unknown[]) => [body[0], body[1], 1865, body[3]]],
    [
      'its signature was altered',
      (body: unknown[]) => {
        const sigma = Uint8Array.from(body[3] as Uint8Array);
        sigma[10] = sigma[10]! ^ 0x01;
        return [body[0], body[1], body[2], sigma];
      },
    ],
  ] as const)('refuses an opcert whose cold-key signature does not verify (%s)', async (_label, edit) => {
    const sources = await writeValidSources();
    const parsed = JSON.parse(sources.opcert) as Envelope;
    const [body, cold] = decode(Buffer.from(parsed.cborHex, 'hex')) as [unknown[], Uint8Array];
    const edited = { ...parsed, cborHex: Buffer.from(encode([edit(body), cold])).toString('hex') };
    await writeSource('opcert', edited);
    const p = provisioner();
    const state = await p.inspect(never);
    expect(state).toMatchObject({ sourcesValid: false, reason: 'InvalidSource' });
    expect(state.message).toBe(
      `opcert source ${options.source.opCert} is not signed by its cold key (the signature over its KES key, counter and KES period does not verify: a corrupt or edited certificate); issue it again with cardano-cli node issue-op-cert`,
    );
    expect(await p.provision(never)).toMatchObject({ ok: false, changed: false, reason: 'InvalidSource' });
    expect(await targetNames()).toEqual([]);
    assertNoKeyMaterial(state.message);
  });

  it('rejects a source that is not JSON and writes nothing, without quoting the file', async () => {
    await writeValidSources();
    const garbage = `not json ${randomBytes(32).toString('hex')}`;
    secrets.push(garbage.slice(9));
    await writeSource('vrf', garbage);
    const result = await provisioner().provision(never);
    expect(result).toMatchObject({ ok: false, changed: false, reason: 'InvalidSource' });
    expect(result.message).toContain(options.source.vrfKey);
    expect(result.message).toContain('is not JSON');
    expect(await targetNames()).toEqual([]);
    assertNoKeyMaterial(result.message);
  });

  it('rejects an envelope of the wrong type, naming the type found and the type expected', async () => {
    await writeValidSources();
    await writeSource('vrf', envelope('VrfVerificationKey_PraosVrf'));
    const p = provisioner();
    const result = await p.provision(never);
    expect(result).toMatchObject({ ok: false, changed: false, reason: 'InvalidSource' });
    expect(result.message).toContain(options.source.vrfKey);
    expect(result.message).toContain(
      'wrong type "VrfVerificationKey_PraosVrf", expected "VrfSigningKey_PraosVrf"',
    );
    expect(await targetNames()).toEqual([]);
    const state = await p.inspect(never);
    expect(state).toMatchObject({
      sourcesValid: false,
      sourceFingerprint: null,
      presence: 'none',
      reason: 'InvalidSource',
    });
    assertNoKeyMaterial(result.message, state.message);
  });

  it('accepts any KES depth but rejects a KES verification key', async () => {
    await writeValidSources();
    const sum6 = kesAndOpcert(6);
    await writeSource('kes', sum6.kes);
    await writeSource('opcert', sum6.opcert);
    expect((await provisioner().provision(never)).ok).toBe(true);
    await writeSource('kes', envelope('KesVerificationKey_ed25519_kes_2^7'));
    const result = await provisioner().provision(never);
    expect(result.reason).toBe('InvalidSource');
    expect(result.message).toContain('expected "KesSigningKey_ed25519_kes_2^<depth>"');
  });

  it.each([
    ['odd length', 'abc', 'odd length'],
    ['not hex', 'zz11', 'not hexadecimal'],
    ['empty', '', 'empty'],
  ])('rejects a cborHex that is %s', async (_label, cborHex, expected) => {
    await writeValidSources();
    await writeSource(
      'opcert',
      JSON.stringify({ type: 'NodeOperationalCertificate', description: '', cborHex }),
    );
    const result = await provisioner().provision(never);
    expect(result).toMatchObject({ ok: false, reason: 'InvalidSource' });
    expect(result.message).toContain(`opcert source ${options.source.opCert} has bad cborHex (${expected})`);
    expect(await targetNames()).toEqual([]);
  });

  it.each([
    [
      'a KES key one byte short',
      'kes',
      'KesSigningKey_ed25519_kes_2^6',
      `590260${'ab'.repeat(607)}`,
      'has the wrong key length for KesSigningKey_ed25519_kes_2^6: expected a CBOR byte string of 608 bytes, found 608 key bytes, with a length that does not match the data',
    ],
    [
      'a Sum7 key under a Sum6 type',
      'kes',
      'KesSigningKey_ed25519_kes_2^6',
      `5902c0${'ab'.repeat(704)}`,
      'expected a CBOR byte string of 608 bytes, found 704 key bytes',
    ],
    [
      'a VRF verification-key-sized payload',
      'vrf',
      'VrfSigningKey_PraosVrf',
      `5820${'ab'.repeat(32)}`,
      'has the wrong key length for VrfSigningKey_PraosVrf: expected a CBOR byte string of 64 bytes, found 32 key bytes',
    ],
    [
      'a VRF key that is not a byte string',
      'vrf',
      'VrfSigningKey_PraosVrf',
      '8201020304',
      'found not a CBOR byte string',
    ],
    [
      'an opcert that is a bare byte string',
      'opcert',
      'NodeOperationalCertificate',
      `5840${'ab'.repeat(64)}`,
      'is not a valid operational certificate: not a 2-element CBOR array',
    ],
    [
      'an opcert whose sigma is short',
      'opcert',
      'NodeOperationalCertificate',
      `82845820${'ab'.repeat(32)}0001583f${'ab'.repeat(63)}5820${'ab'.repeat(32)}`,
      'the signature (sigma) is not 64 bytes',
    ],
    [
      'an opcert without the cold key',
      'opcert',
      'NodeOperationalCertificate',
      `81845820${'ab'.repeat(32)}00015840${'ab'.repeat(64)}`,
      'not a 2-element CBOR array',
    ],
    [
      'an opcert with a text counter',
      'opcert',
      'NodeOperationalCertificate',
      `82845820${'ab'.repeat(32)}61310158 40${'ab'.repeat(64)}5820${'ab'.repeat(32)}`.replace(' ', ''),
      'the counter is not an unsigned integer',
    ],
  ] as const)(
    'rejects %s, naming the exact size or structure expected',
    async (_label, file, type, cborHex, expected) => {
      await writeValidSources();
      await writeSource(file, JSON.stringify({ type, description: '', cborHex }));
      const result = await provisioner().provision(never);
      expect(result).toMatchObject({ ok: false, changed: false, reason: 'InvalidSource' });
      expect(result.message).toContain(expected);
      expect(await targetNames()).toEqual([]);
      assertNoKeyMaterial(result.message);
      expect(result.message).not.toContain('abab');
    },
  );

  it('says what is wrong with a source that cannot be read: empty, a directory, no permission', async () => {
    await writeValidSources();
    await writeSource('kes', '  \n');
    let result = await provisioner().provision(never);
    expect(result.message).toContain(
      `kes source ${options.source.kesKey} is empty (expected a cardano-cli text envelope)`,
    );
    await writeValidSources();
    await rm(options.source.vrfKey);
    await mkdir(options.source.vrfKey);
    result = await provisioner().provision(never);
    expect(result).toMatchObject({ ok: false, reason: 'SourceUnreadable' });
    expect(result.message).toContain(`vrf source ${options.source.vrfKey} is a directory, not a file`);
    const denied = Object.assign(new Error('denied'), { code: 'EACCES' });
    const failing: CredentialFileOps = {
      ...nodeCredentialFileOps,
      readFile: (path) =>
        path === options.source.opCert ? Promise.reject(denied) : nodeCredentialFileOps.readFile(path),
    };
    await rm(options.source.vrfKey, { recursive: true });
    await writeValidSources();
    result = await provisioner(failing).provision(never);
    expect(result.message).toContain(
      `opcert source ${options.source.opCert} is not readable by the sidecar (permission denied, EACCES)`,
    );
    expect(await targetNames()).toEqual([]);
  });

  it('reports every missing source and writes nothing', async () => {
    await writeSource('kes', kesAndOpcert().kes);
    const result = await provisioner().provision(never);
    expect(result).toMatchObject({ ok: false, changed: false, reason: 'SourceMissing' });
    expect(result.message).toContain(`vrf source ${options.source.vrfKey} is missing`);
    expect(result.message).toContain(`opcert source ${options.source.opCert} is missing`);
    expect(await targetNames()).toEqual([]);
  });

  it('fails without a partial set when the target directory cannot be created (its path is a regular file)', async () => {
    await writeValidSources();
    await mkdir(join(root, 'node'));
    await writeFile(targetDir, 'i am a file, not a directory');
    const p = provisioner();
    const result = await p.provision(never);
    expect(result).toMatchObject({ ok: false, changed: false, reason: 'TargetUnwritable' });
    expect(result.message).toContain(targetDir);
    expect((await p.inspect(never)).presence).toBe('none');
    expect(await counterValue(registry, 'copy', 'kes')).toBe(0);
  });

  it('rolls back the files written earlier when the third target cannot be written', async () => {
    await writeValidSources();
    await mkdir(options.target.opCert, { recursive: true }); // rename onto a directory fails, even as root
    const p = provisioner();
    const result = await p.provision(never);
    expect(result).toMatchObject({ ok: false, changed: true, reason: 'WriteFailed' });
    expect(result.message).toContain(options.target.opCert);
    expect(result.message).toContain('no partial set remains');
    expect(await targetNames()).toEqual(['node.cert']); // only the directory we put there; no keys, no temp files
    expect((await p.inspect(never)).presence).toBe('none');
    expect(await counterValue(registry, 'copy', 'kes')).toBe(1);
    expect(await counterValue(registry, 'remove', 'kes')).toBe(1);
  });

  it('rolls back to no credentials at all when a rotation fails midway (injected rename failure)', async () => {
    await writeValidSources();
    const p0 = provisioner();
    expect((await p0.provision(never)).ok).toBe(true);
    // Rotate all three, then fail the rename of the second file.
    await writeValidSources();
    const failing: CredentialFileOps = {
      ...nodeCredentialFileOps,
      rename: async (from, to) => {
        if (to === options.target.vrfKey) throw Object.assign(new Error('injected'), { code: 'EIO' });
        return nodeCredentialFileOps.rename(from, to);
      },
    };
    const p = provisioner(failing);
    const result = await p.provision(never);
    expect(result).toMatchObject({ ok: false, changed: true, reason: 'WriteFailed' });
    expect(result.message).toContain(`rename of vrf target ${options.target.vrfKey} failed (EIO)`);
    // The old opcert (never touched in this call) is removed too: no mixed or partial set remains.
    expect(await targetNames()).toEqual([]);
    expect(await p.inspect(never)).toMatchObject({ presence: 'none', upToDate: false, sourcesValid: true });
  });

  it('revokes all three targets and our stray temp files; a second revoke changes nothing', async () => {
    await writeValidSources();
    const p = provisioner();
    await p.provision(never);
    const stray = join(targetDir, '.kes.skey.cardano-forge-tmp-0123456789ab');
    const foreign = join(targetDir, 'unrelated.txt');
    await writeFile(stray, 'left by a crash');
    await writeFile(foreign, 'not ours');

    const first = await p.revoke(never);
    expect(first).toMatchObject({ ok: true, changed: true, reason: 'Revoked' });
    expect(await targetNames()).toEqual(['unrelated.txt']);
    for (const file of ['kes', 'vrf', 'opcert']) expect(await counterValue(registry, 'remove', file)).toBe(1);

    const second = await p.revoke(never);
    expect(second).toMatchObject({ ok: true, changed: false, reason: 'AlreadyAbsent' });
    expect(await counterValue(registry, 'remove', 'kes')).toBe(1);
  });

  it('reports a partial set and repairs it on the next provision', async () => {
    await writeValidSources();
    const p = provisioner();
    await p.provision(never);
    await unlink(options.target.vrfKey);
    const state = await p.inspect(never);
    expect(state).toMatchObject({ presence: 'partial', upToDate: false, reason: 'Partial' });
    expect(state.message).toContain('vrf');
    expect(await p.provision(never)).toMatchObject({ ok: true, changed: true });
    expect((await p.inspect(never)).presence).toBe('all');
    expect(await counterValue(registry, 'copy', 'vrf')).toBe(2);
    expect(await counterValue(registry, 'copy', 'kes')).toBe(1);
  });

  it('writes nothing when the signal is already aborted', async () => {
    await writeValidSources();
    const controller = new AbortController();
    controller.abort();
    expect(await provisioner().provision(controller.signal)).toMatchObject({
      ok: false,
      changed: false,
      reason: 'Aborted',
    });
    expect(await targetNames()).toEqual([]);
  });

  describe('inspect reads a file again only when its stat identity changed', () => {
    /** The real file operations, counting reads; `ageMs` makes every file look that much older. */
    function countingOps(ageMs: number) {
      const reads: string[] = [];
      const ops: CredentialFileOps = {
        ...nodeCredentialFileOps,
        readFile: (path) => {
          reads.push(path);
          return nodeCredentialFileOps.readFile(path);
        },
        stat: async (path) => {
          const facts = await nodeCredentialFileOps.stat(path);
          return { ...facts, isFile: () => facts.isFile(), changedAtMs: (facts.changedAtMs ?? 0) - ageMs };
        },
      };
      return { ops, reads };
    }

    it('an unchanged set is not read again; a rewritten source or target is', async () => {
      const sources = await writeValidSources();
      const { ops, reads } = countingOps(10_000);
      const p = provisioner(ops);
      await p.provision(never);
      const first = await p.inspect(never);
      expect(first).toMatchObject({ presence: 'all', upToDate: true, reason: 'UpToDate' });
      reads.length = 0;
      expect(await p.inspect(never)).toEqual(first);
      expect(reads).toEqual([]);

      // A target edited by hand, same length, other bytes: seen by content at once.
      const edited = sources.vrf.replace(
        /"cborHex": "5840(.)/,
        (_m, c: string) => `"cborHex": "5840${c === 'a' ? 'b' : 'a'}`,
      );
      expect(edited).not.toBe(sources.vrf);
      expect(edited.length).toBe(sources.vrf.length);
      await writeFile(options.target.vrfKey, edited);
      expect(await p.inspect(never)).toMatchObject({ presence: 'all', upToDate: false, reason: 'Outdated' });
      expect(reads).toEqual([options.target.vrfKey]);

      // A rotated KES key and certificate: read, checked as a pair, new fingerprint.
      reads.length = 0;
      const pair = kesAndOpcert(7, { counter: 4 });
      await writeSource('kes', pair.kes);
      await writeSource('opcert', pair.opcert);
      const rotated = await p.inspect(never);
      expect(rotated).toMatchObject({ sourcesValid: true, upToDate: false, reason: 'Outdated' });
      expect(rotated.sourceFingerprint).not.toBe(first.sourceFingerprint);
      expect(reads.sort()).toEqual([options.source.kesKey, options.source.opCert].sort());
    });

    it('a mismatched pair written later is refused although the earlier pair was checked', async () => {
      await writeValidSources();
      const { ops } = countingOps(10_000);
      const p = provisioner(ops);
      expect(await p.inspect(never)).toMatchObject({ sourcesValid: true });
      await writeSource('kes', kesAndOpcert().kes); // a KES key the certificate does not name
      expect(await p.inspect(never)).toMatchObject({ sourcesValid: false, reason: 'CredentialMismatch' });
    });

    it('a file changed within the last 2 s (racy) is read every time', async () => {
      await writeValidSources();
      const { ops, reads } = countingOps(0);
      const p = provisioner(ops);
      await p.provision(never);
      await p.inspect(never);
      reads.length = 0;
      await p.inspect(never);
      expect(reads).toHaveLength(6); // three sources, three targets
    });

    it('absent targets are not read at all', async () => {
      await writeValidSources();
      const { ops, reads } = countingOps(10_000);
      const p = provisioner(ops);
      expect(await p.inspect(never)).toMatchObject({ presence: 'none', reason: 'Absent' });
      expect(reads.filter((path) => path.startsWith(targetDir))).toEqual([]);
    });
  });

  it('never runs a revoke in the middle of a provision', async () => {
    await writeValidSources();
    const events: string[] = [];
    const slow: CredentialFileOps = {
      ...nodeCredentialFileOps,
      rename: async (from, to) => {
        events.push(`rename ${to}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        return nodeCredentialFileOps.rename(from, to);
      },
      unlink: async (path) => {
        events.push(`unlink ${path}`);
        return nodeCredentialFileOps.unlink(path);
      },
    };
    const p = provisioner(slow);
    const [provisioned, revoked] = await Promise.all([p.provision(never), p.revoke(never)]);
    expect(provisioned.ok).toBe(true);
    expect(revoked).toMatchObject({ ok: true, changed: true });
    const lastRename = events.findLastIndex((e) => e.startsWith('rename'));
    const firstUnlink = events.findIndex((e) => e.startsWith('unlink'));
    expect(lastRename).toBeLessThan(firstUnlink);
    expect(await targetNames()).toEqual([]);
  });
});

describe('filesCredentialsPlugin', () => {
  it('is a well-formed credential-provisioner plugin', () => {
    expect(pluginShapeProblems(filesCredentialsPlugin)).toEqual([]);
    expect(filesCredentialsPlugin.kind).toBe('credential-provisioner');
    expect(filesCredentialsPlugin.name).toBe('files');
  });

  it('accepts absolute paths and rejects relative or duplicate targets', () => {
    const good = {
      source: { kesKey: '/s/kes', vrfKey: '/s/vrf', opCert: '/s/op' },
      target: { kesKey: '/t/kes', vrfKey: '/t/vrf', opCert: '/t/op' },
    };
    expect(filesCredentialsOptionsSchema.safeParse(good).success).toBe(true);
    const relative = filesCredentialsOptionsSchema.safeParse({
      ...good,
      target: { ...good.target, kesKey: 'keys/kes' },
    });
    expect(relative.success).toBe(false);
    expect(JSON.stringify(relative.error?.issues)).toContain('absolute path');
    const duplicate = filesCredentialsOptionsSchema.safeParse({
      ...good,
      target: { ...good.target, vrfKey: '/t/kes' },
    });
    expect(duplicate.success).toBe(false);
    const sameAsSource = filesCredentialsOptionsSchema.safeParse({
      ...good,
      target: { ...good.target, opCert: '/s/op' },
    });
    expect(sameAsSource.success).toBe(false);
  });
});
