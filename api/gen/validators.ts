// Precompiled ("standalone") ajv validators: the code ajv would generate at start-up for a kind or
// a pod config, generated once by `npm run gen` so that no program compiles a schema when it
// starts (the processor config alone took ~150 ms of CPU to compile on every pod start).
import type { Ajv, AnySchema } from 'ajv';
import standaloneModule from 'ajv/dist/standalone/index.js';

// ajv's standalone entry is CommonJS; under NodeNext its default export arrives wrapped.
const standaloneCode = ((standaloneModule as unknown as { default?: unknown }).default ??
  standaloneModule) as unknown as (ajv: Ajv, refs: Record<string, string>) => string;

/** The schema without its descriptions: they do not validate anything, and verbose code embeds them. */
function withoutDescriptions(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutDescriptions);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'description' && typeof v === 'string') continue;
    out[k] = k === 'default' || k === 'enum' ? v : withoutDescriptions(v);
  }
  return out;
}

/**
 * One ES module exporting a validator per entry (export name → schema), compiled by `ajv` (which
 * must have been created with `code: { source: true, esm: true }`). ajv emits `require()` for its
 * runtime helpers even in ESM output, so the module makes itself one.
 */
export function renderValidators(ajv: Ajv, entries: Record<string, unknown>, header: string): string {
  for (const [name, schema] of Object.entries(entries))
    ajv.addSchema(withoutDescriptions(schema) as AnySchema, name);
  const code = standaloneCode(ajv, Object.fromEntries(Object.keys(entries).map((n) => [n, n])));
  // ajv's runtime helpers are CommonJS; a require() of the module's own keeps their interop exact
  // under Node and under the test runner's transform alike.
  const body = code.replace(/^"use strict";/, '');
  const usesRequire = body.includes('require(');
  const preamble = usesRequire
    ? "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n"
    : '';
  return `${header}// @ts-nocheck\n/* eslint-disable */\n${preamble}${body}\n`;
}
