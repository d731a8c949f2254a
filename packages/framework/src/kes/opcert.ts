/**
 * The operational certificate and KES signing key as cardano-cli writes them (text envelopes).
 *
 * CDDL (cardano-ledger, Babbage/Conway): operational_cert = [hot_vkey: bytes .size 32,
 * sequence_number: uint, kes_period: uint, sigma: bytes .size 64]; the node.cert file holds
 * [operational_cert, cold_vkey: bytes .size 32]. Errors name the file and what is wrong, never
 * any of its bytes (a KES key is a secret).
 */
import { createPublicKey, verify } from 'node:crypto';
import { blake2b } from '@noble/hashes/blake2.js';
import { decode } from 'cborg';

export interface OperationalCertificate {
  /** The KES verification key this certificate delegates to. */
  readonly kesVerificationKey: Uint8Array;
  /** The issue counter (`sequence_number`); the chain rejects a counter that goes backwards. */
  readonly counter: number;
  /** The KES period the certificate starts at (`kes_period`). */
  readonly kesPeriodStart: number;
  /** The cold key's Ed25519 signature over (hot_vkey ‖ counter ‖ kes_period). */
  readonly signature: Uint8Array;
  readonly coldVerificationKey: Uint8Array;
}

export class CredentialFormatError extends Error {
  override readonly name = 'CredentialFormatError';
}

interface TextEnvelope {
  readonly type: string;
  readonly cborHex: string;
}

function parseEnvelope(text: string, what: string, expectedType: RegExp, label: string): Uint8Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse messages quote the input: never pass them on.
    throw new CredentialFormatError(`${what} is not JSON (expected a cardano-cli text envelope)`);
  }
  const envelope = parsed as Partial<TextEnvelope> | null;
  if (typeof envelope !== 'object' || envelope === null || typeof envelope.type !== 'string')
    throw new CredentialFormatError(`${what} is not a text envelope (no string "type" field)`);
  if (!expectedType.test(envelope.type))
    throw new CredentialFormatError(
      `${what} has type ${JSON.stringify(envelope.type.slice(0, 64))}, expected "${label}"`,
    );
  if (typeof envelope.cborHex !== 'string' || !/^(?:[0-9a-fA-F]{2})+$/.test(envelope.cborHex))
    throw new CredentialFormatError(
      `${what} has no valid "cborHex" field (expected an even-length hex string)`,
    );
  return Uint8Array.from(Buffer.from(envelope.cborHex, 'hex'));
}

function decodeCbor(bytes: Uint8Array, what: string): unknown {
  try {
    // Strict: no trailing bytes, no indefinite lengths are needed by these structures.
    return decode(bytes);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/[0-9a-f]{16,}/gi, '…') : 'undecodable';
    throw new CredentialFormatError(`${what}: cborHex is not valid CBOR (${reason})`);
  }
}

function bytesOfSize(value: unknown, size: number, what: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== size)
    throw new CredentialFormatError(`${what}: expected ${size} bytes`);
  return value;
}

function unsigned(value: unknown, what: string): number {
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
    throw new CredentialFormatError(`${what}: expected an unsigned integer below 2^53`);
  return n;
}

export const OPCERT_ENVELOPE_TYPE = 'NodeOperationalCertificate';

/** Parses node.cert; throws CredentialFormatError naming what is wrong. */
export function parseOperationalCertificate(
  text: string,
  what = 'operational certificate',
): OperationalCertificate {
  const bytes = parseEnvelope(text, what, /^NodeOperationalCertificate$/, OPCERT_ENVELOPE_TYPE);
  const decoded = decodeCbor(bytes, what);
  if (
    !Array.isArray(decoded) ||
    decoded.length !== 2 ||
    !Array.isArray(decoded[0]) ||
    decoded[0].length !== 4
  )
    throw new CredentialFormatError(
      `${what}: expected CBOR [[kes_vkey, counter, kes_period, sigma], cold_vkey]`,
    );
  const [body, cold] = decoded as [unknown[], unknown];
  return {
    kesVerificationKey: bytesOfSize(body[0], 32, `${what}: kes_vkey`),
    counter: unsigned(body[1], `${what}: counter`),
    kesPeriodStart: unsigned(body[2], `${what}: kes_period`),
    signature: bytesOfSize(body[3], 64, `${what}: sigma`),
    coldVerificationKey: bytesOfSize(cold, 32, `${what}: cold_vkey`),
  };
}

/** The bytes the cold key signs: hot_vkey ‖ counter (u64 BE) ‖ kes_period (u64 BE) (OCertSignable). */
export function opCertSignable(
  kesVerificationKey: Uint8Array,
  counter: number,
  kesPeriod: number,
): Uint8Array {
  const out = Buffer.alloc(kesVerificationKey.length + 16);
  out.set(kesVerificationKey, 0);
  out.writeBigUInt64BE(BigInt(counter), kesVerificationKey.length);
  out.writeBigUInt64BE(BigInt(kesPeriod), kesVerificationKey.length + 8);
  return out;
}

/** Whether the cold key's signature over the certificate body is valid (Ed25519). */
export function opCertSignatureValid(cert: OperationalCertificate): boolean {
  const key = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(cert.coldVerificationKey).toString('base64url') },
    format: 'jwk',
  });
  return verify(
    null,
    opCertSignable(cert.kesVerificationKey, cert.counter, cert.kesPeriodStart),
    key,
    cert.signature,
  );
}

/** Sum-composition KES depth → raw signing key size: 32 + depth × (seed 32 + two vkeys 64). */
export function sumKesSigningKeySize(depth: number): number {
  return 32 + depth * 96;
}

/**
 * The verification key of a KES signing key (cardano-cli `KesSigningKey_ed25519_kes_2^<depth>`).
 * A SumKES key serialises as (inner key ‖ seed ‖ vk0 ‖ vk1), and its verification key is
 * Blake2b-256(vk0 ‖ vk1): the last 64 bytes, which do not change as the key evolves.
 */
export function kesVerificationKeyOf(text: string, what = 'KES signing key'): Uint8Array {
  const bytes = parseEnvelope(
    text,
    what,
    /^KesSigningKey_ed25519_kes_2\^\d+$/,
    'KesSigningKey_ed25519_kes_2^<depth>',
  );
  const type = (JSON.parse(text) as TextEnvelope).type;
  const depth = Number(type.slice(type.indexOf('^') + 1));
  const raw = decodeCbor(bytes, what);
  if (!(raw instanceof Uint8Array))
    throw new CredentialFormatError(`${what}: cborHex is not a CBOR byte string`);
  const expected = sumKesSigningKeySize(depth);
  if (depth < 1 || raw.length !== expected)
    throw new CredentialFormatError(
      `${what}: a depth-${depth} Sum KES key has ${expected} bytes, this one has ${raw.length}`,
    );
  return blake2b(raw.subarray(raw.length - 64), { dkLen: 32 });
}

export type PairCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'BadSignature'; readonly message: string }
  | {
      readonly ok: false;
      readonly reason: 'KesKeyMismatch';
      readonly message: string;
      /** Short fingerprints of the two KES VERIFICATION keys (public), to tell them apart in a report. */
      readonly certificateKesKey: string;
      readonly signingKeyKesKey: string;
    };

const VKEY_FINGERPRINT_HEX_CHARS = 8;

/** The first bytes of a verification key (public material), enough to tell two keys apart. */
export function verificationKeyFingerprint(vkey: Uint8Array): string {
  return Buffer.from(vkey).toString('hex').slice(0, VKEY_FINGERPRINT_HEX_CHARS);
}

/** Whether a KES signing key and an operational certificate belong together, and the cert is signed. */
export function checkCredentialPair(
  kesKeyText: string,
  cert: OperationalCertificate,
  what = 'KES signing key',
): PairCheck {
  if (!opCertSignatureValid(cert))
    return {
      ok: false,
      reason: 'BadSignature',
      message: 'the operational certificate is not signed by its cold key (corrupt or edited certificate)',
    };
  const vkey = kesVerificationKeyOf(kesKeyText, what);
  if (!Buffer.from(vkey).equals(Buffer.from(cert.kesVerificationKey)))
    return {
      ok: false,
      reason: 'KesKeyMismatch',
      message:
        'the KES signing key does not belong to the operational certificate (its verification key differs from the one the certificate names); issue a new certificate for this KES key or deploy the matching key',
      certificateKesKey: verificationKeyFingerprint(cert.kesVerificationKey),
      signingKeyKesKey: verificationKeyFingerprint(vkey),
    };
  return { ok: true };
}
