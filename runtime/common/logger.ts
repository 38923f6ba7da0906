// pino JSON logs for every eventrunner process. Secrets are redacted by path so that a config or
// an error object carrying credentials never reaches the log stream.
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

const redactPaths = [
  'password',
  'token',
  'tokens',
  'authorization',
  'headers.authorization',
  '*.password',
  '*.token',
  '*.tokens',
  'credentials',
  '*.credentials',
];

export interface LoggerOptions {
  name: string;
  level?: string;
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      name: opts.name,
      level: opts.level ?? 'info',
      redact: { paths: redactPaths, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
