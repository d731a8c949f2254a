// Throwaway PKI for one control plane, generated with openssl (the envtest TinyCA equivalent):
// one CA signs the serving certificate and the admin client certificate; a separate RSA key pair
// signs service-account tokens. Lifetime is short on purpose: these never outlive a test session.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly apiserverCert: string;
  readonly apiserverKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
}

const VALID_DAYS = '7';

async function openssl(cwd: string, args: readonly string[]): Promise<void> {
  await run('openssl', [...args], { cwd });
}

/** A self-signed EC CA as ca.key / ca.crt in dir (also used by other tests that need TLS). */
export async function createCa(dir: string, subject: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await openssl(dir, [
    'req',
    '-x509',
    '-new',
    '-nodes',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    VALID_DAYS,
    '-subj',
    subject,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
  ]);
}

/** An EC key <name>.key and a certificate <name>.crt signed by the CA in dir, with the given X.509 extensions. */
export async function signLeaf(
  dir: string,
  name: string,
  subject: string,
  extensions: string,
): Promise<void> {
  await openssl(dir, [
    'req',
    '-new',
    '-nodes',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  ]);
  await writeFile(join(dir, `${name}.ext`), extensions);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    VALID_DAYS,
    '-sha256',
    '-out',
    `${name}.crt`,
    '-extfile',
    `${name}.ext`,
  ]);
  await rm(join(dir, `${name}.csr`));
  await rm(join(dir, `${name}.ext`));
}

export async function generatePki(dir: string): Promise<Pki> {
  await createCa(dir, '/O=cardano-forge-test/CN=cardano-forge-test-ca');
  // Go's TLS ignores the CN: the SANs are what the client verifies.
  await signLeaf(
    dir,
    'apiserver',
    '/O=cardano-forge-test/CN=localhost',
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      '',
    ].join('\n'),
  );
  // O=system:masters bypasses RBAC: the tests act as cluster admin.
  await signLeaf(
    dir,
    'admin',
    '/O=system:masters/CN=admin',
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=clientAuth',
      '',
    ].join('\n'),
  );
  await openssl(dir, ['genrsa', '-out', 'sa.key', '2048']);
  await openssl(dir, ['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    apiserverCert: join(dir, 'apiserver.crt'),
    apiserverKey: join(dir, 'apiserver.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPub: join(dir, 'sa.pub'),
  };
}

export interface ClientTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export async function loadAdminTls(pki: Pki): Promise<ClientTls> {
  const [ca, cert, key] = await Promise.all([
    readFile(pki.caCert, 'utf8'),
    readFile(pki.adminCert, 'utf8'),
    readFile(pki.adminKey, 'utf8'),
  ]);
  return { ca, cert, key };
}

export function renderKubeconfig(name: string, server: string, tls: ClientTls): string {
  const b64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(tls.ca)}`,
    'users:',
    `- name: ${name}-admin`,
    '  user:',
    `    client-certificate-data: ${b64(tls.cert)}`,
    `    client-key-data: ${b64(tls.key)}`,
    'contexts:',
    `- name: ${name}`,
    '  context:',
    `    cluster: ${name}`,
    `    user: ${name}-admin`,
    '    namespace: default',
    `current-context: ${name}`,
    '',
  ].join('\n');
}
