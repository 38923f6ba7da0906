// `eventrunner dashboard`: a read-only web dashboard of the pipelines in a cluster, run locally
// with the user's kubeconfig (like kubectl) or in the cluster by the chart. Prints its URL.
import { UsageError } from '../../runtime/common/errors.js';
import { helpText, parseFlags, type CommandSpec } from '../../runtime/common/flags.js';

export const dashboardCommand = {
  command: 'eventrunner dashboard',
  synopsis: '[options]',
  about: `Serves a live web dashboard of EventSources, Pipelines, queries and Sinks: the graph with
events per second, each Pipeline's rates, outcomes, latency, lag, dead letters and recent events.
It reads the Kubernetes API (resources, Events, and the pods' metrics through the API server's pod
proxy, or from Prometheus with --prometheus-url) and, with --nats-url, JetStream (streams,
consumers, the last messages). It never writes to the cluster, NATS or a database, and never reads
a Secret. Ctrl-C stops it.`,
  flags: {
    port: {
      type: 'string',
      short: 'p',
      value: 'port',
      default: '8089',
      description: 'port to listen on (0: any free port)',
    },
    address: {
      type: 'string',
      value: 'address',
      env: 'EVENTRUNNER_DASHBOARD_ADDRESS',
      default: '127.0.0.1',
      description:
        'address to listen on; 0.0.0.0 to be reachable from elsewhere (it has no login of its own)',
    },
    namespace: {
      type: 'string',
      short: 'n',
      value: 'namespace',
      env: 'EVENTRUNNER_DASHBOARD_NAMESPACE',
      description: "namespace to show (default: the kubeconfig context's namespace)",
    },
    'all-namespaces': { type: 'boolean', short: 'A', description: 'show every namespace' },
    kubeconfig: {
      type: 'string',
      value: 'file',
      description: 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)',
    },
    'nats-url': {
      type: 'string',
      value: 'url',
      env: 'NATS_URL',
      description: 'NATS to read streams, consumers and dead letters from',
    },
    'nats-credentials': {
      type: 'string',
      value: 'file',
      env: 'NATS_CREDENTIALS_FILE',
      description: 'NATS .creds file, for a NATS that requires it',
    },
    'prometheus-url': {
      type: 'string',
      value: 'url',
      env: 'EVENTRUNNER_DASHBOARD_PROMETHEUS_URL',
      description:
        'Prometheus to read rates, latency and the last 15 minutes from, instead of scraping the pods',
    },
    interval: {
      type: 'string',
      value: 'seconds',
      default: '1',
      description: 'how often to scrape and update pages',
    },
    'log-level': {
      type: 'string',
      value: 'level',
      choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      description: 'log level',
    },
  },
} as const satisfies CommandSpec;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(dashboardCommand, argv, process.env);
  if (parsed.help) {
    process.stdout.write(helpText(dashboardCommand));
    return 0;
  }
  const v = parsed.values;
  const port = Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port ${v.port}: not a port number`);
  const interval = Number(v.interval);
  if (!(interval >= 0.2 && interval <= 60))
    throw new UsageError(`--interval ${v.interval}: give seconds from 0.2 to 60`);
  const prometheusUrl = v['prometheus-url'];
  if (prometheusUrl !== undefined && !/^https?:\/\/[^/]/.test(prometheusUrl))
    throw new UsageError(`--prometheus-url ${prometheusUrl}: give an http:// or https:// URL`);
  if (v['all-namespaces'] && v.namespace)
    throw new UsageError('--namespace and --all-namespaces exclude each other');

  const [{ KubeConfig }, { createLogger }, { shutdownSignal }, { startDashboard }, { closeConnections }] =
    await Promise.all([
      import('@kubernetes/client-node'),
      import('../../runtime/common/logger.js'),
      import('../../runtime/common/signals.js'),
      import('../../runtime/dashboard/run.js'),
      import('../../runtime/internals/kube-connections.js'),
    ]);
  const log = createLogger({ name: 'eventrunner-dashboard', level: v['log-level'] });
  const kc = new KubeConfig();
  if (v.kubeconfig) kc.loadFromFile(v.kubeconfig);
  else kc.loadFromDefault();
  const namespace = v['all-namespaces']
    ? undefined
    : (v.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default');
  const signal = shutdownSignal();
  const dashboard = await startDashboard({
    kc,
    ...(namespace ? { namespace } : {}),
    ...(v['nats-url']
      ? {
          nats: {
            url: v['nats-url'],
            ...(v['nats-credentials'] ? { credentialsFile: v['nats-credentials'] } : {}),
          },
        }
      : {}),
    ...(prometheusUrl ? { prometheusUrl } : {}),
    port,
    host: v.address,
    intervalMs: interval * 1000,
    historyMs: 15 * 60_000,
    log,
    signal,
  });
  process.stdout.write(
    `eventrunner dashboard: ${dashboard.url}  (${namespace ? `namespace ${namespace}` : 'all namespaces'}; Ctrl-C stops it)\n`,
  );
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await dashboard.stop();
  closeConnections(kc);
  log.flush();
  return 0;
}
