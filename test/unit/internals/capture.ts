// A pino logger writing to a real stream whose JSON lines a test reads back, and the values of the
// fast-path metrics as a registry reports them.
import { Writable } from 'node:stream';
import type { Registry } from 'prom-client';
import { createLogger, type Logger } from '../../../runtime/common/logger.js';
import { ENABLED_METRIC, FALLBACKS_METRIC } from '../../../runtime/internals/metrics.js';

export interface CapturedLog {
  log: Logger;
  /** Every line written so far, parsed. */
  lines(): Record<string, unknown>[];
}

export function captureLog(): CapturedLog {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  const log = createLogger({ name: 'test', level: 'debug', destination: stream });
  return {
    log,
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** `{ path: value }` of the fast-path gauge and fallback counter, read through the registry. */
export async function fastPathMetricValues(
  registry: Registry,
): Promise<{ enabled: Record<string, number>; fallbacks: Record<string, number> }> {
  const read = async (name: string) => {
    const metric = await registry.getSingleMetric(name)?.get();
    return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.path), v.value]));
  };
  return { enabled: await read(ENABLED_METRIC), fallbacks: await read(FALLBACKS_METRIC) };
}
