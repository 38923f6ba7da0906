// The schema the --schema runs check every event against: what a shop would declare for the
// orders payload.ts sends (required fields, nested objects, an array of lines through $ref, patterns,
// bounds, an enum, closed objects), as the schema-set file the operator renders.
import type { SchemaObject } from '../../runtime/schemas/json-schema.js';
import { renderSchemaSet, schemaDigest, schemaId } from '../../runtime/schemas/schema-set.js';

export const orderSchema: SchemaObject = {
  type: 'object',
  required: ['orderId', 'customer', 'amount', 'currency', 'items'],
  additionalProperties: false,
  properties: {
    orderId: { type: 'string', pattern: '^o-[0-9]+$', maxLength: 64 },
    customer: {
      type: 'object',
      required: ['id', 'country'],
      additionalProperties: false,
      properties: {
        id: { type: 'string', minLength: 1, maxLength: 64 },
        country: { type: 'string', pattern: '^[A-Z]{2}$' },
      },
    },
    amount: { type: 'number', minimum: 0, maximum: 1000000 },
    currency: { enum: ['EUR', 'USD', 'GBP'] },
    items: { type: 'array', minItems: 1, maxItems: 100, items: { $ref: '#/$defs/line' } },
  },
  $defs: {
    line: {
      type: 'object',
      required: ['sku', 'qty', 'price'],
      additionalProperties: false,
      properties: {
        sku: { type: 'string', pattern: '^sku-[0-9]+$' },
        qty: { type: 'integer', minimum: 1 },
        price: { type: 'number', minimum: 0 },
      },
    },
  },
};

export function benchSchemaSet(): string {
  const type = 'com.bench.order.>';
  return renderSchemaSet({
    entries: [
      {
        type,
        version: 1,
        id: schemaId('bench', 'shop', type, 1),
        digest: schemaDigest(orderSchema),
        schema: orderSchema,
      },
    ],
  });
}
