// Sink credentials come from files (a mounted Secret), read once at start-up. The values are
// never logged; errors name the file, not its content.
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../common/errors.js';
import type { SinkCredentials } from './types.js';

export interface CredentialFiles {
  usernameFile: string;
  passwordFile: string;
  /** PEM CA bundle for TLS. */
  caFile?: string;
}

async function readSecretFile(path: string, what: string): Promise<string> {
  try {
    // A trailing newline is an artifact of how the Secret was created, never part of the value.
    return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    throw new ConfigError(
      `cannot read the ${what} file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      {
        cause: err,
      },
    );
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/**
 * Checks that a CA file holds at least one PEM certificate: Node's TLS ignores text that is not
 * PEM, so a wrong key (a DER file, a private key) would otherwise surface only as "certificate
 * not trusted" at the first connection.
 */
export function checkCaBundle(pem: string, path: string): string {
  if (!PEM_CERTIFICATE.test(pem))
    throw new ConfigError(
      `the CA file ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----): ` +
        'tls.caSecretRef must name a Secret key with the PEM CA bundle that signed the server certificate',
    );
  return pem;
}

export async function readCredentials(files: CredentialFiles): Promise<SinkCredentials> {
  const [username, password, ca] = await Promise.all([
    readSecretFile(files.usernameFile, 'username'),
    readSecretFile(files.passwordFile, 'password'),
    files.caFile
      ? readSecretFile(files.caFile, 'CA').then((pem) => checkCaBundle(pem, files.caFile!))
      : Promise.resolve(undefined),
  ]);
  return { username, password, ...(ca !== undefined ? { ca } : {}) };
}
