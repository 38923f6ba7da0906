// `eventrunner ingest --config <file>`: the program an EventSource's ingest pods run. Accepts
// events over HTTP and gRPC and publishes them to the EventSource's JetStream stream; SIGTERM drains.
import { parseArgs } from 'node:util';
import { UsageError } from '../../runtime/common/errors.js';
import { createLogger } from '../../runtime/common/logger.js';
import { shutdownSignal } from '../../runtime/common/signals.js';
import { startIngest } from '../../runtime/ingest/app.js';
import { loadIngestConfig } from '../../runtime/ingest/config.js';

const USAGE = `Usage: eventrunner ingest --config <file> [--log-level <level>]

Accepts events over HTTP (POST /events) and gRPC (eventrunner.ingest.v1.IngestService) and
publishes them as CloudEvents to a JetStream stream. The config file (YAML or JSON) is described in
runtime/ingest/README.md.

Options:
  -c, --config <file>     ingest configuration file (required)
      --log-level <level> overrides the config's logLevel (fatal, error, warn, info, debug, trace)
  -h, --help              show this help
`;

export async function run(argv: string[]): Promise<number> {
  let values: { config?: string; 'log-level'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${USAGE}`, { cause: err });
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.config) throw new UsageError(`--config is required\n\n${USAGE}`);
  const level = values['log-level'];
  if (
    level !== undefined &&
    !['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)
  ) {
    throw new UsageError(
      `--log-level must be one of fatal, error, warn, info, debug, trace, silent (got ${level})`,
    );
  }

  const signal = shutdownSignal();
  let config;
  try {
    config = loadIngestConfig(values.config);
  } catch (err) {
    process.stderr.write(`eventrunner ingest: ${(err as Error).message}\n`);
    return 1;
  }
  const logger = createLogger({ name: 'ingest', level: level ?? config.logLevel });
  let ingest;
  try {
    ingest = await startIngest(config, logger, signal);
  } catch (err) {
    if (signal.aborted) return 0;
    logger.fatal({ err }, 'Failed to start ingest');
    return 1;
  }
  logger.info({ ports: ingest.ports, stream: config.stream.name }, 'Ingest started');
  if (!signal.aborted)
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  await ingest.drain();
  logger.flush();
  return 0;
}
