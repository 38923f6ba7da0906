import { describe, expect, it } from 'vitest';
import { fromProtoEvent, toProtoEvent } from '../../../runtime/ingest/proto-event.js';
import type { CloudEvent } from '../../../runtime/events/index.js';

describe('protobuf CloudEvents', () => {
  it('maps every attribute type to its JSON-format representation', () => {
    const e = fromProtoEvent({
      id: '1',
      source: '/s',
      spec_version: '1.0',
      type: 't',
      attributes: {
        time: { attr: 'ce_timestamp', ce_timestamp: { seconds: '0', nanos: 5 } },
        n: { attr: 'ce_integer', ce_integer: -3 },
        b: { attr: 'ce_boolean', ce_boolean: false },
        u: { attr: 'ce_uri_ref', ce_uri_ref: '/x' },
        raw: { attr: 'ce_bytes', ce_bytes: Buffer.from('hi') },
      },
      data: 'text_data',
      text_data: '{"a":[1]}',
    });
    expect(e).toEqual({
      specversion: '1.0',
      id: '1',
      source: '/s',
      type: 't',
      time: '1970-01-01T00:00:00.000000005Z',
      n: -3,
      b: false,
      u: '/x',
      raw: Buffer.from('hi').toString('base64'),
      data: { a: [1] },
    });
  });

  it('keeps non-JSON text and bytes as data_base64 and plain text without a type as a string', () => {
    const base = { id: '1', source: '/s', spec_version: '1.0', type: 't' };
    const text = fromProtoEvent({
      ...base,
      attributes: { datacontenttype: { attr: 'ce_string', ce_string: 'text/plain' } },
      data: 'text_data',
      text_data: 'héllo',
    });
    expect(Buffer.from(text.data_base64!, 'base64').toString()).toBe('héllo');
    const untyped = fromProtoEvent({ ...base, data: 'text_data', text_data: 'not json' });
    expect(untyped.data).toBe('not json');
    const bytes = fromProtoEvent({ ...base, data: 'binary_data', binary_data: Buffer.from([1, 2]) });
    expect(bytes.data_base64).toBe('AQI=');
  });

  it('refuses proto_data, reserved names in attributes and missing attributes', () => {
    const base = { id: '1', source: '/s', spec_version: '1.0', type: 't' };
    expect(() => fromProtoEvent({ ...base, data: 'proto_data', proto_data: { type_url: 'x' } })).toThrow(
      /proto_data .* is not supported/,
    );
    expect(() =>
      fromProtoEvent({ ...base, attributes: { id: { attr: 'ce_string', ce_string: 'x' } } }),
    ).toThrow(/attribute "id" must be sent in its own field/);
    expect(() => fromProtoEvent({ ...base, type: '' })).toThrow(/required attribute "type" is missing/);
  });

  it('round-trips through toProtoEvent', () => {
    const e: CloudEvent = {
      specversion: '1.0',
      id: 'r',
      source: '/s',
      type: 't.x',
      subject: 'sub',
      time: '2024-01-01T00:00:00Z',
      level: 3,
      flag: true,
      data: { nested: { ok: [1, 'two'] } },
    };
    const p = toProtoEvent(e);
    // proto-loader's oneofs option names the set case; a real decode does the same.
    const decoded = {
      ...p,
      data: 'text_data',
      attributes: Object.fromEntries(
        Object.entries(p.attributes!).map(([k, v]) => [k, { ...v, attr: Object.keys(v)[0] }]),
      ),
    };
    expect(fromProtoEvent(decoded)).toEqual(e);
  });
});
