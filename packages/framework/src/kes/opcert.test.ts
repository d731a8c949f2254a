import { describe, expect, it } from 'vitest';
import { encode } from 'cborg';
import {
  PUBLISHED_KES_SKEY,
  PUBLISHED_KES_VKEY_HEX,
  PUBLISHED_OPCERT,
  issueOperationalCertificate,
} from './fixtures.js';
import {
  CredentialFormatError,
  checkCredentialPair,
  kesVerificationKeyOf,
  opCertSignatureValid,
  parseOperationalCertificate,
} from './opcert.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const envelope = (type: string, cbor: Uint8Array | string) =>
  JSON.stringify({ type, description: '', cborHex: typeof cbor === 'string' ? cbor : hex(cbor) });

describe('operational certificate', () => {
  it('parses the published cardano-cli certificate', () => {
    const cert = parseOperationalCertificate(PUBLISHED_OPCERT);
    expect(cert.counter).toBe(0);
    expect(cert.kesPeriodStart).toBe(0);
    expect(hex(cert.kesVerificationKey)).toBe(PUBLISHED_KES_VKEY_HEX);
    expect(hex(cert.coldVerificationKey)).toBe(
      '5a3d778e76741a009e29d23093cfe046131808d34d7c864967b515e98dfc3583',
    );
    expect(opCertSignatureValid(cert)).toBe(true);
  });

  it('parses a certificate issued with a counter and a KES period', () => {
    const kesVerificationKey = Buffer.from(PUBLISHED_KES_VKEY_HEX, 'hex');
    const text = issueOperationalCertificate({ kesVerificationKey, counter: 7, kesPeriod: 1021 });
    const cert = parseOperationalCertificate(text);
    expect(cert.counter).toBe(7);
    expect(cert.kesPeriodStart).toBe(1021);
    expect(opCertSignatureValid(cert)).toBe(true);
  });

  it('detects a certificate whose body was edited after signing', () => {
    const cert = parseOperationalCertificate(PUBLISHED_OPCERT);
    expect(opCertSignatureValid({ ...cert, kesPeriodStart: 5 })).toBe(false);
    expect(checkCredentialPair(PUBLISHED_KES_SKEY, { ...cert, counter: 1 })).toMatchObject({
      ok: false,
      reason: 'BadSignature',
    });
  });

  it.each([
    ['not JSON', 'nope{', /is not JSON/],
    ['no type', '{"cborHex":"00"}', /no string "type"/],
    ['wrong type', envelope('VrfSigningKey_PraosVRF', '00'), /expected "NodeOperationalCertificate"/],
    ['odd hex', envelope('NodeOperationalCertificate', 'abc'), /valid "cborHex"/],
    ['not CBOR', envelope('NodeOperationalCertificate', 'ff'), /not valid CBOR/],
    ['wrong shape', envelope('NodeOperationalCertificate', encode([1, 2, 3])), /expected CBOR \[\[kes_vkey/],
    [
      'short hot key',
      envelope(
        'NodeOperationalCertificate',
        encode([[new Uint8Array(31), 0, 0, new Uint8Array(64)], new Uint8Array(32)]),
      ),
      /kes_vkey: expected 32 bytes/,
    ],
    [
      'negative counter',
      envelope(
        'NodeOperationalCertificate',
        encode([[new Uint8Array(32), -1, 0, new Uint8Array(64)], new Uint8Array(32)]),
      ),
      /counter: expected an unsigned integer/,
    ],
  ])('rejects %s with a clear error', (_label, text, pattern) => {
    expect(() => parseOperationalCertificate(text, 'node.cert')).toThrow(CredentialFormatError);
    expect(() => parseOperationalCertificate(text, 'node.cert')).toThrow(pattern);
  });
});

describe('KES signing key', () => {
  it('derives the verification key of the published Sum6 key', () => {
    expect(hex(kesVerificationKeyOf(PUBLISHED_KES_SKEY))).toBe(PUBLISHED_KES_VKEY_HEX);
  });

  it('accepts the published key and certificate as a pair', () => {
    expect(checkCredentialPair(PUBLISHED_KES_SKEY, parseOperationalCertificate(PUBLISHED_OPCERT))).toEqual({
      ok: true,
    });
  });

  it('refuses a certificate issued for another KES key', () => {
    const other = issueOperationalCertificate({
      kesVerificationKey: new Uint8Array(32).fill(7),
      counter: 1,
      kesPeriod: 0,
    });
    const result = checkCredentialPair(PUBLISHED_KES_SKEY, parseOperationalCertificate(other));
    expect(result).toMatchObject({ ok: false, reason: 'KesKeyMismatch' });
    if (!result.ok) expect(result.message).toMatch(/does not belong to the operational certificate/);
  });

  it('rejects a truncated key without quoting it', () => {
    const cborHex = JSON.parse(PUBLISHED_KES_SKEY).cborHex as string;
    const truncated = envelope(
      'KesSigningKey_ed25519_kes_2^6',
      hex(encode(Buffer.from(cborHex, 'hex').subarray(4, 500))),
    );
    let message = '';
    try {
      kesVerificationKeyOf(truncated);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/depth-6 Sum KES key has 608 bytes, this one has 496/);
    expect(message).not.toContain(cborHex.slice(8, 24));
  });
});
