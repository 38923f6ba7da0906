// Renders docs/api.md, the CRD reference, from the kinds' schemas.
import { API_VERSION, CATEGORY, type KindDefinition } from '../schema/common.js';
import { hints, walk, type Schema } from '../schema/dsl.js';

function typeName(s: Schema): string {
  if (s['x-kubernetes-int-or-string']) return 'int or string';
  if (s.type === 'array') return `[]${typeName(s.items ?? {})}`;
  if (s.type === 'object' && s.additionalProperties) return `map[string]${typeName(s.additionalProperties)}`;
  return s.type ?? 'any';
}

function constraints(s: Schema): string[] {
  const out: string[] = [];
  if (s.enum) out.push(`one of ${s.enum.map((v) => `\`${v}\``).join(', ')}`);
  if (s.pattern) out.push(s.$hint ?? hints[s.pattern] ?? `matches \`${s.pattern}\``);
  if (s.minimum !== undefined) out.push(`min ${s.minimum}`);
  if (s.maximum !== undefined) out.push(`max ${s.maximum}`);
  if (s.minLength !== undefined && s.minLength > 0) out.push(`min length ${s.minLength}`);
  if (s.maxLength !== undefined) out.push(`max length ${s.maxLength}`);
  if (s.minItems !== undefined) out.push(`min items ${s.minItems}`);
  if (s.maxItems !== undefined) out.push(`max items ${s.maxItems}`);
  if (s['x-kubernetes-list-type'] === 'set') out.push('unique items');
  for (const v of s['x-kubernetes-validations'] ?? []) {
    out.push(`${v.$transition ? 'on update: ' : ''}${v.message ?? v.rule}`);
  }
  return out;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function fieldTable(root: string, schema: Schema): string {
  const rows: string[] = [];
  walk(schema, (s, path) => {
    if (path.length === 0) return;
    const name = `${root}.${path
      .join('.')
      .replace(/\.\[\]/g, '[]')
      .replace(/\.\{\}/g, '{}')}`;
    if (path.at(-1) === '[]' || path.at(-1) === '{}') return; // described by the list or map itself
    const parent = path.slice(0, -1);
    const required = requiredIn(schema, parent).has(path.at(-1)!);
    const def = s.default === undefined ? '' : `\`${JSON.stringify(s.default)}\``;
    const rules = constraints(s);
    const desc = [s.description ?? '', ...(rules.length ? [`*${rules.join('; ')}.*`] : [])].join(' ');
    rows.push(`| \`${name}\`${required ? ' (required)' : ''} | ${typeName(s)} | ${def} | ${cell(desc)} |`);
  });
  return ['| Field | Type | Default | Description |', '|---|---|---|---|', ...rows].join('\n');
}

function requiredIn(schema: Schema, path: string[]): Set<string> {
  let s: Schema | undefined = schema;
  for (const p of path) {
    s = p === '[]' ? s?.items : p === '{}' ? s?.additionalProperties : s?.properties?.[p];
  }
  return new Set(s?.required ?? []);
}

function kindSection(def: KindDefinition): string {
  const cols = def.printerColumns
    .map((c) => `\`${c.name.toUpperCase()}\`${c.priority ? ' (`-o wide`)' : ''}`)
    .join(', ');
  const sub = def.scale
    ? `\`status\`, \`scale\` (replicas at \`${def.scale.specReplicasPath}\`, selector at \`${def.scale.labelSelectorPath}\`)`
    : '`status`';
  const rootRules = [...(def.rootValidations ?? []), ...(def.spec['x-kubernetes-validations'] ?? [])].map(
    (r) => `- ${r.$transition ? 'on update: ' : ''}${r.message ?? r.rule}`,
  );
  return [
    `## ${def.kind}`,
    '',
    def.description,
    '',
    `- Short name: ${def.shortNames.map((n) => `\`${n}\``).join(', ')}; plural \`${def.plural}\``,
    `- Subresources: ${sub}`,
    `- \`kubectl get\` columns: ${cols}`,
    ...(rootRules.length ? ['', 'Object rules:', '', ...rootRules] : []),
    '',
    '### spec',
    '',
    fieldTable('spec', def.spec),
    '',
    '### status',
    '',
    fieldTable('status', def.status),
    '',
  ].join('\n');
}

export function renderDocs(kinds: readonly KindDefinition[], header: string): string {
  return [
    header,
    '# API reference: eventrunner.io/v1alpha1',
    '',
    `All kinds are namespaced, belong to the \`${CATEGORY}\` category (\`kubectl get ${CATEGORY}\` lists them) and use \`apiVersion: ${API_VERSION}\`.`,
    'Durations are Go durations (`500ms`, `30s`, `2m`, `72h`); byte sizes are integers or quantities (`512Ki`, `1Mi`, `10Gi`).',
    'Defaults are applied by the API server, and by `eventrunner validate` offline. Rules marked "on update" compare with the previous version and run only on the API server.',
    '',
    "`eventrunner validate -f <file|dir|-> [-R]` checks manifests without a cluster: the schema, the cross-field rules below and each Pipeline's `spec.rules`, printing `file:line:column: message` and exiting 1 on any problem, so GitOps CI can gate changes.",
    '',
    ...kinds.map(kindSection),
  ].join('\n');
}
