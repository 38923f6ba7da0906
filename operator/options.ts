// The operator's own configuration, from flags and the environment the chart sets. Parsed once at
// start-up and passed down; nothing else reads process.env.
import { parseFlags, type CommandSpec, type Env, type FlagValues } from '../runtime/common/flags.js';
import { isLogLevel, LOG_LEVELS, type LogLevel } from '../api/schema/config/common.js';
import { UsageError } from '../runtime/common/errors.js';

export interface OperatorOptions {
  /** Image the operator puts into the ingest and processor workloads it creates. */
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /** NATS the operator manages streams on, and the URL workloads connect to. */
  natsUrl: string;
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
  };
}

/** Flags and environment in, options out. `--help` is the CLI's to answer, so here it is a usage error. */
export function parseOperatorOptions(argv: readonly string[], env: Env): OperatorOptions {
  const parsed = parseFlags(operatorCommand, argv, env);
  if (parsed.help)
    throw new UsageError('--help is answered by eventrunner operator, not turned into options');
  return operatorOptions(parsed.values, env);
}
