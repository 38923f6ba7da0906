// The operator's own configuration, from flags and the environment the chart sets. Parsed once at
// start-up and passed down; nothing else reads process.env.
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
  logLevel: string;
}

const flagNames = {
  '--image': 'image',
  '--image-pull-policy': 'imagePullPolicy',
  '--nats-url': 'natsUrl',
  '--watch-namespace': 'watchNamespace',
  '--leader-elect': 'leaderElect',
  '--leader-election-namespace': 'leNamespace',
  '--leader-election-name': 'leName',
  '--ops-port': 'opsPort',
  '--resync': 'resync',
  '--concurrency': 'concurrency',
  '--log-level': 'logLevel',
} as const;

export function parseOperatorOptions(argv: string[], env: NodeJS.ProcessEnv): OperatorOptions {
  const v: Partial<Record<(typeof flagNames)[keyof typeof flagNames], string>> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const key = flagNames[flag as keyof typeof flagNames];
    if (!key) throw new UsageError(`unknown flag ${flag}; known flags: ${Object.keys(flagNames).join(', ')}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    v[key] = value;
  }
  const image = v.image ?? env.EVENTRUNNER_IMAGE;
  if (!image)
    throw new UsageError(
      '--image (or EVENTRUNNER_IMAGE) is required: the image ingest and processor pods run',
    );
  const natsUrl = v.natsUrl ?? env.NATS_URL;
  if (!natsUrl) throw new UsageError('--nats-url (or NATS_URL) is required');
  const pullPolicy = v.imagePullPolicy ?? env.EVENTRUNNER_IMAGE_PULL_POLICY ?? 'IfNotPresent';
  if (!['Always', 'IfNotPresent', 'Never'].includes(pullPolicy)) {
    throw new UsageError(`--image-pull-policy must be Always, IfNotPresent or Never, not ${pullPolicy}`);
  }
  const int = (name: string, text: string | undefined, dflt: number) => {
    if (text === undefined) return dflt;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 0)
      throw new UsageError(`${name} must be a non-negative integer, not ${text}`);
    return n;
  };
  const podNamespace = env.POD_NAMESPACE ?? 'default';
  return {
    image,
    imagePullPolicy: pullPolicy as OperatorOptions['imagePullPolicy'],
    natsUrl,
    watchNamespace: v.watchNamespace ?? env.WATCH_NAMESPACE ?? '',
    leaderElection: {
      enabled: (v.leaderElect ?? env.LEADER_ELECT ?? 'true') !== 'false',
      namespace: v.leNamespace ?? podNamespace,
      name: v.leName ?? 'eventrunner-operator',
      identity: env.POD_NAME ?? `${env.HOSTNAME ?? 'operator'}-${process.pid}`,
    },
    opsPort: int('--ops-port', v.opsPort ?? env.OPS_PORT, 8081),
    resyncMs: int('--resync', v.resync, 60) * 1000,
    concurrency: int('--concurrency', v.concurrency, 8) || 1,
    logLevel: v.logLevel ?? env.LOG_LEVEL ?? 'info',
  };
}
