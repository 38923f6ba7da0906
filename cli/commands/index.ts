// The subcommand table: one registerCommand() per subcommand; each module loads only when it runs.
import { registerCommand } from '../main.js';

export { registerCommand };

registerCommand('validate', {
  summary: 'check EventSource, Pipeline and Sink manifests offline (schema and rules)',
  load: () => import('./validate.js'),
});

registerCommand('test', {
  summary: "run a Pipeline's rules offline on events and compare with expectations",
  load: () => import('./test.js'),
});

registerCommand('operator', {
  summary: 'reconcile EventSources, Pipelines and Sinks into streams, consumers and workloads',
  load: () => import('./operator.js'),
});

registerCommand('ingest', {
  summary: 'accept events over HTTP and gRPC and publish them as CloudEvents to JetStream',
  load: () => import('./ingest.js'),
});

registerCommand('process', {
  summary: "run a Pipeline's processor: JetStream → rules → sinks, acking after every write",
  load: () => import('./process.js'),
});
