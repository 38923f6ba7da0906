// Renders TypeScript types from the kinds' schemas: one interface per named object schema. The
// types describe objects after defaulting (what the API server stores and what api/validate.ts
// returns), so a field with a schema default is not optional.
import { API_VERSION, type KindDefinition } from '../schema/common.js';
import type { Schema } from '../schema/dsl.js';

function doc(s: Schema, indent: string): string {
  const lines = (s.description ?? '').split('\n');
  if (s.default !== undefined) lines.push(`@default ${JSON.stringify(s.default)}`);
  return `${indent}/** ${lines.join(`\n${indent} * `)} */\n`;
}

class TypeWriter {
  private readonly decls = new Map<string, string>();

  type(s: Schema): string {
    if (s['x-kubernetes-int-or-string']) return 'number | string';
    if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
    switch (s.type) {
      case 'string':
        return 'string';
      case 'integer':
      case 'number':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'array': {
        const t = this.type(s.items ?? {});
        return t.includes('|') ? `(${t})[]` : `${t}[]`;
      }
      case 'object':
        if (s.properties) return s.$name ? this.named(s.$name, s) : this.body(s, '');
        if (s.additionalProperties) return `Record<string, ${this.type(s.additionalProperties)}>`;
        return 'Record<string, unknown>';
      default:
        return 'unknown';
    }
  }

  private named(name: string, s: Schema): string {
    if (this.decls.has(name)) return name;
    this.decls.set(name, ''); // reserve: recursive schemas and shared pieces render once
    this.decls.set(
      name,
      `${doc({ description: s.description }, '')}export interface ${name} ${this.body(s, '')}\n`,
    );
    return name;
  }

  private body(s: Schema, indent: string): string {
    const required = new Set(s.required ?? []);
    const fields = Object.entries(s.properties ?? {}).map(([key, p]) => {
      const optional = !required.has(key) && p.default === undefined;
      return `${doc(p, `${indent}  `)}${indent}  ${key}${optional ? '?' : ''}: ${this.type(p)};\n`;
    });
    return `{\n${fields.join('')}${indent}}`;
  }

  kind(def: KindDefinition): void {
    this.decls.set(def.kind, ''); // the kind's interface comes before the types it uses
    const spec = this.type(def.spec);
    const status = this.type(def.status);
    this.decls.set(
      def.kind,
      `${doc({ description: def.description }, '')}export interface ${def.kind} {\n` +
        `  apiVersion: '${API_VERSION}';\n  kind: '${def.kind}';\n  metadata: V1ObjectMeta;\n` +
        `  spec: ${spec};\n  status?: ${status};\n}\n`,
    );
  }

  render(): string {
    return [...this.decls.values()].join('\n');
  }
}

export function renderTypes(kinds: readonly KindDefinition[], header: string): string {
  const w = new TypeWriter();
  for (const k of kinds) w.kind(k);
  return `${header}import type { V1ObjectMeta } from '@kubernetes/client-node';\n\n${w.render()}`;
}
