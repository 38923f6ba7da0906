// Builds a CustomResourceDefinition object from a kind's definition.
import { API_VERSION, CATEGORY, GROUP, VERSION, type KindDefinition } from '../schema/common.js';
import { kinds } from '../schema/index.js';
import { materializeDefaults, stripInternal, type Schema } from '../schema/dsl.js';

/** The whole object's schema: the shape the API server validates and prunes against. */
export function objectSchema(def: KindDefinition): Schema {
  return {
    type: 'object',
    description: def.description,
    properties: {
      apiVersion: {
        type: 'string',
        description: `APIVersion of this object: ${API_VERSION}.`,
      },
      kind: { type: 'string', description: `Kind of this object: ${def.kind}.` },
      // The API server owns metadata's schema and refuses anything but `type` here.
      metadata: { type: 'object' },
      spec: def.spec,
      status: def.status,
    },
    required: ['spec'],
    ...(def.rootValidations ? { 'x-kubernetes-validations': def.rootValidations } : {}),
  };
}

export function crdFor(def: KindDefinition): Record<string, unknown> {
  const version: Record<string, unknown> = {
    name: VERSION,
    served: true,
    storage: true,
    schema: { openAPIV3Schema: stripInternal(materializeDefaults(objectSchema(def))) },
    subresources: {
      status: {},
      ...(def.scale ? { scale: { ...def.scale } } : {}),
    },
    additionalPrinterColumns: def.printerColumns.map((c) => ({ ...c })),
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: [...def.shortNames],
        categories: [CATEGORY],
      },
      scope: 'Namespaced',
      versions: [version],
    },
  };
}

/** Every eventrunner CRD, as `kubectl apply` and the operator's installer apply them. */
export function crdManifests(): Record<string, unknown>[] {
  return kinds.map((k) => crdFor(k));
}
