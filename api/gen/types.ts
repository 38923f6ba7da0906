// Renders TypeScript types from the kinds' and pod configs' schemas: one interface per named object
// schema. `Name` describes an object after defaulting (what the API server stores and what the
// validators return), so a field with a schema default is not optional; `NameInput` describes it
// as written (what the operator renders into a pod config, what a user writes), where only
// required fields are. Input types are rendered only where something uses them.
import { API_VERSION, type KindDefinition } from '../schema/common.js';
import type { ConfigDefinition } from '../schema/config/index.js';
import type { Schema } from '../schema/dsl.js';

function doc(s: Schema, indent: string): string {
  const lines = (s.description ?? '').split('\n');
  if (s.default !== undefined) lines.push(`@default ${JSON.stringify(s.default)}`);
  return `${indent}/** ${lines.join(`\n${indent} * `)} */\n`;
}

type Mode = 'stored' | 'input';

class TypeWriter {
  private readonly decls = new Map<string, string>();

  type(s: Schema, mode: Mode): string {
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
        const t = this.type(s.items ?? {}, mode);
        return t.includes('|') ? `(${t})[]` : `${t}[]`;
      }
      case 'object':
        if (s.properties) return s.$name ? this.named(s.$name, s, mode) : this.body(s, '', mode);
        if (s.additionalProperties) return `Record<string, ${this.type(s.additionalProperties, mode)}>`;
        return 'Record<string, unknown>';
      default:
        return 'unknown';
    }
  }

  private named(base: string, s: Schema, mode: Mode): string {
    const name = mode === 'input' ? `${base}Input` : base;
    if (this.decls.has(name)) return name;
    this.decls.set(name, ''); // reserve: recursive schemas and shared pieces render once
    const what =
      mode === 'input'
        ? `${s.description ?? ''}\n(As written: fields with defaults may be omitted.)`
        : s.description;
    this.decls.set(
      name,
      `${doc({ description: what }, '')}export interface ${name} ${this.body(s, '', mode)}\n`,
    );
    return name;
  }

  private body(s: Schema, indent: string, mode: Mode): string {
    const required = new Set(s.required ?? []);
    const fields = Object.entries(s.properties ?? {}).map(([key, p]) => {
      const optional = !required.has(key) && (mode === 'input' || p.default === undefined);
      return `${doc(p, `${indent}  `)}${indent}  ${key}${optional ? '?' : ''}: ${this.type(p, mode)};\n`;
    });
    return `{\n${fields.join('')}${indent}}`;
  }

  kind(def: KindDefinition): void {
    this.decls.set(def.kind, ''); // the kind's interface comes before the types it uses
    const spec = this.type(def.spec, 'stored');
    const status = this.type(def.status, 'stored');
    this.decls.set(
      def.kind,
      `${doc({ description: def.description }, '')}export interface ${def.kind} {\n` +
        `  apiVersion: '${API_VERSION}';\n  kind: '${def.kind}';\n  metadata: V1ObjectMeta;\n` +
        `  spec: ${spec};\n  status?: ${status};\n}\n`,
    );
  }

  /** A pod config: what the runtime reads after defaulting, and what the operator writes. */
  config(def: ConfigDefinition): void {
    this.type(def.schema, 'stored');
    this.type(def.schema, 'input');
  }

  render(): string {
    return [...this.decls.values()].join('\n');
  }
}

export function renderTypes(
  kinds: readonly KindDefinition[],
  configs: readonly ConfigDefinition[],
  header: string,
): string {
  const w = new TypeWriter();
  for (const k of kinds) w.kind(k);
  for (const c of configs) w.config(c);
  return `${header}import type { V1ObjectMeta } from '@kubernetes/client-node';\n\n${w.render()}`;
}
