// The schemas an EventSource declares, read: inline ones as they are, ConfigMap ones from the
// watched (labelled) ConfigMaps' cache, or by name when unlabelled. Each is checked to be a JSON
// Schema draft 2020-12 that compiles; a problem is reported per entry, never thrown, so the
// versions already accepted keep serving (operator/builders/schemas.ts decides what to serve).
import type { V1ConfigMap } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { ConditionReason } from '../../api/conditions.js';
import type { EventSource, EventSourceSchemaStatus } from '../../api/generated/types.js';
import { schemaProblem } from '../../runtime/schemas/compile.js';
import { isJsonSchema } from '../../runtime/schemas/json-schema.js';
import { isNotFound } from '../apply.js';
import type { DeclaredSchema } from '../builders/schemas.js';
import type { ControllerContext } from '../manager.js';
import { schemaConfigMapLabel } from '../names.js';

async function configMap(
  ctx: ControllerContext,
  namespace: string,
  name: string,
): Promise<V1ConfigMap | undefined> {
  const cached = ctx.caches.schemaConfigMaps.get(name, namespace);
  if (cached) return cached;
  try {
    return await ctx.core.readNamespacedConfigMap({ name, namespace });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * The accepted versions the next evolution starts from: status as the informer has it, unless this
 * operator accepted a later version that the cache does not show yet (versions only grow). Without
 * this, a change right after another could be compared with the version before last.
 */
const written = new WeakMap<ControllerContext, Map<string, EventSourceSchemaStatus[]>>();

export function previousSchemas(ctx: ControllerContext, es: EventSource): EventSourceSchemaStatus[] {
  const mine = written.get(ctx)?.get(`${es.metadata.namespace}/${es.metadata.name}`) ?? [];
  const out = [...(es.status?.schemas ?? [])];
  for (const m of mine) {
    const i = out.findIndex((o) => o.type === m.type);
    if (i < 0) continue; // dropped from status since: someone else knows better
    if (m.version > out[i]!.version) out[i] = m;
  }
  return out;
}

export function rememberSchemas(
  ctx: ControllerContext,
  es: EventSource,
  accepted: EventSourceSchemaStatus[],
): void {
  let byKey = written.get(ctx);
  if (!byKey) written.set(ctx, (byKey = new Map()));
  byKey.set(`${es.metadata.namespace}/${es.metadata.name}`, accepted);
}

export async function declaredSchemas(ctx: ControllerContext, es: EventSource): Promise<DeclaredSchema[]> {
  const namespace = es.metadata.namespace!;
  const out: DeclaredSchema[] = [];
  const read = new Map<string, Promise<V1ConfigMap | undefined>>();
  for (const entry of es.spec.schemas ?? []) {
    const base = { type: entry.type, compatibility: entry.compatibility };
    let schema: unknown = entry.schema;
    const ref = entry.configMapKeyRef;
    if (ref) {
      let p = read.get(ref.name);
      if (!p) read.set(ref.name, (p = configMap(ctx, namespace, ref.name)));
      const cm = await p;
      const text = cm?.data?.[ref.key];
      if (text === undefined) {
        out.push({
          ...base,
          problem: {
            reason: ConditionReason.SchemaNotFound,
            message: cm
              ? `ConfigMap ${ref.name} has no key ${ref.key}`
              : `ConfigMap ${ref.name} does not exist; create it (kubectl create configmap ${ref.name} --from-file=${ref.key}=<schema file>) and label it ${schemaConfigMapLabel}=true`,
          },
        });
        continue;
      }
      try {
        schema = parseYaml(text) as unknown;
      } catch (err) {
        out.push({
          ...base,
          problem: {
            reason: ConditionReason.SchemaInvalid,
            message: `key ${ref.key} of ConfigMap ${ref.name} is not JSON or YAML: ${(err as Error).message}`,
          },
        });
        continue;
      }
    }
    const problem = schemaProblem(schema);
    if (problem || !isJsonSchema(schema)) {
      const where = ref ? `key ${ref.key} of ConfigMap ${ref.name}` : 'the schema';
      out.push({
        ...base,
        problem: {
          reason: ConditionReason.SchemaInvalid,
          message: `${where}: ${problem ?? 'not a JSON Schema'}`,
        },
      });
      continue;
    }
    out.push({ ...base, schema });
  }
  return out;
}
