// Certificates for the stack's TLS endpoints, made with openssl on every start: a CA of the run and
// a serving certificate for 127.0.0.1/localhost signed by it (ECDSA P-256). Tests that need a CA
// the servers do not trust make one more with `makeCa`.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { join } from 'node:path';

export interface ServerTls {
  /** PEM of the CA that signed the serving certificate; what a client trusts. */
  caFile: string;
  certFile: string;
  keyFile: string;
}

// P-256 keys: made in milliseconds (RSA 2048 takes a good part of a second per stack start) and
// understood by Node, Java's JSSE and the OpenSSL ClickHouse links.
const EC_CURVE = 'ec_paramgen_curve:prime256v1';

/** Runs openssl in `dir`; its stderr becomes the error. */
export function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr}; is openssl installed?`, { cause: err });
  }
}

/** openssl req arguments for a new P-256 key `keyFile` and a request (or certificate) for `subject`. */
const newEcKey = (keyFile: string, subject: string) =>
  `req -newkey ec -pkeyopt ${EC_CURVE} -nodes -keyout ${keyFile} -subj ${subject}`.split(' ');

/** A self-signed CA `<name>.crt`/`<name>.key` in `dir`; returns the certificate's path. */
export function makeCa(dir: string, name: string, subject = `/CN=eventrunner-test-${name}`): string {
  openssl(
    [
      ...newEcKey(`${name}.key`, subject),
      '-x509',
      ...'-days 30 -sha256 -addext basicConstraints=critical,CA:TRUE'.split(' '),
      ...['-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', `${name}.crt`],
    ],
    dir,
  );
  return join(dir, `${name}.crt`);
}

/** A CA and a serving certificate for 127.0.0.1 and localhost signed by it, in `dir`. */
export function makeServerTls(dir: string, server: string): ServerTls {
  const caFile = makeCa(dir, 'ca', `/CN=eventrunner-test-${server}-ca`);
  openssl([...newEcKey('server.key', `/CN=${server}`), '-new', '-out', 'server.csr'], dir);
  writeFileSync(
    join(dir, 'server.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' +
      'subjectAltName=IP:127.0.0.1,DNS:localhost\n',
  );
  openssl(
    'x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 30 -sha256 -extfile server.ext'.split(
      ' ',
    ),
    dir,
  );
  return { caFile, certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') };
}

/** The key and certificate as a PKCS#12 keystore (what Cassandra's JSSE reads); returns its path. */
export function pkcs12Keystore(dir: string, tls: ServerTls, password: string): string {
  openssl(
    [
      ...['pkcs12', '-export', '-in', tls.certFile, '-inkey', tls.keyFile, '-name', 'server'],
      ...['-passout', `pass:${password}`, '-out', 'server.p12'],
    ],
    dir,
  );
  return join(dir, 'server.p12');
}

/** Completes a TLS handshake with host:port trusting only `ca`; rejects on any TLS or socket error. */
export async function tlsHandshake(
  host: string,
  port: number,
  ca: Buffer,
  timeoutMs = 2000,
): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, ca, timeout: timeoutMs }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('timeout', () => socket.destroy(new Error(`TLS handshake with ${host}:${port} timed out`)));
    socket.on('error', reject);
  });
}
