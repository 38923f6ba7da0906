// The self-description of an EventSource's ingest: an OpenAPI 3.1 document of its HTTP API (the
// per-type data schemas as request bodies, every status it answers) and an AsyncAPI 3.0 document
// of its event types (what producers send over HTTP, what consumers read from the stream). Pure:
// ingest serves them, `eventrunner describe eventsource` prints them, from the same input.
import { escapePointer, isSchemaObject, type JsonSchema } from './json-schema.js';

export interface DescribedSchema {
  /** Exact type, `prefix.>` or `>`. */
  type: string;
  schema: JsonSchema;
  /** The `dataschema` events accepted by this version carry. */
  id?: string;
  version?: number;
}

export interface DescribeInput {
  /** The EventSource, e.g. `shop/orders`. */
  namespace?: string;
  name: string;
  /** Base URL of the HTTP ingest, e.g. http://shop-ingest.default.svc:8080; omitted when HTTP is off. */
  httpUrl?: string;
  auth: boolean;
  maxBatchEvents: number;
  maxBodyBytes: number;
  /** Events go to `<subjectPrefix>.<type>` of this stream. */
  stream?: { name: string; subjectPrefix: string; natsUrl?: string };
  conversion: { defaultType: string; typeFrom?: string };
  schemas: readonly DescribedSchema[];
}

type Doc = Record<string, unknown>;

/** Component key of a type pattern: exact types as they are, prefixes with a marker. */
export function componentKey(pattern: string): string {
  const base =
    pattern === '>' ? 'any' : pattern.endsWith('.>') ? `${pattern.slice(0, -2)}.any-type` : pattern;
  return base.replace(/[^a-zA-Z0-9._-]/g, '_');
}

/**
 * A copy of a schema placed at `at` (a JSON pointer of the hosting document) whose local `$ref`s
 * point at the same subschemas there, and without `$id`/`$schema` (the host sets the dialect).
 */
export function relocate(schema: JsonSchema, at: string, top = true): JsonSchema {
  if (!isSchemaObject(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (top && (k === '$id' || k === '$schema')) continue;
    if ((k === '$ref' || k === '$dynamicRef') && typeof v === 'string' && v.startsWith('#')) {
      out[k] = v === '#' ? `#${at}` : `#${at}${v.slice(1)}`;
    } else if (k === 'enum' || k === 'const' || k === 'default' || k === 'examples') {
      out[k] = v;
    } else if (Array.isArray(v)) {
      out[k] = v.map((x) => (isSchemaObject(x) ? relocate(x, at, false) : x));
    } else if (isSchemaObject(v)) {
      out[k] = relocate(v, at, false);
    } else {
      out[k] = v;
    }
  }
  return out;
}

function typeCondition(pattern: string): Doc {
  if (pattern === '>') return {};
  if (pattern.endsWith('.>')) {
    const prefix = pattern.slice(0, -1).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return { properties: { type: { type: 'string', pattern: `^${prefix}.+` } }, required: ['type'] };
  }
  return { properties: { type: { const: pattern } }, required: ['type'] };
}

function title(input: DescribeInput): string {
  return input.namespace ? `EventSource ${input.namespace}/${input.name}` : `EventSource ${input.name}`;
}

/** A version for both documents' info: the schema versions it describes. */
function infoVersion(input: DescribeInput): string {
  const parts = input.schemas.map((s) => `${s.type}@${s.version ?? 'new'}`).sort();
  return parts.length ? parts.join(',').slice(0, 200) : 'no-schemas';
}

function cloudEventSchema(input: DescribeInput): Doc {
  const rules = input.schemas.map((s) => ({
    if: typeCondition(s.type),
    then: { properties: { data: { $ref: `#/components/schemas/${componentKey(s.type)}` } } },
  }));
  return {
    type: 'object',
    description:
      'A CloudEvent 1.0 in structured mode. Its data must satisfy the schema of its type, when one is declared.',
    required: ['specversion', 'id', 'source', 'type'],
    properties: {
      specversion: { const: '1.0' },
      id: { type: 'string', minLength: 1 },
      source: { type: 'string', minLength: 1, format: 'uri-reference' },
      type: { type: 'string', pattern: '^[^\\s.*>]+(\\.[^\\s.*>]+)*$' },
      subject: { type: 'string' },
      time: { type: 'string', format: 'date-time' },
      datacontenttype: { type: 'string' },
      dataschema: { type: 'string', format: 'uri' },
      data: {},
      data_base64: { type: 'string', contentEncoding: 'base64' },
    },
    ...(rules.length ? { allOf: rules } : {}),
  };
}

function dataComponents(schemas: readonly DescribedSchema[]): Doc {
  const out: Doc = {};
  for (const s of schemas) {
    const key = componentKey(s.type);
    // Boolean schemas as objects: AsyncAPI's schema objects must be objects.
    const schema = s.schema === true ? {} : s.schema === false ? { not: {} } : s.schema;
    const relocated = relocate(schema, `/components/schemas/${escapePointer(key)}`);
    out[key] = isSchemaObject(relocated)
      ? {
          ...relocated,
          ...(relocated.description === undefined
            ? { description: `data of events of type ${s.type}${s.id ? ` (${s.id})` : ''}` }
            : {}),
        }
      : relocated;
  }
  return out;
}

const problem = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

/** The OpenAPI 3.1 document of the HTTP ingest. */
export function openApiDocument(input: DescribeInput): Doc {
  const dataRefs = input.schemas.map((s) => ({ $ref: `#/components/schemas/${componentKey(s.type)}` }));
  const anyData = dataRefs.length ? { anyOf: [...dataRefs, {}] } : {};
  const typeFrom = input.conversion.typeFrom
    ? `the type is read at ${input.conversion.typeFrom} (default ${input.conversion.defaultType})`
    : `the type is ${input.conversion.defaultType}`;
  const retry = {
    'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait before retrying.' },
  };
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: `${title(input)} ingest`,
      version: infoVersion(input),
      description:
        'Accepts events and stores them in the EventSource’s JetStream stream. An answer means stored (or refused); events whose data does not satisfy the schema of their type are refused with 400, the JSON pointer and the keyword that failed.',
    },
    ...(input.httpUrl ? { servers: [{ url: input.httpUrl }] } : {}),
    ...(input.auth ? { security: [{ bearer: [] }] } : {}),
    paths: {
      '/events': {
        post: {
          operationId: 'publishEvents',
          summary: 'Publish one event or a batch',
          description: `Structured, batch or binary CloudEvents, or raw JSON converted to a CloudEvent (${typeFrom}). At most ${input.maxBatchEvents} events and ${input.maxBodyBytes} bytes per request.`,
          parameters: ['ce-specversion', 'ce-id', 'ce-source', 'ce-type'].map((name) => ({
            name,
            in: 'header',
            required: false,
            description: 'Binary mode: the CloudEvents attribute; the body is the data.',
            schema: { type: 'string' },
          })),
          requestBody: {
            required: true,
            content: {
              'application/cloudevents+json': { schema: { $ref: '#/components/schemas/CloudEvent' } },
              'application/cloudevents-batch+json': {
                schema: {
                  type: 'array',
                  maxItems: input.maxBatchEvents,
                  items: { $ref: '#/components/schemas/CloudEvent' },
                },
              },
              'application/json': {
                schema: {
                  description: `Raw JSON (an object, or an array of them as a batch) converted to CloudEvents: ${typeFrom}; in binary mode, the data of the event the ce-* headers describe.`,
                  anyOf: [anyData, { type: 'array', maxItems: input.maxBatchEvents, items: anyData }],
                },
              },
            },
          },
          responses: {
            '202': {
              description: 'The event is stored.',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Accepted' } } },
            },
            '200': {
              description: 'Every event of the batch is stored.',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/BatchResult' } } },
            },
            '207': {
              description: 'Some events of the batch are stored; retry only the failed ones.',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/BatchResult' } } },
            },
            '400': problem(
              'Malformed or invalid event, or data that does not satisfy the schema of its type.',
            ),
            ...(input.auth ? { '401': problem('Missing or unknown bearer token.') } : {}),
            '413': problem('Body or batch too large.'),
            '415': problem('Unsupported content type.'),
            '429': { ...problem('Over the rate limit.'), headers: retry },
            '503': { ...problem('NATS unreachable, overloaded or draining; retry.'), headers: retry },
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getOpenApi',
          summary: 'This document',
          security: [],
          responses: {
            '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: {} } } },
          },
        },
      },
      '/asyncapi.json': {
        get: {
          operationId: 'getAsyncApi',
          summary: 'The AsyncAPI 3.0 document of the event types',
          security: [],
          responses: {
            '200': { description: 'AsyncAPI 3.0', content: { 'application/json': { schema: {} } } },
          },
        },
      },
    },
    components: {
      ...(input.auth ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } : {}),
      schemas: {
        CloudEvent: cloudEventSchema(input),
        Accepted: {
          type: 'object',
          required: ['id', 'duplicate'],
          properties: { id: { type: 'string' }, duplicate: { type: 'boolean' } },
        },
        BatchResult: {
          type: 'object',
          required: ['accepted', 'rejected', 'results'],
          properties: {
            accepted: { type: 'integer' },
            rejected: { type: 'integer' },
            results: {
              type: 'array',
              items: {
                type: 'object',
                required: ['index', 'status'],
                properties: {
                  index: { type: 'integer' },
                  id: { type: 'string' },
                  status: { type: 'integer' },
                  duplicate: { type: 'boolean' },
                  error: { type: 'string' },
                  message: { type: 'string' },
                  type: { type: 'string' },
                  pointer: { type: 'string' },
                  keyword: { type: 'string' },
                  dataschema: { type: 'string' },
                },
              },
            },
          },
        },
        Problem: {
          type: 'object',
          required: ['error', 'message'],
          properties: {
            error: {
              type: 'string',
              enum: [
                'invalid',
                'schema',
                'too_large',
                'too_many_events',
                'rate_limited',
                'unauthenticated',
                'unavailable',
                'overloaded',
                'unsupported_media_type',
                'draining',
              ],
            },
            message: { type: 'string' },
            id: { type: 'string' },
            type: { type: 'string', description: 'error "schema": the event type' },
            pointer: {
              type: 'string',
              description: 'error "schema": JSON pointer into data where it failed',
            },
            keyword: { type: 'string', description: 'error "schema": the JSON Schema keyword that failed' },
            dataschema: { type: 'string', description: 'error "schema": the schema version that refused it' },
          },
        },
        ...dataComponents(input.schemas),
      },
    },
  };
}

function hostOf(url: string): { host: string; protocol: string; pathname?: string } {
  const u = new URL(url);
  return {
    host: u.host,
    protocol: u.protocol.replace(/:$/, ''),
    ...(u.pathname !== '/' ? { pathname: u.pathname } : {}),
  };
}

/** The AsyncAPI 3.0 document of the EventSource's event types. */
export function asyncApiDocument(input: DescribeInput): Doc {
  const servers: Doc = {};
  if (input.httpUrl) {
    servers.ingest = {
      ...hostOf(input.httpUrl),
      description: 'HTTP ingest: producers POST events to /events.',
      ...(input.auth ? { security: [{ $ref: '#/components/securitySchemes/bearer' }] } : {}),
    };
  }
  if (input.stream?.natsUrl) {
    const first = input.stream.natsUrl.split(',')[0]!;
    servers.stream = {
      host: new URL(first).host,
      protocol: 'nats',
      description: `JetStream stream ${input.stream.name}: consumers read the stored events.`,
    };
  }
  const messages: Doc = {};
  const entries = [...input.schemas].sort((a, b) => (a.type < b.type ? -1 : 1));
  for (const s of entries) {
    const key = componentKey(s.type);
    messages[key] = {
      name: s.type,
      title: s.type,
      summary: s.type.endsWith('>')
        ? `Events whose type starts with ${s.type.slice(0, -1)}`
        : `Events of type ${s.type}`,
      contentType: 'application/json',
      headers: {
        type: 'object',
        description: 'CloudEvents attributes in binary mode (ce-*); in structured mode they wrap the data.',
        properties: {
          'ce-specversion': { type: 'string', const: '1.0' },
          'ce-id': { type: 'string' },
          'ce-source': { type: 'string' },
          'ce-type': s.type.endsWith('>') ? { type: 'string' } : { type: 'string', const: s.type },
          ...(s.id ? { 'ce-dataschema': { type: 'string', const: s.id } } : {}),
        },
      },
      payload: { $ref: `#/components/schemas/${key}` },
    };
  }
  messages.anyEvent = {
    name: 'event',
    title: 'Any event',
    summary: 'An event of a type without a declared schema.',
    contentType: 'application/cloudevents+json',
    payload: { type: 'object', required: ['specversion', 'id', 'source', 'type'] },
  };
  const ref = (channel: string, key: string) => ({ $ref: `#/channels/${channel}/messages/${key}` });
  const channels: Doc = {};
  const operations: Doc = {};
  const messageRefs = (channel: string) => Object.keys(messages).map((k) => ref(channel, k));
  // A fresh object per channel: shared ones become YAML anchors when printed as YAML.
  const channelMessages = () =>
    Object.fromEntries(Object.keys(messages).map((k) => [k, { $ref: `#/components/messages/${k}` }]));
  if (input.httpUrl) {
    channels.ingest = {
      address: '/events',
      title: 'Ingest',
      servers: [{ $ref: '#/servers/ingest' }],
      messages: channelMessages(),
    };
    operations.publishEvents = {
      action: 'receive',
      title: 'Producers publish events',
      channel: { $ref: '#/channels/ingest' },
      messages: messageRefs('ingest'),
    };
  }
  if (input.stream) {
    channels.stream = {
      address: `${input.stream.subjectPrefix}.{type}`,
      title: `Stream ${input.stream.name}`,
      description: 'Each accepted event is stored under its type, as a structured CloudEvent.',
      parameters: { type: { description: 'The CloudEvents type (dot-separated tokens).' } },
      ...(servers.stream ? { servers: [{ $ref: '#/servers/stream' }] } : {}),
      messages: channelMessages(),
    };
    operations.storeEvents = {
      action: 'send',
      title: 'Accepted events are stored for consumers',
      channel: { $ref: '#/channels/stream' },
      messages: messageRefs('stream'),
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: title(input),
      version: infoVersion(input),
      description:
        'The event types of this EventSource. A declared schema is enforced at ingest: data that does not satisfy it is refused, accepted events carry the schema version in dataschema.',
    },
    defaultContentType: 'application/cloudevents+json',
    ...(Object.keys(servers).length ? { servers } : {}),
    channels,
    operations,
    components: {
      ...(input.auth ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } : {}),
      messages,
      schemas: dataComponents(input.schemas),
    },
  };
}
