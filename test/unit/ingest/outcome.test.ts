import { describe, expect, it } from 'vitest';
import { retryAfterOf, worstReason, type EventOutcome } from '../../../runtime/ingest/outcome.js';

describe('batch outcomes', () => {
  const ok: EventOutcome = { ok: true, id: 'a', duplicate: false };
  const invalid: EventOutcome = { ok: false, reason: 'invalid', message: 'bad' };
  const limited: EventOutcome = {
    ok: false,
    reason: 'rate_limited',
    message: 'slow down',
    retryAfterSeconds: 0.2,
  };
  const down: EventOutcome = { ok: false, reason: 'unavailable', message: 'down', retryAfterSeconds: 2 };

  it('picks the most actionable failure', () => {
    expect(worstReason([ok])).toBeUndefined();
    expect(worstReason([invalid, limited])?.reason).toBe('rate_limited');
    expect(worstReason([limited, down, invalid])?.reason).toBe('unavailable');
  });

  it('computes Retry-After in whole seconds, at least 1', () => {
    expect(retryAfterOf([ok, invalid])).toBeUndefined();
    expect(retryAfterOf([limited])).toBe(1);
    expect(retryAfterOf([limited, down])).toBe(2);
  });
});
