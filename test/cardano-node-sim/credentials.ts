// Cardano text envelopes for the three block-producer credentials, as the simulator validates them.
// Erasable TypeScript only: this file is loaded by Node directly (type stripping) inside the simulator,
// which is why the framework's kes module comes from the build (dist), as test/dst does.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { kesExpiry, kesGenesisFor } from '../../packages/framework/dist/kes/expiry.js';
import { issueOperationalCertificate } from '../../packages/framework/dist/kes/fixtures.js';
import { kesVerificationKeyOf } from '../../packages/framework/dist/kes/opcert.js';
import { slotReferenceFor } from '../../packages/framework/dist/node/slot-clock.js';

export const KES_KEY_TYPE = 'KesSigningKey_ed25519_kes_2^6';
export const VRF_KEY_TYPE = 'VrfSigningKey_PraosVrf';
export const OPCERT_TYPE = 'NodeOperationalCertificate';

export type CredentialKind = 'kesKey' | 'vrfKey' | 'opCert';

export const ENVELOPE_TYPE_BY_KIND: Readonly<Record<CredentialKind, string>> = {
  kesKey: KES_KEY_TYPE,
  vrfKey: VRF_KEY_TYPE,
  opCert: OPCERT_TYPE,
};

export interface CredentialPaths {
  kesKey: string;
  vrfKey: string;
  opCert: string;
}

export interface TextEnvelope {
  type: string;
  description: string;
  cborHex: string;
}

export type CredentialCheck =
  | { valid: true }
  | {
      valid: false;
      reason: 'missing' | 'unreadable' | 'not-json' | 'bad-envelope' | 'wrong-type';
      message: string;
    };

const HEX = /^(?:[0-9a-fA-F]{2})+$/;

/** Validates one envelope's text; the file system is not touched so it can be unit tested. */
export function checkTextEnvelope(text: string, expectedType: string): CredentialCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { valid: false, reason: 'not-json', message: `not JSON: ${(error as Error).message}` };
  }
  if (typeof parsed !== 'object' || parsed === null) {
    return { valid: false, reason: 'bad-envelope', message: 'envelope is not a JSON object' };
  }
  const envelope = parsed as Partial<Record<keyof TextEnvelope, unknown>>;
  if (
    typeof envelope.type !== 'string' ||
    typeof envelope.description !== 'string' ||
    typeof envelope.cborHex !== 'string'
  ) {
    return {
      valid: false,
      reason: 'bad-envelope',
      message: 'envelope needs string fields type, description, cborHex',
    };
  }
  if (!HEX.test(envelope.cborHex)) {
    return { valid: false, reason: 'bad-envelope', message: 'cborHex is empty or not hex' };
  }
  if (envelope.type !== expectedType) {
    return {
      valid: false,
      reason: 'wrong-type',
      message: `type is ${JSON.stringify(envelope.type)}, expected ${JSON.stringify(expectedType)}`,
    };
  }
  return { valid: true };
}

export async function checkCredentialFile(path: string, expectedType: string): Promise<CredentialCheck> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { valid: false, reason: 'missing', message: `${path} does not exist` };
    return { valid: false, reason: 'unreadable', message: `${path}: ${(error as Error).message}` };
  }
  const check = checkTextEnvelope(text, expectedType);
  return check.valid ? check : { valid: false, reason: check.reason, message: `${path}: ${check.message}` };
}

/** All three must be valid for the node to forge; the first failure explains why it does not. */
export async function checkCredentialSet(paths: CredentialPaths): Promise<CredentialCheck> {
  const kinds: CredentialKind[] = ['kesKey', 'vrfKey', 'opCert'];
  const checks = await Promise.all(
    kinds.map((kind) => checkCredentialFile(paths[kind], ENVELOPE_TYPE_BY_KIND[kind])),
  );
  const failures = checks.filter((check) => !check.valid);
  if (failures.length === 0) return { valid: true };
  const first = failures[0] as Extract<CredentialCheck, { valid: false }>;
  const message = failures.map((failure) => (failure.valid ? '' : failure.message)).join('; ');
  return { valid: false, reason: first.reason, message };
}

/**
 * Random key material in the exact CBOR shape of its type, as the sidecar validates it: KES Sum6 a
 * 608-byte string, VRF a 64-byte string, the opcert [[kes_vkey, counter, kes_period, sigma], cold_vkey].
 */
function fakeCborHex(type: string): string {
  const bytes = (n: number) => randomBytes(n).toString('hex');
  if (type === KES_KEY_TYPE) return `590260${bytes(608)}`;
  if (type === OPCERT_TYPE) return `82845820${bytes(32)}00005840${bytes(64)}5820${bytes(32)}`;
  return `5840${bytes(64)}`;
}

export function fakeEnvelope(type: string, description: string): TextEnvelope {
  return { type, description, cborHex: fakeCborHex(type) };
}

export interface KesAndOpCert {
  /** The KES signing key envelope (random Sum6 key material), as JSON text. */
  kesKey: string;
  /** An operational certificate issued for that key by a fresh cold key, as JSON text. */
  opCert: string;
}

/**
 * The KES period a network is at now, from the framework's built-in genesis values and slot
 * reference. The test pods run preprod (test/support/forge-pod.ts): a certificate issued for this
 * period is valid for the network's full KES lifetime, so no KES-expiry alert fires in the lab.
 */
export function currentKesPeriod(network = 'preprod', nowMs = Date.now()): number {
  const genesis = kesGenesisFor(network);
  const slotReference = slotReferenceFor(network);
  if (genesis === null || slotReference === null)
    throw new Error(`no built-in KES genesis values or slot reference for network "${network}"`);
  return kesExpiry({ kesPeriodStart: 0, genesis, slotReference, nowMs, warnBeforeSeconds: 0 })
    .currentKesPeriod;
}

/**
 * A KES signing key with a real operational certificate for it: the certificate names the key's
 * verification key (derived by the framework's kes module, as the sidecar checks it) and is signed
 * by a freshly generated Ed25519 cold key, the way `cardano-cli node issue-op-cert` does. By
 * default counter 0 and the current preprod KES period.
 */
export function freshKesAndOpCert(
  options: { description?: string; counter?: number; kesPeriod?: number } = {},
): KesAndOpCert {
  const kesKey = JSON.stringify(
    fakeEnvelope(KES_KEY_TYPE, options.description ?? 'KES Signing Key'),
    null,
    4,
  );
  const opCert = issueOperationalCertificate({
    kesVerificationKey: kesVerificationKeyOf(kesKey),
    counter: options.counter ?? 0,
    kesPeriod: options.kesPeriod ?? currentKesPeriod(),
  });
  return { kesKey, opCert };
}

/**
 * Writes a valid credential set into dir; each call gets fresh random key material. The KES key
 * and the opcert belong together (see freshKesAndOpCert); the VRF key is random bytes of its size.
 */
export async function writeFakeCredentials(dir: string): Promise<CredentialPaths> {
  await mkdir(dir, { recursive: true });
  const paths: CredentialPaths = {
    kesKey: join(dir, 'kes.skey'),
    vrfKey: join(dir, 'vrf.skey'),
    opCert: join(dir, 'node.cert'),
  };
  const pair = freshKesAndOpCert();
  await Promise.all([
    writeFile(paths.kesKey, pair.kesKey),
    writeFile(paths.vrfKey, JSON.stringify(fakeEnvelope(VRF_KEY_TYPE, 'VRF Signing Key'), null, 4)),
    writeFile(paths.opCert, pair.opCert),
  ]);
  return paths;
}
