// What happens to one delivered message once its fate is known. Pure, so the ack discipline is
// unit-tested on its own:
//   every targeted sink accepted it      → ack
//   a sink rejected it as invalid        → dead-letter, then term (retrying cannot help)
//   a sink failed transiently            → nak after the delivery's backoff (never sooner than a
//     Retry-After the destination sent), so the event is retried;
//     on the last delivery JetStream allows (maxDeliver) → dead-letter instead, so nothing ends
//     silently at the max-deliveries limit.
import { backoffDelay, type BackoffPolicy } from '../common/backoff.js';
import { isRowRejectedError, isTransientSinkError, type RowResult } from '../sinks/index.js';

export type Decision =
  | { action: 'ack' }
  | { action: 'nak'; delayMs: number; reason: string }
  | { action: 'deadletter'; reason: string; output?: string };

/** Delay before redelivery after the n-th delivery failed (n from 1); the last entry repeats. */
const redeliveryBackoff: BackoffPolicy = { initialMs: 1000, maxMs: 60_000, jitter: 0.2 };

export function backoffFor(deliveryCount: number, backoffMs: readonly number[]): number {
  if (backoffMs.length === 0) {
    // No backoff configured: 1s doubling to 60s, with jitter so that replicas do not retry in step.
    return backoffDelay(deliveryCount - 1, redeliveryBackoff);
  }
  return backoffMs[Math.min(deliveryCount, backoffMs.length) - 1]!;
}

export function decide(
  outputs: readonly string[],
  results: readonly RowResult[],
  delivery: { count: number; maxDeliver: number; backoffMs: readonly number[] },
): Decision {
  let retry: string | undefined;
  let retryAfterMs = 0;
  for (let i = 0; i < results.length; i++) {
    const r = results[i];
    if (r === undefined) continue;
    const message = r.message;
    if (isRowRejectedError(r))
      return {
        action: 'deadletter',
        reason: `output ${outputs[i]} rejected the event: ${message}`,
        output: outputs[i]!,
      };
    retry ??= `output ${outputs[i]}: ${message}`;
    // Read again: a row rejection has the same shape as any SinkError, so the narrowing of `r`
    // above leaves nothing for the transient check.
    const transient = results[i];
    if (isTransientSinkError(transient) && (transient.retryAfterMs ?? 0) > retryAfterMs)
      retryAfterMs = transient.retryAfterMs!;
  }
  if (retry === undefined) return { action: 'ack' };
  if (delivery.count >= delivery.maxDeliver)
    return {
      action: 'deadletter',
      reason: `delivered ${delivery.count} times (maxDeliver); last error: ${retry}`,
    };
  return {
    action: 'nak',
    delayMs: Math.max(backoffFor(delivery.count, delivery.backoffMs), retryAfterMs),
    reason: retry,
  };
}
