// Schema pieces every pod config shares: how a pod connects to NATS (every authentication NATS
// offers, each read from a file of a mounted Secret), its operations listener and its log level.
import type { KindDefinition } from '../common.js';
import { bool, enumOf, int, obj, str, type Schema } from '../dsl.js';

/** A path inside a mounted Secret or ConfigMap; the file's content is never logged. */
export function file(description: string): Schema {
  return str(description, { minLength: 1, maxLength: 4096 });
}

export const natsConnection = obj(
  'NatsConnection',
  'How the pod connects to NATS. At most one of credentialsFile, nkeySeedFile, tokenFile and userFile/passwordFile.',
  {
    url: str('Server URL(s), comma-separated: nats://host:4222 or tls://host:4222.', {
      minLength: 1,
      maxLength: 2048,
      pattern: '^(nats|tls)://[^\\s]+$',
      $hint: 'a nats:// or tls:// URL (comma-separated for several servers)',
    }),
    name: str('Connection name the server shows in its monitoring.', { minLength: 1, maxLength: 256 }),
    credentialsFile: file('A NATS .creds file (user JWT and nkey seed) for decentralized JWT auth.'),
    nkeySeedFile: file('A file holding an nkey seed (SU...), for nkey authentication.'),
    tokenFile: file('A file holding an authentication token.'),
    userFile: file('A file holding the user name; needs passwordFile.'),
    passwordFile: file('A file holding the password; needs userFile.'),
    caFile: file('PEM CA bundle that signs the server certificate (tls:// URLs); default: the system roots.'),
    inboxPrefix: str(
      'Prefix of the subjects replies arrive on (default _INBOX). A user whose permissions allow only its own inbox needs it.',
      { minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' },
    ),
  },
  { required: ['url'] },
);

export function opsListener(name: string): Schema {
  return obj(
    name,
    'The operations listener: /healthz, /readyz and /metrics.',
    {
      host: str('Address to bind; default: every interface.', { minLength: 1, maxLength: 256 }),
      port: int('Port of the listener; 0 picks a free one.', { minimum: 0, maximum: 65535, default: 8081 }),
    },
    { default: {} },
  );
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The log level a text names, e.g. from a flag or an environment variable. */
export function isLogLevel(text: string): text is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(text);
}

export const logLevel = enumOf('Least severe log level written.', [...LOG_LEVELS], { default: 'info' });

export const fastPaths = bool(
  'Use the measured fast paths into library internals (runtime/internals); false uses only public APIs.',
  { default: true },
);

/** A CRD sub-schema a pod config embeds, whose CEL rules (offline twins) also apply there. */
export interface Embed {
  /** Where the sub-schema sits in the config; '[]' stands for every item of an array. */
  at: string[];
  kind: KindDefinition;
  /** Where the same sub-schema sits in the kind's object, e.g. ['spec'] or ['spec', 'delivery']. */
  from: string[];
}

/** One pod config: its schema (with the TypeScript name on the root), what the pod does with it. */
export interface ConfigDefinition {
  schema: Schema & { $name: string };
  embeds: Embed[];
}
