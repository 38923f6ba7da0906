// Sink credentials come from files (a mounted Secret), read once at start-up. The values are
// never logged; errors name the file, not its content.
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../common/errors.js';
import type { SinkCredentials } from './types.js';

/** usernameFile and passwordFile come together or not at all; tokenFile and caFile may come alone. */
export interface CredentialFiles {
  usernameFile?: string;
  passwordFile?: string;
  /** A webhook Sink's bearer token. */
  tokenFile?: string;
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

/** Whether the text holds at least one PEM certificate. */
export function isPemBundle(pem: string): boolean {
  return PEM_CERTIFICATE.test(pem);
}

/**
 * Checks that a CA file holds at least one PEM certificate: Node's TLS ignores text that is not
 * PEM, so a wrong key (a DER file, a private key) would otherwise surface only as "certificate
 * not trusted" at the first connection.
 */
export function checkCaBundle(pem: string, path: string): string {
  if (!isPemBundle(pem))
    throw new ConfigError(
      `the CA file ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----): ` +
        'tls.caSecretRef must name a Secret key with the PEM CA bundle that signed the server certificate',
    );
  return pem;
}

const readOptional = (path: string | undefined, what: string): Promise<string | undefined> =>
  path ? readSecretFile(path, what) : Promise.resolve(undefined);

export async function readCredentials(files: CredentialFiles): Promise<SinkCredentials> {
  const [username, password, token, ca] = await Promise.all([
    readOptional(files.usernameFile, 'username'),
    readOptional(files.passwordFile, 'password'),
    readOptional(files.tokenFile, 'token'),
    readOptional(files.caFile, 'CA').then((pem) =>
      pem === undefined ? undefined : checkCaBundle(pem, files.caFile!),
    ),
  ]);
  return {
    ...(username !== undefined ? { username, password: password ?? '' } : {}),
    ...(token !== undefined ? { token } : {}),
    ...(ca !== undefined ? { ca } : {}),
  };
}
