export {
  checkCredentialPair,
  CredentialFormatError,
  kesVerificationKeyOf,
  opCertSignatureValid,
  parseOperationalCertificate,
  type OperationalCertificate,
  type PairCheck,
  verificationKeyFingerprint,
} from './opcert.js';
export { kesExpiry, kesGenesisFor, KNOWN_KES_GENESIS, type KesExpiry, type KesGenesis } from './expiry.js';
export { createKesMonitor, KES_METRIC_NAMES, type KesMonitor, type KesReport } from './monitor.js';
