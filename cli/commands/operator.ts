// `eventrunner operator [flags]`: reconciles EventSources, Pipelines and Sinks in the cluster of
// $KUBECONFIG (or the pod's ServiceAccount).
import { closeConnections } from '../../runtime/common/kube-connections.js';
import { createLogger } from '../../runtime/common/logger.js';
import { shutdownSignal } from '../../runtime/common/signals.js';
import { parseOperatorOptions } from '../../operator/options.js';
import { loadKubeConfig, runOperator } from '../../operator/run.js';

export async function run(argv: string[]): Promise<number> {
  const options = parseOperatorOptions(argv, process.env);
  const log = createLogger({ name: 'eventrunner-operator', level: options.logLevel });
  const signal = shutdownSignal();
  let lost = false;
  const kc = loadKubeConfig();
  const operator = await runOperator(kc, options, log, () => {
    lost = true;
    log.error('Leadership lost; exiting so that only the leader acts');
    process.kill(process.pid, 'SIGTERM');
  });
  log.info({ opsPort: operator.opsPort, leaderElection: options.leaderElection.enabled }, 'Operator started');
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  log.info('Shutting down');
  await operator.stop();
  // Keep-alive connections to the API server would otherwise hold the process open.
  closeConnections(kc);
  log.flush();
  return lost ? 1 : 0;
}
