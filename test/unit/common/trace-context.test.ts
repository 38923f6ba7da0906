import { TraceFlags } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  eventTraceHeaders,
  formatTraceparent,
  formatTracestate,
  parseTraceparent,
} from '../../../runtime/common/trace-context.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

describe('W3C trace context', () => {
  it('parses a traceparent into a remote span context, sampled flag kept', () => {
    expect(parseTraceparent(`00-${T}-${S}-01`)).toEqual({
      traceId: T,
      spanId: S,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    expect(parseTraceparent(`00-${T}-${S}-00`)?.traceFlags).toBe(TraceFlags.NONE);
    // Unknown flag bits are not carried on.
    expect(parseTraceparent(`00-${T}-${S}-ff`)?.traceFlags).toBe(TraceFlags.SAMPLED);
  });

  it('refuses malformed values, so a bad header starts a new trace', () => {
    for (const bad of [
      undefined,
      42,
      '',
      `ff-${T}-${S}-01`,
      `00-${'0'.repeat(32)}-${S}-01`,
      `00-${T}-${'0'.repeat(16)}-01`,
      `00-${T.toUpperCase()}-${S}-01`,
      `00-${T}-${S}`,
      `00-${T}-${S}-01-extra`,
      `00-${T.slice(1)}-${S}-01`,
    ])
      expect(parseTraceparent(bad), String(bad)).toBeUndefined();
    // A later version may append fields.
    expect(parseTraceparent(`01-${T}-${S}-01-whatever`)?.spanId).toBe(S);
  });

  it('keeps tracestate as sent and writes both headers back', () => {
    const sc = parseTraceparent(`00-${T}-${S}-01`, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7')!;
    expect(formatTraceparent(sc)).toBe(`00-${T}-${S}-01`);
    expect(formatTracestate(sc)).toBe('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
    expect(formatTracestate(parseTraceparent(`00-${T}-${S}-01`)!)).toBeUndefined();
    expect(formatTracestate(parseTraceparent(`00-${T}-${S}-01`, 'x'.repeat(600))!)).toBeUndefined();
  });

  it("reads a CloudEvent's distributed-tracing extension", () => {
    expect(eventTraceHeaders({ id: '1', traceparent: `00-${T}-${S}-01`, tracestate: 'a=b' })).toEqual({
      traceparent: `00-${T}-${S}-01`,
      tracestate: 'a=b',
    });
    expect(eventTraceHeaders({ id: '1' })).toBeUndefined();
    expect(eventTraceHeaders({ id: '1', traceparent: 7 })).toBeUndefined();
  });
});
