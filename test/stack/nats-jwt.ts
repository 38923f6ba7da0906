// The NATS decentralized-JWT setup a secured installation has, made up for a test server: an
// operator, its system account, and one application account with JetStream and a signing key.
// The signing key's seed is what the eventrunner operator mints pod users with; the admin user's
// credentials are what the operator itself connects with.
import { Algorithms, encodeAccount, encodeOperator, encodeUser, fmtCreds } from '@nats-io/jwt';
import { createAccount, createOperator, createUser } from '@nats-io/nkeys';

export interface NatsJwtSetup {
  /** nats-server configuration lines: operator, system account, in-memory resolver preloaded. */
  config: string;
  /** Public key of the application account. */
  account: string;
  /** Seed of the application account's signing key (SA…). */
  signingKeySeed: string;
  /** Credentials of a user of the application account allowed everything. */
  adminCreds: string;
  /** Credentials of a user with exactly these permissions, signed with the signing key. */
  userCreds(name: string, perms: { pub: string[]; sub: string[] }): Promise<string>;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

export async function natsJwtSetup(): Promise<NatsJwtSetup> {
  const operator = createOperator();
  const system = createAccount();
  const app = createAccount();
  const signing = createAccount();
  const algorithm = Algorithms.v2;
  const operatorJwt = await encodeOperator('eventrunner-test', operator, {}, { algorithm });
  const systemJwt = await encodeAccount('SYS', system, {}, { algorithm, signer: operator });
  const appJwt = await encodeAccount(
    'EVENTRUNNER',
    app,
    {
      signing_keys: [signing.getPublicKey()],
      limits: {
        subs: -1,
        data: -1,
        payload: -1,
        imports: -1,
        exports: -1,
        wildcards: true,
        conn: -1,
        leaf: -1,
        mem_storage: -1,
        disk_storage: -1,
        streams: -1,
        consumer: -1,
      },
    },
    { algorithm, signer: operator },
  );
  const admin = createUser();
  const adminJwt = await encodeUser('admin', admin, app, {}, { algorithm });
  const config = [
    `operator: ${operatorJwt}`,
    `system_account: ${system.getPublicKey()}`,
    'resolver: MEMORY',
    'resolver_preload: {',
    `  ${system.getPublicKey()}: ${systemJwt}`,
    `  ${app.getPublicKey()}: ${appJwt}`,
    '}',
  ].join('\n');
  return {
    config,
    account: app.getPublicKey(),
    signingKeySeed: text(signing.getSeed()),
    adminCreds: text(fmtCreds(adminJwt, admin)),
    async userCreds(name, perms) {
      const user = createUser();
      const jwt = await encodeUser(
        name,
        user,
        signing,
        { issuer_account: app.getPublicKey(), pub: { allow: perms.pub }, sub: { allow: perms.sub } },
        { algorithm },
      );
      return text(fmtCreds(jwt, user));
    },
  };
}
