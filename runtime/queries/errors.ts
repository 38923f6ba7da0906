// Errors of the query engine. Compile-time problems are collected as diagnostics with 1-based line
// and column in the query's SQL, so `eventrunner validate` and the Pipeline's QueriesValid condition
// can point at the exact spot; a checkpoint that cannot be restored is a QueryStateError.
import { EventrunnerError } from '../common/errors.js';

export interface QueryDiagnostic {
  line: number;
  column: number;
  message: string;
}

export const QueriesErrorCode = {
  Compile: 'QueryCompileError',
  State: 'QueryStateError',
} as const;

/** A query that does not parse or does not pass the static checks; lists every problem found. */
export class QueryCompileError extends EventrunnerError {
  declare readonly code: 'QueryCompileError';
  readonly diagnostics: QueryDiagnostic[];
  /** The query's name, as given in its definition. */
  readonly query: string;
  constructor(query: string, diagnostics: QueryDiagnostic[], options?: { cause?: unknown }) {
    const first = diagnostics[0];
    const where = first ? `${first.line}:${first.column}: ${first.message}` : 'invalid query';
    const more = diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more)` : '';
    super(QueriesErrorCode.Compile, `query ${query} does not compile: ${where}${more}`, options);
    this.name = 'QueryCompileError';
    this.query = query;
    this.diagnostics = diagnostics;
  }
}

export function isQueryCompileError(err: unknown): err is QueryCompileError {
  return err instanceof EventrunnerError && err.code === QueriesErrorCode.Compile;
}

/** A checkpoint that does not belong to this query, has an unknown version, or is malformed. */
export class QueryStateError extends EventrunnerError {
  declare readonly code: 'QueryStateError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(QueriesErrorCode.State, message, options);
    this.name = 'QueryStateError';
  }
}

export function isQueryStateError(err: unknown): err is QueryStateError {
  return err instanceof EventrunnerError && err.code === QueriesErrorCode.State;
}
