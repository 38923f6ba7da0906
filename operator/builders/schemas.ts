// Schema evolution of an EventSource, pure: from the schemas its spec declares now (already read
// from ConfigMaps) and the versions status says are accepted, the versions to serve next and the
// SchemasValid condition. A changed schema becomes the next version when it is compatible (or
// compatibility is None); otherwise the accepted version keeps serving and the condition names the
// first breaking difference. Unit-tested without a server.
import { ConditionReason, ConditionType, type ConditionInput } from '../../api/conditions.js';
import type { EventSourceSchemaStatus } from '../../api/generated/types.js';
import { canonicalJson } from '../../runtime/schemas/canonical.js';
import { breakingChange } from '../../runtime/schemas/compat.js';
import type { JsonSchema } from '../../runtime/schemas/json-schema.js';
import { schemaDigest, schemaId, type SchemaSet } from '../../runtime/schemas/schema-set.js';

/** One entry of spec.schemas with its schema read, or why it could not be. */
export interface DeclaredSchema {
  type: string;
  compatibility: 'Backward' | 'None';
  schema?: JsonSchema;
  problem?: {
    reason: typeof ConditionReason.SchemaInvalid | typeof ConditionReason.SchemaNotFound;
    message: string;
  };
}

export interface SchemaEvolution {
  /** status.schemas: the versions served, in spec order. */
  accepted: EventSourceSchemaStatus[];
  condition: ConditionInput;
  /** Versions accepted by this evolution (new or changed), for Events and logs. */
  changed: { type: string; version: number }[];
}

/** The schema-set file ingest reads, from the accepted versions. */
export function schemaSetOf(accepted: readonly EventSourceSchemaStatus[]): SchemaSet {
  return {
    entries: accepted.map((a) => ({
      type: a.type,
      version: a.version,
      id: a.id,
      digest: a.digest,
      schema: JSON.parse(a.schema) as JsonSchema,
    })),
  };
}

export function evolveSchemas(
  namespace: string,
  name: string,
  declared: readonly DeclaredSchema[],
  previous: readonly EventSourceSchemaStatus[] | undefined,
): SchemaEvolution {
  const accepted: EventSourceSchemaStatus[] = [];
  const changed: SchemaEvolution['changed'] = [];
  let problem: { reason: ConditionReason; message: string } | undefined;
  for (const d of declared) {
    const prev = previous?.find((p) => p.type === d.type);
    const keep = () => {
      if (prev) accepted.push(prev);
    };
    const serving = prev ? `; version ${prev.version} keeps serving` : '; no schema is enforced for it yet';
    if (d.problem || d.schema === undefined) {
      problem ??= {
        reason: d.problem?.reason ?? ConditionReason.SchemaInvalid,
        message: `${d.type}: ${d.problem?.message ?? 'no schema'}${serving}`,
      };
      keep();
      continue;
    }
    const digest = schemaDigest(d.schema);
    if (prev && prev.digest === digest) {
      keep();
      continue;
    }
    if (prev && d.compatibility === 'Backward') {
      const b = breakingChange(JSON.parse(prev.schema) as JsonSchema, d.schema);
      if (b) {
        problem ??= {
          reason: ConditionReason.BreakingSchemaChange,
          message: `${d.type}: the new schema refuses events version ${prev.version} accepts, at ${b.path || '/'}: ${b.message}${serving} (make the change compatible, or set compatibility: None to accept it)`,
        };
        keep();
        continue;
      }
    }
    const version = (prev?.version ?? 0) + 1;
    accepted.push({
      type: d.type,
      version,
      id: schemaId(namespace, name, d.type, version),
      digest,
      schema: canonicalJson(d.schema),
    });
    changed.push({ type: d.type, version });
  }
  const condition: ConditionInput = problem
    ? { type: ConditionType.SchemasValid, status: 'False', reason: problem.reason, message: problem.message }
    : {
        type: ConditionType.SchemasValid,
        status: 'True',
        reason: ConditionReason.SchemasAccepted,
        message: accepted.length
          ? `serving ${accepted.map((a) => `${a.type} v${a.version}`).join(', ')}`
          : 'no schemas declared',
      };
  return { accepted, condition, changed };
}
