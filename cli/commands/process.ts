// `eventrunner process --config <file>`: what a Pipeline's pods run. Reads the config once,
// serves /healthz, /readyz and /metrics, processes until SIGTERM, then drains and exits.
import { helpText, parseFlags, type CommandSpec } from '../../runtime/common/flags.js';

export const processCommand = {
  command: 'eventrunner process',
  about: `Runs a Pipeline's processor: reads the config once, consumes the Pipeline's JetStream consumer,
evaluates its rules and writes each event to the outputs they route it to, acking after every
write. Serves /healthz, /readyz and /metrics; SIGTERM drains and exits.`,
  flags: {
    config: {
      type: 'string',
      short: 'c',
      value: 'file',
      required: true,
      description: 'processor configuration file, as the operator renders it',
    },
  },
} as const satisfies CommandSpec;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(processCommand, argv);
  if (parsed.help) {
    process.stdout.write(helpText(processCommand));
    return 0;
  }
  const args = parsed.values;
  // The sinks' and NATS clients load only once the flags are good.
  const [{ runService }, { loadConfig }, { startProcessor }] = await Promise.all([
    import('../../runtime/common/service.js'),
    import('../../runtime/process/config.js'),
    import('../../runtime/process/processor.js'),
  ]);
  return runService({
    command: 'eventrunner process',
    name: 'processor',
    load: () => loadConfig(args.config),
    start: startProcessor,
    identity: (c) => ({ pipeline: `${c.pipeline.namespace}/${c.pipeline.name}` }),
  });
}
