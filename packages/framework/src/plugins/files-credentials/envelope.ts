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

export type EnvelopeProblem = 'NotJson' | 'NotAnEnvelope' | 'WrongType' | 'BadCborHex';

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
  let parsed: unknown;
  try {
    parsed = JSON.parse(content.toString('utf8'));
  } catch {
    return { valid: false, problem: 'NotJson', detail: 'is not JSON' };
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
  return { valid: true, type: envelope.type };
}
