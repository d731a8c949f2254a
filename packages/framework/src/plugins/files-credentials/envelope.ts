/**
 * Validation of cardano-cli "text envelope" files (JSON `{ type, description, cborHex }`).
 * Problems are described by file and kind only: no message ever contains the file's content,
 * not even a fragment (JSON.parse error messages quote the input, so they are never passed on).
 */

export type CredentialFile = 'kes' | 'vrf' | 'opcert';
export const CREDENTIAL_FILES: readonly CredentialFile[] = ['kes', 'vrf', 'opcert'];

/** The envelope type each credential must carry. */
export const EXPECTED_ENVELOPE_TYPE: Readonly<
  Record<CredentialFile, { readonly pattern: RegExp; readonly label: string }>
> = {
  kes: { pattern: /^KesSigningKey_ed25519_kes_2\^\d+$/, label: 'KesSigningKey_ed25519_kes_2^<depth>' },
  vrf: { pattern: /^VrfSigningKey_PraosVrf$/, label: 'VrfSigningKey_PraosVrf' },
  opcert: { pattern: /^NodeOperationalCertificate$/, label: 'NodeOperationalCertificate' },
};

export type EnvelopeProblem = 'NotJson' | 'NotAnEnvelope' | 'WrongType' | 'BadCborHex' | 'WrongKeyLength';

export type EnvelopeCheck =
  | { readonly valid: true; readonly type: string }
  | { readonly valid: false; readonly problem: EnvelopeProblem; readonly detail: string };

const HEX = /^[0-9a-fA-F]+$/;
/** The `type` field is public metadata, but it is still untrusted input: show a bounded amount. */
const MAX_SHOWN_TYPE_CHARS = 64;

function describeType(value: string): string {
  const shown = value.length > MAX_SHOWN_TYPE_CHARS ? `${value.slice(0, MAX_SHOWN_TYPE_CHARS)}…` : value;
  return JSON.stringify(shown);
}

/** Checks that `content` is a text envelope of the type expected for `file`. */
export function checkEnvelope(file: CredentialFile, content: Buffer): EnvelopeCheck {
  if (content.toString('utf8').trim() === '')
    return { valid: false, problem: 'NotJson', detail: 'is empty (expected a cardano-cli text envelope)' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(content.toString('utf8'));
  } catch {
    return { valid: false, problem: 'NotJson', detail: 'is not JSON (expected a cardano-cli text envelope)' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return {
      valid: false,
      problem: 'NotAnEnvelope',
      detail: 'is not a JSON object (expected a text envelope)',
    };
  }
  const envelope = parsed as Record<string, unknown>;
  if (typeof envelope.type !== 'string') {
    return { valid: false, problem: 'NotAnEnvelope', detail: 'has no string "type" field' };
  }
  const expected = EXPECTED_ENVELOPE_TYPE[file];
  if (!expected.pattern.test(envelope.type)) {
    return {
      valid: false,
      problem: 'WrongType',
      detail: `has wrong type ${describeType(envelope.type)}, expected "${expected.label}"`,
    };
  }
  const cborHex = envelope.cborHex;
  if (typeof cborHex !== 'string') {
    return { valid: false, problem: 'BadCborHex', detail: 'has bad cborHex (missing or not a string)' };
  }
  if (cborHex.length === 0) return { valid: false, problem: 'BadCborHex', detail: 'has bad cborHex (empty)' };
  if (cborHex.length % 2 !== 0)
    return { valid: false, problem: 'BadCborHex', detail: 'has bad cborHex (odd length)' };
  if (!HEX.test(cborHex))
    return { valid: false, problem: 'BadCborHex', detail: 'has bad cborHex (not hexadecimal)' };
  const shape = checkPayload(file, envelope.type, Buffer.from(cborHex, 'hex'));
  if (shape !== null) return { valid: false, problem: 'WrongKeyLength', detail: shape };
  return { valid: true, type: envelope.type };
}

/*
 * Exact payload shapes (sizes from cardano-base's KES/VRF classes and the ledger CDDL; cross-checked
 * against pallas-crypto `Sum6Kes::SIZE` = 608 and libsodium VRF secret keys of 64 bytes):
 * - KES `KesSigningKey_ed25519_kes_2^d`: a CBOR byte string of the Sum KES signing key. An Ed25519
 *   seed is 32 bytes and each sum level adds a 32-byte seed and two 32-byte verification keys, so
 *   32 + 96·d bytes: 608 for Sum6 (mainnet), cborHex `590260…`.
 * - VRF `VrfSigningKey_PraosVrf`: a CBOR byte string of 64 bytes (secret seed + public key), `5840…`.
 * - `NodeOperationalCertificate`: the array [[kes_vkey (bytes 32), counter (uint), kes_period
 *   (uint), sigma (bytes 64)], cold_vkey (bytes 32)] (operational_cert in the ledger CDDL, followed
 *   by the issuer's cold verification key as cardano-cli writes it).
 * Only the CBOR heads are read; no value is ever shown.
 */
const KES_SEED_BYTES = 32;
const KES_BYTES_PER_SUM_LEVEL = 96;
const VRF_SIGNING_KEY_BYTES = 64;
const ED25519_VKEY_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;

interface CborHead {
  readonly major: number;
  /** The length (byte string, array) or the value (uint). */
  readonly value: number;
  readonly next: number;
}

/** Reads one CBOR head at `at` (definite lengths only, as cardano-cli writes them). */
function readHead(bytes: Buffer, at: number): CborHead | null {
  if (at >= bytes.length) return null;
  const initial = bytes[at]!;
  const major = initial >> 5;
  const info = initial & 0x1f;
  if (info < 24) return { major, value: info, next: at + 1 };
  const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
  if (size === 0 || at + 1 + size > bytes.length) return null;
  const value = size === 8 ? Number(bytes.readBigUInt64BE(at + 1)) : bytes.readUIntBE(at + 1, size);
  return { major, value, next: at + 1 + size };
}

const MAJOR_UINT = 0;
const MAJOR_BYTES = 2;
const MAJOR_ARRAY = 4;

/** A byte string of exactly `length` bytes at `at`; the offset after it, or null. */
function expectBytes(bytes: Buffer, at: number, length: number): number | null {
  const head = readHead(bytes, at);
  if (head === null || head.major !== MAJOR_BYTES || head.value !== length) return null;
  return head.next + length <= bytes.length ? head.next + length : null;
}

function describeBytes(bytes: Buffer): string {
  const head = readHead(bytes, 0);
  if (head === null) return 'not CBOR';
  if (head.major !== MAJOR_BYTES) return 'not a CBOR byte string';
  return `${head.value} key bytes${head.next + head.value !== bytes.length ? ', with a length that does not match the data' : ''}`;
}

/** null when the payload has the exact shape of its type; else what is wrong. */
function checkPayload(file: CredentialFile, type: string, bytes: Buffer): string | null {
  if (file === 'kes' || file === 'vrf') {
    const depth = file === 'kes' ? Number(/\^(\d+)$/.exec(type)?.[1]) : 0;
    const expected =
      file === 'kes' ? KES_SEED_BYTES + KES_BYTES_PER_SUM_LEVEL * depth : VRF_SIGNING_KEY_BYTES;
    if (expectBytes(bytes, 0, expected) === bytes.length) return null;
    return `has the wrong key length for ${type}: expected a CBOR byte string of ${expected} bytes, found ${describeBytes(bytes)} (regenerate it with cardano-cli)`;
  }
  // The operational certificate.
  const wrong = (what: string) =>
    `is not a valid operational certificate: ${what}; expected [[kes_vkey (32 bytes), counter, kes_period, sigma (64 bytes)], cold_vkey (32 bytes)] (issue it again with cardano-cli node issue-op-cert)`;
  const outer = readHead(bytes, 0);
  if (outer === null || outer.major !== MAJOR_ARRAY || outer.value !== 2)
    return wrong('not a 2-element CBOR array');
  const inner = readHead(bytes, outer.next);
  if (inner === null || inner.major !== MAJOR_ARRAY || inner.value !== 4)
    return wrong('its first element is not a 4-element array');
  let at = expectBytes(bytes, inner.next, ED25519_VKEY_BYTES);
  if (at === null) return wrong('the KES verification key is not 32 bytes');
  for (const field of ['counter', 'kes_period']) {
    const head = readHead(bytes, at);
    if (head === null || head.major !== MAJOR_UINT) return wrong(`the ${field} is not an unsigned integer`);
    at = head.next;
  }
  at = expectBytes(bytes, at, ED25519_SIGNATURE_BYTES);
  if (at === null) return wrong('the signature (sigma) is not 64 bytes');
  at = expectBytes(bytes, at, ED25519_VKEY_BYTES);
  if (at === null) return wrong('the cold verification key is not 32 bytes');
  if (at !== bytes.length) return wrong('it has trailing bytes');
  return null;
}
