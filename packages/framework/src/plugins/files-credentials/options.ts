import { isAbsolute } from 'node:path';
import { z } from 'zod';

const absolutePath = z
  .string()
  .min(1)
  .refine((value) => isAbsolute(value), { message: 'must be an absolute path' });

const credentialPaths = z.strictObject({
  /** KES signing key (text envelope `KesSigningKey_ed25519_kes_2^N`). */
  kesKey: absolutePath,
  /** VRF signing key (text envelope `VrfSigningKey_PraosVrf`). */
  vrfKey: absolutePath,
  /** Operational certificate (text envelope `NodeOperationalCertificate`). */
  opCert: absolutePath,
});

export const filesCredentialsOptionsSchema = z
  .strictObject({
    /** Where the keys come from (usually a Secret mount; symlinks are followed). */
    source: credentialPaths,
    /** Where cardano-node reads them (--shelley-kes-key, --shelley-vrf-key, --shelley-operational-certificate). */
    target: credentialPaths,
  })
  .superRefine((options, ctx) => {
    const targets = [options.target.kesKey, options.target.vrfKey, options.target.opCert];
    if (new Set(targets).size !== targets.length) {
      ctx.addIssue({ code: 'custom', path: ['target'], message: 'the three target paths must be distinct' });
    }
    const sources = new Set([options.source.kesKey, options.source.vrfKey, options.source.opCert]);
    for (const target of targets) {
      if (sources.has(target)) {
        ctx.addIssue({ code: 'custom', path: ['target'], message: `target ${target} is also a source path` });
      }
    }
  });

export type CredentialPaths = z.output<typeof credentialPaths>;
export type FilesCredentialsOptions = z.output<typeof filesCredentialsOptionsSchema>;
