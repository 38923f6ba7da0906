// Schema pieces shared by the three kinds: condition lists, Secret references, pod resources,
// metadata name rules and the description of a kind (names, columns, subresources).
import {
  arr,
  DNS_LABEL_PATTERN,
  enumOf,
  int,
  map,
  obj,
  quantity,
  str,
  type CelRule,
  type Schema,
} from './dsl.js';

export const GROUP = 'eventrunner.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const CATEGORY = 'eventrunner';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

/** Everything the generator needs to know about one kind. */
export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: Schema;
  status: Schema;
  /** Rules on the whole object (only metadata.name/generateName and spec/status are reachable). */
  rootValidations?: CelRule[];
  printerColumns: PrinterColumn[];
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath: string };
}

/** A name used for objects we derive from it (Services, Deployments, label values) needs headroom. */
export const MAX_WORKLOAD_NAME = 50;

export function workloadNameRule(id: string, what: string): CelRule {
  return {
    $id: id,
    rule: `self.metadata.name.size() <= ${MAX_WORKLOAD_NAME} && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')`,
    message: `metadata.name must start with a letter, contain only a-z, 0-9 and '-', and be at most ${MAX_WORKLOAD_NAME} characters (it names the ${what})`,
  };
}

export function objectName(description: string): Schema {
  return str(description, { pattern: DNS_LABEL_PATTERN, maxLength: 253, minLength: 1 });
}

export function secretKeyRef(
  name: string,
  description: string,
  keyDescription: string,
  defaultKey: string,
): Schema {
  return obj(
    name,
    description,
    {
      name: objectName('Name of a Secret in the same namespace.'),
      key: str(keyDescription, { maxLength: 253, pattern: '^[-._a-zA-Z0-9]+$', default: defaultKey }),
    },
    { required: ['name'] },
  );
}

export function credentialsRef(name: string, what: string): Schema {
  return obj(
    name,
    `Secret in the same namespace holding the ${what} credentials. Omit it when the server needs no authentication.`,
    {
      name: objectName('Name of a Secret in the same namespace.'),
      usernameKey: str('Key of the Secret that holds the user name.', {
        default: 'username',
        maxLength: 253,
      }),
      passwordKey: str('Key of the Secret that holds the password.', { default: 'password', maxLength: 253 }),
    },
    { required: ['name'] },
  );
}

export function resources(name: string, what: string): Schema {
  return obj(name, `Compute resources of each ${what} container, as in a Pod spec.`, {
    requests: map(
      'Minimum resources reserved for the container (e.g. cpu: 100m, memory: 128Mi).',
      quantity('A resource quantity.'),
    ),
    limits: map(
      'Maximum resources the container may use (e.g. memory: 512Mi).',
      quantity('A resource quantity.'),
    ),
  });
}

/** metav1.Condition, with the bounds the upstream type declares. */
export const conditionsSchema: Schema = arr(
  'Current state of the object as metav1.Condition entries, one per type; Ready summarizes the others.',
  obj(
    'Condition',
    'One aspect of the current state, in the metav1.Condition shape.',
    {
      type: str('Condition type in CamelCase, e.g. Ready.', {
        maxLength: 316,
        pattern:
          '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
      }),
      status: enumOf('Whether the condition holds: True, False or Unknown.', ['True', 'False', 'Unknown']),
      observedGeneration: int('metadata.generation the condition was computed from.', {
        minimum: 0,
        format: 'int64',
      }),
      lastTransitionTime: str('When the status last changed (RFC 3339).', { format: 'date-time' }),
      reason: str('Machine-readable CamelCase reason for the last transition.', {
        minLength: 1,
        maxLength: 1024,
        pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      }),
      message: str('Human-readable details of the last transition.', { maxLength: 32768 }),
    },
    { required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] },
  ),
  { maxItems: 16, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
);

export const observedGenerationSchema: Schema = int(
  'metadata.generation of the spec the status describes; older than metadata.generation while the operator catches up.',
  { minimum: 0, format: 'int64' },
);

export function readyColumn(): PrinterColumn {
  return {
    name: 'Ready',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Ready")].status',
    description: 'Status of the Ready condition.',
  };
}

export function ageColumn(): PrinterColumn {
  return {
    name: 'Age',
    type: 'date',
    jsonPath: '.metadata.creationTimestamp',
    description: 'Time since the object was created.',
  };
}
