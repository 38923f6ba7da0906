// `eventrunner ingest --config <file>`: the program an EventSource's ingest pods run. Accepts
// events over HTTP and gRPC and publishes them to the EventSource's JetStream stream; SIGTERM drains.
import { helpText, parseFlags, type CommandSpec } from '../../runtime/common/flags.js';

export const ingestCommand = {
  command: 'eventrunner ingest',
  about: `Accepts events over HTTP (POST /events) and gRPC (eventrunner.ingest.v1.IngestService) and
publishes them as CloudEvents to a JetStream stream. The config file (YAML or JSON) is described in
runtime/ingest/README.md. SIGTERM drains and exits.`,
  flags: {
    config: {
      type: 'string',
      short: 'c',
      value: 'file',
      required: true,
      description: 'ingest configuration file',
    },
    'log-level': {
      type: 'string',
      value: 'level',
      choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      description: "overrides the config's logLevel",
    },
  },
} as const satisfies CommandSpec;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(ingestCommand, argv);
  if (parsed.help) {
    process.stdout.write(helpText(ingestCommand));
    return 0;
  }
  const { config: configFile, 'log-level': level } = parsed.values;
  // The servers and the NATS client load only once the flags are good.
  const [{ runService }, { startIngest }, { loadIngestConfig }] = await Promise.all([
    import('../../runtime/common/service.js'),
    import('../../runtime/ingest/app.js'),
    import('../../runtime/ingest/config.js'),
  ]);
  return runService({
    command: 'eventrunner ingest',
    name: 'ingest',
    load: () => loadIngestConfig(configFile),
    start: startIngest,
    identity: (c) => ({ stream: c.stream.name }),
    logLevel: level,
  });
}
