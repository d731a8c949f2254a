/**
 * Built-in credential provisioner plugin `files`: copies KES/VRF/opcert text envelopes from a
 * Secret mount to the node's key paths, atomically and all-or-nothing.
 */
import { definePlugin } from '../../plugin/define.js';
import { createFilesCredentialProvisioner } from './provisioner.js';
import { filesCredentialsOptionsSchema } from './options.js';

export const filesCredentialsPlugin = definePlugin({
  kind: 'credential-provisioner',
  name: 'files',
  version: '0.1.0',
  description:
    'Copies the KES key, VRF key and operational certificate from source files to the node key paths.',
  optionsSchema: filesCredentialsOptionsSchema,
  create: (context, options) =>
    createFilesCredentialProvisioner({ logger: context.logger, registry: context.metrics.registry }, options),
});

export { createFilesCredentialProvisioner, CREDENTIAL_OPERATIONS_METRIC } from './provisioner.js';
export type { FilesCredentialProvisionerDeps } from './provisioner.js';
export { filesCredentialsOptionsSchema } from './options.js';
export type { CredentialPaths, FilesCredentialsOptions } from './options.js';
export { checkEnvelope, CREDENTIAL_FILES, EXPECTED_ENVELOPE_TYPE } from './envelope.js';
export type { CredentialFile, EnvelopeCheck, EnvelopeProblem } from './envelope.js';
export { nodeCredentialFileOps } from './file-ops.js';
export type { CredentialFileOps, FileFacts } from './file-ops.js';
