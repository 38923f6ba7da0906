// Schema evolution as the EventSource controller runs it, without a server: versions, ids, the
// SchemasValid condition, and the schema-set ConfigMap ingest reads.
import { describe, expect, it } from 'vitest';
import type { EventSource, EventSourceSchemaStatus } from '../../../api/generated/types.js';
import { ingestConfig, ingestDeployment, ingestSchemasConfigMap } from '../../../operator/builders/ingest.js';
import { evolveSchemas, schemaSetOf, type DeclaredSchema } from '../../../operator/builders/schemas.js';
import { parseOperatorOptions } from '../../../operator/options.js';
import { parseSchemaSet } from '../../../runtime/schemas/schema-set.js';
import type { SchemaObject } from '../../../runtime/schemas/json-schema.js';

const v1 = { type: 'object', required: ['amount'], properties: { amount: { type: 'number' } } };
const compatible = { type: 'object', properties: { amount: { type: 'number' } } };
const breaking = {
  type: 'object',
  required: ['amount', 'currency'],
  properties: { amount: { type: 'number' } },
};

const declared = (
  schema: SchemaObject,
  compatibility: 'Backward' | 'None' = 'Backward',
): DeclaredSchema[] => [{ type: 'com.shop.order.>', compatibility, schema }];

function accept(
  schema: SchemaObject,
  previous?: EventSourceSchemaStatus[],
  compatibility?: 'Backward' | 'None',
) {
  return evolveSchemas('shop', 'orders', declared(schema, compatibility), previous);
}

describe('schema evolution', () => {
  it('accepts a first schema as version 1 with its dataschema id', () => {
    const r = accept(v1);
    expect(r.accepted).toEqual([
      {
        type: 'com.shop.order.>',
        version: 1,
        id: 'urn:eventrunner:schema:shop:orders:com.shop.order.%3E:v1',
        digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        schema: '{"properties":{"amount":{"type":"number"}},"required":["amount"],"type":"object"}',
      },
    ]);
    expect(r.condition).toMatchObject({
      status: 'True',
      reason: 'SchemasAccepted',
      message: 'serving com.shop.order.> v1',
    });
    expect(r.changed).toEqual([{ type: 'com.shop.order.>', version: 1 }]);
  });

  it('keeps the version of an unchanged schema (key order does not matter)', () => {
    const first = accept(v1).accepted;
    const again = accept(
      { properties: { amount: { type: 'number' } }, required: ['amount'], type: 'object' },
      first,
    );
    expect(again.accepted).toEqual(first);
    expect(again.changed).toEqual([]);
  });

  it('makes a compatible change the next version', () => {
    const r = accept(compatible, accept(v1).accepted);
    expect(r.accepted[0]).toMatchObject({ version: 2, id: expect.stringMatching(/:v2$/) });
    expect(r.condition.status).toBe('True');
  });

  it('refuses a breaking change under Backward, naming it, and keeps serving the accepted version', () => {
    const first = accept(v1).accepted;
    const r = accept(breaking, first);
    expect(r.accepted).toEqual(first);
    expect(r.changed).toEqual([]);
    expect(r.condition).toEqual({
      type: 'SchemasValid',
      status: 'False',
      reason: 'BreakingSchemaChange',
      message:
        'com.shop.order.>: the new schema refuses events version 1 accepts, at /required: property "currency" is now required; version 1 keeps serving (make the change compatible, or set compatibility: None to accept it)',
    });
  });

  it('accepts a breaking change under compatibility None', () => {
    const r = accept(breaking, accept(v1).accepted, 'None');
    expect(r.accepted[0]!.version).toBe(2);
    expect(r.condition.status).toBe('True');
  });

  it('keeps serving the accepted version while the declared schema cannot be read', () => {
    const first = accept(v1).accepted;
    const r = evolveSchemas(
      'shop',
      'orders',
      [
        {
          type: 'com.shop.order.>',
          compatibility: 'Backward',
          problem: { reason: 'SchemaNotFound', message: 'ConfigMap order-schemas does not exist' },
        },
      ],
      first,
    );
    expect(r.accepted).toEqual(first);
    expect(r.condition).toMatchObject({
      status: 'False',
      reason: 'SchemaNotFound',
      message: 'com.shop.order.>: ConfigMap order-schemas does not exist; version 1 keeps serving',
    });
  });

  it('drops the versions of entries removed from the spec', () => {
    const r = evolveSchemas('shop', 'orders', [], accept(v1).accepted);
    expect(r.accepted).toEqual([]);
    expect(r.condition).toMatchObject({ status: 'True', message: 'no schemas declared' });
  });
});

describe('the schema-set ConfigMap', () => {
  const options = parseOperatorOptions(['--image', 'img', '--nats-url', 'nats://nats:4222'], {});
  const es = {
    apiVersion: 'eventrunner.io/v1alpha1',
    kind: 'EventSource',
    metadata: { name: 'orders', namespace: 'shop', uid: 'u' },
    spec: {
      ingest: {
        http: { enabled: true, port: 8080 },
        grpc: { enabled: true, port: 9090 },
        replicas: 1,
        auth: { enabled: false },
        maxBatchEvents: 1000,
        rateLimit: { eventsPerSecond: 0 },
        maxBodyBytes: '1Mi',
      },
      conversion: { defaultType: 'com.shop.raw' },
      stream: { maxAge: '72h', maxBytes: '1Gi', replicas: 1, storage: 'file', duplicateWindow: '2m' },
      deletionPolicy: 'Delete',
    },
  } as EventSource;

  it('holds the accepted versions as the file ingest reads', () => {
    const accepted = accept(v1).accepted;
    const cm = ingestSchemasConfigMap(es, schemaSetOf(accepted));
    expect(cm.metadata!.name).toBe('orders-ingest-schemas');
    const set = parseSchemaSet(cm.data!['schemas.json']!);
    expect(set.entries).toEqual([{ ...accepted[0], schema: v1 }]);
  });

  it('is mounted whole (so the kubelet updates it in place) and named in the ingest config', () => {
    expect(ingestConfig(es, options).schemaSet).toEqual({ file: '/etc/eventrunner/schemas/schemas.json' });
    expect(ingestConfig(es, options).eventSource).toEqual({
      namespace: 'shop',
      name: 'orders',
      httpUrl: 'http://orders-ingest.shop.svc:8080',
    });
    const pod = ingestDeployment(es, options).spec!.template.spec!;
    expect(pod.containers[0]!.volumeMounts).toContainEqual({
      name: 'schemas',
      mountPath: '/etc/eventrunner/schemas',
      readOnly: true,
    });
    expect(pod.volumes).toContainEqual({ name: 'schemas', configMap: { name: 'orders-ingest-schemas' } });
  });

  it('does not change the pod template when a schema changes', () => {
    const withSchemas = structuredClone(es);
    withSchemas.spec.schemas = [{ type: 'com.shop.order.>', schema: v1, compatibility: 'Backward' }];
    expect(ingestDeployment(withSchemas, options).spec!.template).toEqual(
      ingestDeployment(es, options).spec!.template,
    );
  });
});
