// The subcommand table. Each command's module loads only when that command runs; this module
// imports none of them, nor the CLI entry, so the entry depends on the table and not the reverse.

/** What every cli/commands/<name>.ts exports: run with the arguments after the command name. */
export interface CommandModule {
  /** Resolves to the process exit status; throws UsageError for bad flags (status 2). */
  run(argv: string[]): Promise<number>;
}

export interface CommandEntry {
  name: string;
  /** One line for the top-level help. */
  summary: string;
  load: () => Promise<CommandModule>;
}

/** In the order the top-level help lists them. */
export const commands: readonly CommandEntry[] = [
  {
    name: 'validate',
    summary: 'check EventSource, Pipeline and Sink manifests offline (schema and rules)',
    load: () => import('./validate.js'),
  },
  {
    name: 'describe',
    summary:
      "print an EventSource's OpenAPI 3.1 and AsyncAPI 3.0 documents (describe eventsource -f es.yaml)",
    load: () => import('./describe.js'),
  },
  {
    name: 'test',
    summary: "run a Pipeline's rules offline on events and compare with expectations",
    load: () => import('./test.js'),
  },
  {
    name: 'operator',
    summary: 'reconcile EventSources, Pipelines and Sinks into streams, consumers and workloads',
    load: () => import('./operator.js'),
  },
  {
    name: 'ingest',
    summary: 'accept events over HTTP and gRPC and publish them as CloudEvents to JetStream',
    load: () => import('./ingest.js'),
  },
  {
    name: 'process',
    summary: "run a Pipeline's processor: JetStream → rules → sinks, acking after every write",
    load: () => import('./process.js'),
  },
  {
    name: 'query-worker',
    summary: "run a Pipeline's query worker: shuffle stream → windows and aggregations → sinks",
    load: () => import('./query-worker.js'),
  },
  {
    name: 'dlq',
    summary: "list and show a Pipeline's dead letters with their reasons (dlq list|show)",
    load: () => import('./dlq.js'),
  },
  {
    name: 'replay',
    summary: "replay a Pipeline's events from a time or sequence, following its progress",
    load: () => import('./replay.js'),
  },
  {
    name: 'redrive',
    summary: "send a Pipeline's dead letters back through it, following its progress",
    load: () => import('./redrive.js'),
  },
  {
    name: 'replay-worker',
    summary: "carry out a Replay with a Pipeline's processor config (run by the operator)",
    load: () => import('./replay-worker.js'),
  },
  {
    name: 'dashboard',
    summary: 'serve a read-only live web dashboard of the pipelines (graph, rates, lag, dead letters)',
    load: () => import('./dashboard.js'),
  },
];
