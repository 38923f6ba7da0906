// `eventrunner query-worker --config <file>`: what a Pipeline's query-worker pods run. Reads the
// config once, serves /healthz, /readyz and /metrics, owns partitions until SIGTERM, then writes
// last checkpoints, releases its partitions and exits.
import { helpText, parseFlags, type CommandSpec } from '../../runtime/common/flags.js';

export const queryWorkerCommand = {
  command: 'eventrunner query-worker',
  about: `Runs a Pipeline's query worker: takes partitions of its queries through leases in NATS KV,
reads their inputs from the shuffle stream, runs the query engine and writes results to the
queries' outputs, checkpointing state to NATS after the results were accepted. Serves /healthz,
/readyz and /metrics; SIGTERM checkpoints, releases partitions and exits.`,
  flags: {
    config: {
      type: 'string',
      short: 'c',
      value: 'file',
      required: true,
      description: 'query worker configuration file, as the operator renders it',
    },
  },
} as const satisfies CommandSpec;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(queryWorkerCommand, argv);
  if (parsed.help) {
    process.stdout.write(helpText(queryWorkerCommand));
    return 0;
  }
  const args = parsed.values;
  const [{ runService }, { loadWorkerConfig }, { startQueryWorker }] = await Promise.all([
    import('../../runtime/common/service.js'),
    import('../../runtime/query-worker/config.js'),
    import('../../runtime/query-worker/worker.js'),
  ]);
  return runService({
    command: 'eventrunner query-worker',
    name: 'query-worker',
    load: () => loadWorkerConfig(args.config),
    start: startQueryWorker,
    identity: (c) => ({ pipeline: `${c.pipeline.namespace}/${c.pipeline.name}`, worker: c.workerId }),
  });
}
