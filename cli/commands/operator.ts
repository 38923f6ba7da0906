// `eventrunner operator [flags]`: reconciles EventSources, Pipelines and Sinks in the cluster of
// $KUBECONFIG (or the pod's ServiceAccount).
import { operatorCommand, operatorOptions } from '../../operator/options.js';
import { helpText, parseFlags } from '../../runtime/common/flags.js';

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(operatorCommand, argv, process.env);
  if (parsed.help) {
    process.stdout.write(helpText(operatorCommand));
    return 0;
  }
  const options = operatorOptions(parsed.values, process.env);
  // The Kubernetes client and the controllers load only once the flags are good, so --help and
  // usage errors answer at once.
  const [
    { closeConnections },
    { createLogger },
    { shutdownSignal },
    { loadKubeConfig, runOperator },
    { startOperatorTracing },
    { isConfigError },
  ] = await Promise.all([
    import('../../runtime/internals/kube-connections.js'),
    import('../../runtime/common/logger.js'),
    import('../../runtime/common/signals.js'),
    import('../../operator/run.js'),
    import('../../operator/tracing.js'),
    import('../../runtime/common/errors.js'),
  ]);
  const log = createLogger({ name: 'eventrunner-operator', level: options.logLevel });
  const signal = shutdownSignal();
  let lost = false;
  const kc = loadKubeConfig();
  // Reconcile spans when OTEL_EXPORTER_OTLP_ENDPOINT (and the other OTEL_* variables) say so.
  let tracing;
  try {
    tracing = await startOperatorTracing(process.env, kc.getCurrentCluster()?.server, log);
  } catch (err) {
    if (!isConfigError(err)) throw err;
    process.stderr.write(`eventrunner operator: ${err.message}\n`);
    return 1;
  }
  const operator = await runOperator(
    kc,
    options,
    log,
    () => {
      lost = true;
      log.error('Leadership lost; exiting so that only the leader acts');
      process.kill(process.pid, 'SIGTERM');
    },
    tracing?.reconciles,
  );
  log.info({ opsPort: operator.opsPort, leaderElection: options.leaderElection.enabled }, 'Operator started');
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  log.info('Shutting down');
  await operator.stop();
  await tracing?.shutdown();
  // Keep-alive connections to the API server would otherwise hold the process open.
  closeConnections(kc);
  log.flush();
  return lost ? 1 : 0;
}
