// `eventrunner process --config <file>`: what a Pipeline's pods run. Reads the config once,
// serves /healthz, /readyz and /metrics, processes until SIGTERM, then drains and exits.
import { isConfigError, UsageError } from '../../runtime/common/errors.js';
import { createLogger } from '../../runtime/common/logger.js';
import { createRegistry, startOpsServer } from '../../runtime/common/ops-server.js';
import { shutdownSignal } from '../../runtime/common/signals.js';
import { loadConfig } from '../../runtime/process/config.js';
import { startProcessor } from '../../runtime/process/processor.js';

const usage = 'usage: eventrunner process --config <file>';

function parseArgs(argv: string[]): { config: string } {
  let config: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--config' || a === '-c') {
      config = argv[++i];
      if (!config) throw new UsageError(`--config needs a file\n${usage}`);
    } else if (a.startsWith('--config=')) config = a.slice('--config='.length);
    else if (a === '--help' || a === '-h') throw new UsageError(usage);
    else throw new UsageError(`unknown argument ${a}\n${usage}`);
  }
  if (!config) throw new UsageError(`--config is required\n${usage}`);
  return { config };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const signal = shutdownSignal();
  let config;
  try {
    config = await loadConfig(args.config);
  } catch (err) {
    if (!isConfigError(err)) throw err;
    process.stderr.write(`eventrunner process: ${err.message}\n`);
    return 1;
  }
  const log = createLogger({ name: 'processor', level: config.logLevel }).child({
    pipeline: `${config.pipeline.namespace}/${config.pipeline.name}`,
  });
  const registry = createRegistry('processor');
  const processor = startProcessor({ config, log, registry }, signal);
  const ops = await startOpsServer({
    port: config.ops.port,
    ...(config.ops.host ? { host: config.ops.host } : {}),
    registry,
    readiness: processor.readiness,
  });
  log.info({ port: ops.port }, 'Serving operations endpoint');
  let code = 0;
  try {
    const inTime = await processor.done;
    code = inTime ? 0 : 1;
  } catch (err) {
    log.error({ err }, 'Processor failed');
    code = 1;
  } finally {
    await ops.close();
    log.flush();
  }
  // Everything is acked and closed; a client library's leftover timer or socket must not keep the
  // pod running past its grace period, so exit even if something still holds the event loop.
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}
