// The operator's own configuration, from flags and the environment the chart sets. Parsed once at
// start-up and passed down; nothing else reads process.env.
import { parseFlags, type CommandSpec, type Env, type FlagValues } from '../runtime/common/flags.js';
import { isLogLevel, LOG_LEVELS, type LogLevel } from '../api/schema/config/common.js';
import { UsageError } from '../runtime/common/errors.js';
import type { NatsConnectionInput } from '../api/generated/types.js';

/** The files of the operator's own NATS authentication (see runtime/common/nats.ts). */
export type NatsAuthFiles = Omit<NatsConnectionInput, 'url' | 'name' | 'inboxPrefix'>;

export interface OperatorOptions {
  /** Image the operator puts into the ingest and processor workloads it creates. */
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /** NATS the operator manages streams on, and the URL workloads connect to. */
  natsUrl: string;
  /** How the operator itself authenticates to NATS: files of a mounted Secret (none: no auth). */
  natsAuth?: NatsAuthFiles;
  /**
   * Minting a NATS user per workload (decentralized JWT auth): the account signing key's seed
   * file, the account (when the key is a signing key, not the account's own), the users' lifetime.
   * Absent: workloads connect without credentials.
   */
  natsUsers?: { signingKeyFile: string; account?: string; ttlMs: number };
  /**
   * The PEM of --nats-ca-file, read when the operator starts: workloads get it in their config
   * ConfigMap, so they trust the same NATS server certificate.
   */
  natsCaPem?: string;
  /** Namespace to watch; empty watches every namespace. */
  watchNamespace: string;
  leaderElection: { enabled: boolean; namespace: string; name: string; identity: string };
  opsPort: number;
  /** Base period of the jittered resync that repairs drift in NATS and refreshes lag. */
  resyncMs: number;
  /** Reconciles running at once. */
  concurrency: number;
  logLevel: LogLevel;
  /** Use the library fast paths (runtime/internals) in the operator and in the processors it renders. */
  fastPaths: boolean;
  /**
   * The operator's own OTEL_* tracing variables (set by the chart's `tracing` values), passed on to
   * the workloads it renders (builders/common.ts otelEnv); none when tracing is off.
   */
  otel?: Readonly<Record<string, string>>;
}

/** The operator's flags; each falls back to the environment variable the chart sets, then a default. */
export const operatorCommand = {
  command: 'eventrunner operator',
  about: `Reconciles EventSources, Pipelines and Sinks into JetStream streams and consumers and the ingest
and processor workloads, in the cluster of $KUBECONFIG (or the pod's ServiceAccount). Serves
/healthz, /readyz and /metrics on the ops port; SIGTERM stops it. The Lease holder's identity is
$POD_NAME (or $HOSTNAME and the process id).`,
  flags: {
    image: {
      type: 'string',
      value: 'image',
      env: 'EVENTRUNNER_IMAGE',
      required: true,
      description: 'the image ingest and processor pods run',
    },
    'image-pull-policy': {
      type: 'string',
      value: 'policy',
      env: 'EVENTRUNNER_IMAGE_PULL_POLICY',
      choices: ['Always', 'IfNotPresent', 'Never'],
      default: 'IfNotPresent',
      description: 'pull policy of the ingest and processor pods',
    },
    'nats-url': {
      type: 'string',
      value: 'url',
      env: 'NATS_URL',
      required: true,
      description: 'NATS the operator manages streams on, and the URL workloads connect to',
    },
    'nats-credentials-file': {
      type: 'string',
      value: 'file',
      env: 'NATS_CREDENTIALS_FILE',
      description: 'a .creds file (user JWT and seed) the operator authenticates to NATS with',
    },
    'nats-nkey-seed-file': {
      type: 'string',
      value: 'file',
      env: 'NATS_NKEY_SEED_FILE',
      description: 'a file holding the nkey seed the operator authenticates to NATS with',
    },
    'nats-token-file': {
      type: 'string',
      value: 'file',
      env: 'NATS_TOKEN_FILE',
      description: 'a file holding the token the operator authenticates to NATS with',
    },
    'nats-user-file': {
      type: 'string',
      value: 'file',
      env: 'NATS_USER_FILE',
      description:
        'a file holding the user name the operator authenticates to NATS with (with --nats-password-file)',
    },
    'nats-password-file': {
      type: 'string',
      value: 'file',
      env: 'NATS_PASSWORD_FILE',
      description: 'a file holding the password of --nats-user-file',
    },
    'nats-ca-file': {
      type: 'string',
      value: 'file',
      env: 'NATS_CA_FILE',
      description: 'PEM CA bundle of the NATS server certificate (tls:// URLs), for the operator',
    },
    'nats-account-signing-key-file': {
      type: 'string',
      value: 'file',
      env: 'NATS_ACCOUNT_SIGNING_KEY_FILE',
      description:
        'seed (SA…) of the NATS account signing key: each ingest, processor and query worker gets its own user, allowed only its own subjects, streams and buckets',
    },
    'nats-account': {
      type: 'string',
      value: 'public-key',
      env: 'NATS_ACCOUNT',
      description: 'the account (A…) the signing key signs for; default: the key itself is the account key',
    },
    'nats-credentials-ttl': {
      type: 'string',
      value: 'seconds',
      env: 'NATS_CREDENTIALS_TTL',
      default: '86400',
      description: 'lifetime of minted users; new credentials are minted when a third of it is left',
    },
    'watch-namespace': {
      type: 'string',
      value: 'namespace',
      env: 'WATCH_NAMESPACE',
      allowEmpty: true,
      description: 'namespace to watch; empty watches every namespace',
    },
    'leader-elect': {
      type: 'string',
      value: 'true|false',
      env: 'LEADER_ELECT',
      default: 'true',
      description: 'take part in leader election; anything but false turns it on',
    },
    'fast-paths': {
      type: 'string',
      value: 'true|false',
      env: 'EVENTRUNNER_FAST_PATHS',
      choices: ['true', 'false'],
      default: 'true',
      description:
        'use the measured fast paths into library internals here and in processors; false: public APIs only',
    },
    'leader-election-namespace': {
      type: 'string',
      value: 'namespace',
      env: 'POD_NAMESPACE',
      default: 'default',
      description: 'namespace of the leader-election Lease',
    },
    'leader-election-name': {
      type: 'string',
      value: 'name',
      default: 'eventrunner-operator',
      description: 'name of the leader-election Lease',
    },
    'ops-port': {
      type: 'string',
      value: 'port',
      env: 'OPS_PORT',
      default: '8081',
      description: 'port of /healthz, /readyz and /metrics',
    },
    resync: {
      type: 'string',
      value: 'seconds',
      default: '60',
      description: 'base period of the jittered resync that repairs drift in NATS and refreshes lag',
    },
    concurrency: {
      type: 'string',
      value: 'n',
      default: '8',
      description: 'reconciles running at once (0 means 1)',
    },
    'log-level': {
      type: 'string',
      value: 'level',
      env: 'LOG_LEVEL',
      choices: LOG_LEVELS,
      default: 'info',
      description: 'least severe level logged',
    },
  },
} as const satisfies CommandSpec;

function logLevelOf(text: string): LogLevel {
  if (!isLogLevel(text)) throw new UsageError(`--log-level: ${text} is not one of ${LOG_LEVELS.join(', ')}`);
  return text;
}

function nonNegativeInteger(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`${flag} must be a non-negative integer, not ${text}`);
  return n;
}

/** Options from parsed flags (environment and defaults already applied); `env` gives the identity. */
export function operatorOptions(values: FlagValues<typeof operatorCommand.flags>, env: Env): OperatorOptions {
  return {
    image: values.image,
    imagePullPolicy: values['image-pull-policy'],
    natsUrl: values['nats-url'],
    ...natsAuthOf(values),
    ...(values['nats-account-signing-key-file']
      ? {
          natsUsers: {
            signingKeyFile: values['nats-account-signing-key-file'],
            ...(values['nats-account'] ? { account: values['nats-account'] } : {}),
            ttlMs: nonNegativeInteger('--nats-credentials-ttl', values['nats-credentials-ttl']) * 1000,
          },
        }
      : {}),
    watchNamespace: values['watch-namespace'] ?? '',
    leaderElection: {
      enabled: values['leader-elect'] !== 'false',
      namespace: values['leader-election-namespace'],
      name: values['leader-election-name'],
      identity: env.POD_NAME ?? `${env.HOSTNAME ?? 'operator'}-${process.pid}`,
    },
    opsPort: nonNegativeInteger('--ops-port', values['ops-port']),
    resyncMs: nonNegativeInteger('--resync', values.resync) * 1000,
    concurrency: nonNegativeInteger('--concurrency', values.concurrency) || 1,
    logLevel: logLevelOf(values['log-level']),
    fastPaths: values['fast-paths'] !== 'false',
    ...otelOption(otelVariables(env)),
  };
}

/** No field at all while tracing is off: the options (and what is rendered from them) stay as they were. */
const otelOption = (otel: Record<string, string>) => (Object.keys(otel).length ? { otel } : {});

/** OTEL_* variables passed on to workloads; export headers stay here (they may carry credentials). */
export function otelVariables(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(env).sort()) {
    const value = env[key];
    if (!key.startsWith('OTEL_') || value === undefined || value === '') continue;
    if (key === 'OTEL_EXPORTER_OTLP_HEADERS' || key === 'OTEL_EXPORTER_OTLP_TRACES_HEADERS') continue;
    out[key] = value;
  }
  return out;
}

function natsAuthOf(values: FlagValues<typeof operatorCommand.flags>): { natsAuth?: NatsAuthFiles } {
  const auth: NatsAuthFiles = {
    ...(values['nats-credentials-file'] ? { credentialsFile: values['nats-credentials-file'] } : {}),
    ...(values['nats-nkey-seed-file'] ? { nkeySeedFile: values['nats-nkey-seed-file'] } : {}),
    ...(values['nats-token-file'] ? { tokenFile: values['nats-token-file'] } : {}),
    ...(values['nats-user-file'] ? { userFile: values['nats-user-file'] } : {}),
    ...(values['nats-password-file'] ? { passwordFile: values['nats-password-file'] } : {}),
    ...(values['nats-ca-file'] ? { caFile: values['nats-ca-file'] } : {}),
  };
  return Object.keys(auth).length ? { natsAuth: auth } : {};
}

/** Flags and environment in, options out. `--help` is the CLI's to answer, so here it is a usage error. */
export function parseOperatorOptions(argv: readonly string[], env: Env): OperatorOptions {
  const parsed = parseFlags(operatorCommand, argv, env);
  if (parsed.help)
    throw new UsageError('--help is answered by eventrunner operator, not turned into options');
  return operatorOptions(parsed.values, env);
}
