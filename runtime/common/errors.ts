// Error classes shared by every part of eventrunner. Each sets `name`, carries `cause` and a
// stable `code`, so callers branch on codes instead of messages.

export const ErrorCode = {
  Usage: 'USAGE',
  Config: 'CONFIG',
  Terminal: 'TERMINAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class EventrunnerError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventrunnerError';
    this.code = code;
  }
}

/** Bad command-line input: the CLI prints the message and exits with status 2. */
export class UsageError extends EventrunnerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Usage, message, options);
    this.name = 'UsageError';
  }
}

/** An invalid configuration file; the message names the file and field. */
export class ConfigError extends EventrunnerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Config, message, options);
    this.name = 'ConfigError';
  }
}

/** An error that retrying cannot fix; reconcilers report it in a condition instead of requeueing. */
export class TerminalError extends EventrunnerError {
  readonly reason: string;
  constructor(reason: string, message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Terminal, message, options);
    this.name = 'TerminalError';
    this.reason = reason;
  }
}

export function isUsageError(err: unknown): err is UsageError {
  return err instanceof EventrunnerError && err.code === ErrorCode.Usage;
}
export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof EventrunnerError && err.code === ErrorCode.Config;
}
export function isTerminalError(err: unknown): err is TerminalError {
  return err instanceof EventrunnerError && err.code === ErrorCode.Terminal;
}
