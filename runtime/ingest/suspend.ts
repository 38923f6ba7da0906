// Whether the EventSource is suspended, from a mark the operator keeps in its stream's metadata:
// re-read with the stream info every few seconds, so suspend and resume need no restart. While
// suspended, every request is refused as unavailable (HTTP 503, gRPC UNAVAILABLE) with Retry-After.
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from '../common/logger.js';
import { IngestRejection, Reason } from './outcome.js';

/** Stream metadata key the operator sets to "true" while the EventSource's spec.suspend is true. */
export const SUSPENDED_METADATA_KEY = 'eventrunner.io/suspended';
/** Seconds a client is told to wait before retrying while suspended. */
const RETRY_AFTER_SECONDS = 5;

export class SuspendState {
  /** The refusal to answer with while suspended; undefined while accepting. */
  refusal: IngestRejection | undefined;

  constructor(private readonly what: string) {}

  set(suspended: boolean): boolean {
    if (suspended === (this.refusal !== undefined)) return false;
    this.refusal = suspended
      ? new IngestRejection(
          Reason.Unavailable,
          `${this.what} is suspended (spec.suspend: true) and accepts no events; retry after it is resumed`,
          RETRY_AFTER_SECONDS,
        )
      : undefined;
    return true;
  }
}

/**
 * Polls the stream's metadata every `intervalMs` until `signal` aborts. A stream that cannot be
 * read leaves the state as it was (the NATS check of readiness reports that problem).
 */
export function watchSuspend(
  jsm: JetStreamManager,
  stream: string,
  state: SuspendState,
  intervalMs: number,
  logger: Logger,
  signal: AbortSignal,
): void {
  const check = async () => {
    try {
      const info = await jsm.streams.info(stream);
      if (state.set(info.config.metadata?.[SUSPENDED_METADATA_KEY] === 'true'))
        logger.info(state.refusal ? 'Suspended: refusing events' : 'Resumed: accepting events');
    } catch (err) {
      logger.debug({ err }, 'Could not read the stream to check for suspend');
    }
  };
  void check();
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
