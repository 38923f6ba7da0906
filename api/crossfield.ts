// The CEL `x-kubernetes-validations` of api/schema/, in TypeScript, so `eventrunner validate` and
// every other offline check reject what the API server rejects. Keyed by the rule's `$id`; a unit
// test fails when a CEL rule has no twin here (rules on `oldSelf` cannot run offline and are exempt).
import { MAX_WORKLOAD_NAME } from './schema/common.js';
import {
  CLICKHOUSE_TLS_NEEDS_HTTPS,
  COLUMNS_NEED_TABLE,
  EXACTLY_ONE_KIND,
  HTTP_HEADER_RESERVED,
  HTTP_TLS_NEEDS_HTTPS,
  RESERVED_HTTP_HEADERS,
  SCYLLA_TLS_NEEDS_ENABLED,
  SINK_KINDS,
  STANDARD_COLUMNS,
} from './schema/sink.js';
import { parseDuration } from './units.js';

export type Path = (string | number)[];
export interface Issue {
  /** Path of the offending field from the object root, e.g. ['spec', 'outputs', 1, 'name']. */
  path: Path;
  message: string;
}

type Obj = Record<string, unknown>;
type Check = (object: Obj) => Issue[];

function at(value: unknown, ...path: (string | number)[]): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function durationMs(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    return parseDuration(value);
  } catch {
    return undefined; // the schema check reports the malformed value
  }
}

/** Indexes of entries whose key occurs more than once; the later ones, as CEL's exists_one flags them all. */
function duplicates(items: unknown[], key: (item: unknown) => unknown): number[] {
  const seen = new Map<unknown, number>();
  for (const item of items) seen.set(key(item), (seen.get(key(item)) ?? 0) + 1);
  return items.flatMap((item, i) => ((seen.get(key(item)) ?? 0) > 1 ? [i] : []));
}

const workloadName: Check = (o) => {
  const name = at(o, 'metadata', 'name');
  if (typeof name !== 'string') return [];
  const ok = name.length <= MAX_WORKLOAD_NAME && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name);
  return ok
    ? []
    : [
        {
          path: ['metadata', 'name'],
          message: `must start with a letter, contain only a-z, 0-9 and '-', and be at most ${MAX_WORKLOAD_NAME} characters`,
        },
      ];
};

function positiveDuration(path: Path, value: unknown): Issue[] {
  const ms = durationMs(value);
  return ms === 0 ? [{ path, message: 'must be greater than 0' }] : [];
}

const onePosition =
  (field: 'from' | 'to'): Check =>
  (o) => {
    const p = at(o, 'spec', field);
    return p !== undefined && (at(p, 'time') !== undefined) === (at(p, 'sequence') !== undefined)
      ? [{ path: ['spec', field], message: 'set exactly one of time and sequence' }]
      : [];
  };

/** The Replay's rules (api/schema/replay.ts). */
const replayChecks: Record<string, Check> = {
  'rp-name': workloadName,
  'rp-from-one': onePosition('from'),
  'rp-to-one': onePosition('to'),
  'rp-one-of': (o) =>
    (at(o, 'spec', 'from') !== undefined) === (at(o, 'spec', 'deadLetters') !== undefined)
      ? [
          {
            path: ['spec'],
            message: 'set exactly one of from (replay the sources) and deadLetters (redrive dead letters)',
          },
        ]
      : [],
  'rp-to-needs-from': (o) =>
    at(o, 'spec', 'to') !== undefined && at(o, 'spec', 'from') === undefined
      ? [{ path: ['spec', 'to'], message: 'to needs from' }]
      : [],
};

export const checks: Record<string, Check> = {
  ...replayChecks,
  'es-name': workloadName,
  'pl-name': workloadName,

  'es-ingest-protocol': (o) =>
    at(o, 'spec', 'ingest', 'http', 'enabled') === false &&
    at(o, 'spec', 'ingest', 'grpc', 'enabled') === false
      ? [{ path: ['spec', 'ingest'], message: 'at least one of http and grpc must be enabled' }]
      : [],
  'es-ingest-burst': (o) => {
    const ingest = at(o, 'spec', 'ingest');
    const rate = at(ingest, 'rateLimit', 'eventsPerSecond');
    const burst = at(ingest, 'rateLimit', 'burst');
    const batch = at(ingest, 'maxBatchEvents');
    return typeof rate === 'number' &&
      rate > 0 &&
      typeof burst === 'number' &&
      typeof batch === 'number' &&
      burst < batch
      ? [
          {
            path: ['spec', 'ingest', 'rateLimit', 'burst'],
            message: 'rateLimit.burst must be at least maxBatchEvents, or no full batch could ever pass',
          },
        ]
      : [];
  },
  'es-ingest-ports': (o) => {
    const ingest = at(o, 'spec', 'ingest');
    const both = at(ingest, 'http', 'enabled') !== false && at(ingest, 'grpc', 'enabled') !== false;
    return both && at(ingest, 'http', 'port') === at(ingest, 'grpc', 'port')
      ? [{ path: ['spec', 'ingest', 'grpc', 'port'], message: 'http.port and grpc.port must differ' }]
      : [];
  },
  'es-auth-secret': (o) =>
    at(o, 'spec', 'ingest', 'auth', 'enabled') !== false &&
    at(o, 'spec', 'ingest', 'auth', 'tokensSecretRef') === undefined
      ? [
          {
            path: ['spec', 'ingest', 'auth', 'tokensSecretRef'],
            message:
              'required while ingest.auth.enabled is true (set it to false to accept unauthenticated events)',
          },
        ]
      : [],
  'es-duplicate-window': (o) => {
    const maxAge = durationMs(at(o, 'spec', 'stream', 'maxAge'));
    const window = durationMs(at(o, 'spec', 'stream', 'duplicateWindow'));
    return maxAge !== undefined && window !== undefined && maxAge !== 0 && window > maxAge
      ? [
          {
            path: ['spec', 'stream', 'duplicateWindow'],
            message: 'duplicateWindow must not be longer than maxAge',
          },
        ]
      : [];
  },
  'es-schema-source': (o) =>
    list(at(o, 'spec', 'schemas')).flatMap((entry, i) =>
      (at(entry, 'schema') !== undefined) === (at(entry, 'configMapKeyRef') !== undefined)
        ? [
            {
              path: ['spec', 'schemas', i],
              message: 'set exactly one of schema (inline) and configMapKeyRef',
            },
          ]
        : [],
    ),
  'es-schema-types-unique': (o) =>
    duplicates(list(at(o, 'spec', 'schemas')), (x) => at(x, 'type')).map((i) => ({
      path: ['spec', 'schemas', i, 'type'],
      message: 'each type may appear once in schemas',
    })),

  'pl-ack-wait-positive': (o) =>
    positiveDuration(['spec', 'delivery', 'ackWait'], at(o, 'spec', 'delivery', 'ackWait')),
  'pl-backoff-positive': (o) =>
    list(at(o, 'spec', 'delivery', 'backoff')).flatMap((d, i) =>
      positiveDuration(['spec', 'delivery', 'backoff', i], d),
    ),
  'pl-backoff-max-deliver': (o) => {
    const backoff = at(o, 'spec', 'delivery', 'backoff');
    const maxDeliver = at(o, 'spec', 'delivery', 'maxDeliver');
    return Array.isArray(backoff) && typeof maxDeliver === 'number' && backoff.length >= maxDeliver
      ? [{ path: ['spec', 'delivery', 'backoff'], message: 'backoff must list fewer delays than maxDeliver' }]
      : [];
  },
  'pl-outputs-unique': (o) =>
    duplicates(list(at(o, 'spec', 'outputs')), (x) => at(x, 'name')).map((i) => ({
      path: ['spec', 'outputs', i, 'name'],
      message: `output names must be unique; ${JSON.stringify(at(o, 'spec', 'outputs', i, 'name'))} is declared more than once`,
    })),
  'pl-sources-unique': (o) =>
    duplicates(list(at(o, 'spec', 'sources')), (x) => at(x, 'eventSource')).map((i) => ({
      path: ['spec', 'sources', i, 'eventSource'],
      message: 'each eventSource may appear once; list all its types in one entry',
    })),
  'pl-queries-unique': (o) =>
    duplicates(list(at(o, 'spec', 'queries')), (x) => at(x, 'name')).map((i) => ({
      path: ['spec', 'queries', i, 'name'],
      message: `query names must be unique; ${JSON.stringify(at(o, 'spec', 'queries', i, 'name'))} is declared more than once`,
    })),
  'pl-tables-unique': (o) =>
    duplicates(list(at(o, 'spec', 'tables')), (x) => at(x, 'name')).map((i) => ({
      path: ['spec', 'tables', i, 'name'],
      message: `table names must be unique; ${JSON.stringify(at(o, 'spec', 'tables', i, 'name'))} is declared more than once`,
    })),
  'pl-query-outputs-declared': (o) => {
    const declared = new Set(list(at(o, 'spec', 'outputs')).map((x) => at(x, 'name')));
    return list(at(o, 'spec', 'queries')).flatMap((q, i) =>
      list(at(q, 'outputs')).flatMap((n, j) =>
        declared.has(n)
          ? []
          : [
              {
                path: ['spec', 'queries', i, 'outputs', j],
                message: `query outputs must name outputs declared in spec.outputs; ${JSON.stringify(n)} is not declared`,
              },
            ],
      ),
    );
  },
  'pl-lookback-positive': (o) =>
    positiveDuration(['spec', 'autoscaling', 'lookback'], at(o, 'spec', 'autoscaling', 'lookback')),
  'pl-autoscaling-range': (o) => {
    const min = at(o, 'spec', 'autoscaling', 'minReplicas') ?? 1;
    const max = at(o, 'spec', 'autoscaling', 'maxReplicas');
    return typeof min === 'number' && typeof max === 'number' && min > max
      ? [{ path: ['spec', 'autoscaling', 'minReplicas'], message: 'minReplicas must not exceed maxReplicas' }]
      : [];
  },
  'pl-idle-timeout-positive': (o) =>
    list(at(o, 'spec', 'queries')).flatMap((q, i) =>
      positiveDuration(['spec', 'queries', i, 'idleTimeout'], at(q, 'idleTimeout')),
    ),
  'pl-default-outputs-declared': (o) => {
    const declared = new Set(list(at(o, 'spec', 'outputs')).map((x) => at(x, 'name')));
    return list(at(o, 'spec', 'defaultOutputs')).flatMap((d, i) =>
      declared.has(d)
        ? []
        : [
            {
              path: ['spec', 'defaultOutputs', i],
              message: `defaultOutputs must name outputs declared in spec.outputs; ${JSON.stringify(d)} is not declared`,
            },
          ],
    );
  },

  'sk-exactly-one': (o) => {
    const n = SINK_KINDS.filter((k) => at(o, 'spec', k) !== undefined).length;
    return n === 1 ? [] : [{ path: ['spec'], message: EXACTLY_ONE_KIND }];
  },
  'sk-columns-tables': (o) =>
    list(at(o, 'spec', 'columns')).length > 0 &&
    at(o, 'spec', 'scylla') === undefined &&
    at(o, 'spec', 'clickhouse') === undefined
      ? [{ path: ['spec', 'columns'], message: COLUMNS_NEED_TABLE }]
      : [],
  'sk-http-tls-https': (o) => {
    const url = at(o, 'spec', 'http', 'url');
    if (typeof url !== 'string' || url.toLowerCase().startsWith('https://')) return [];
    const tls = at(o, 'spec', 'http', 'tls');
    const asks = at(tls, 'caSecretRef') !== undefined || at(tls, 'insecureSkipVerify') === true;
    return asks ? [{ path: ['spec', 'http', 'url'], message: HTTP_TLS_NEEDS_HTTPS }] : [];
  },
  'sk-http-batch-mode': (o) =>
    at(o, 'spec', 'http', 'batch') !== undefined && at(o, 'spec', 'http', 'mode') !== 'batch'
      ? [
          {
            path: ['spec', 'http', 'batch'],
            message: 'batch settings apply to mode: batch only; set mode: batch or remove batch',
          },
        ]
      : [],
  'sk-http-auth-one': (o) => {
    const auth = at(o, 'spec', 'http', 'auth');
    if (auth === undefined) return [];
    return (at(auth, 'bearerTokenSecretRef') === undefined) !== (at(auth, 'basicSecretRef') === undefined)
      ? []
      : [
          {
            path: ['spec', 'http', 'auth'],
            message: 'auth needs exactly one of bearerTokenSecretRef or basicSecretRef',
          },
        ];
  },
  'sk-http-headers-reserved': (o) => {
    const headers = at(o, 'spec', 'http', 'headers');
    if (headers === null || typeof headers !== 'object') return [];
    const bad = Object.keys(headers).some(
      (k) =>
        !/^[-!#$%&*+.^_|~0-9A-Za-z]+$/.test(k) ||
        k.toLowerCase().startsWith('ce-') ||
        (RESERVED_HTTP_HEADERS as readonly string[]).includes(k.toLowerCase()),
    );
    return bad
      ? [
          {
            path: ['spec', 'http', 'headers'],
            message: `header names must be HTTP tokens; ${HTTP_HEADER_RESERVED}`,
          },
        ]
      : [];
  },
  'sk-http-timeout-positive': (o) =>
    positiveDuration(['spec', 'http', 'timeout'], at(o, 'spec', 'http', 'timeout')),
  'sk-scylla-tls-enabled': (o) => {
    const tls = at(o, 'spec', 'scylla', 'tls');
    if (tls === undefined || at(tls, 'enabled') === true) return [];
    const asks = at(tls, 'caSecretRef') !== undefined || at(tls, 'insecureSkipVerify') === true;
    return asks ? [{ path: ['spec', 'scylla', 'tls', 'enabled'], message: SCYLLA_TLS_NEEDS_ENABLED }] : [];
  },
  'sk-clickhouse-tls-https': (o) => {
    const url = at(o, 'spec', 'clickhouse', 'url');
    if (typeof url !== 'string' || url.toLowerCase().startsWith('https://')) return [];
    const tls = at(o, 'spec', 'clickhouse', 'tls');
    const asks =
      at(tls, 'enabled') === true ||
      at(tls, 'caSecretRef') !== undefined ||
      at(tls, 'insecureSkipVerify') === true;
    return asks ? [{ path: ['spec', 'clickhouse', 'url'], message: CLICKHOUSE_TLS_NEEDS_HTTPS }] : [];
  },
  'sk-columns-unique': (o) =>
    duplicates(list(at(o, 'spec', 'columns')), (c) => String(at(c, 'name')).toLowerCase()).map((i) => ({
      path: ['spec', 'columns', i, 'name'],
      message: 'column names must be unique (case-insensitive)',
    })),
  'sk-column-reserved': (o) =>
    list(at(o, 'spec', 'columns')).flatMap((c, i) => {
      const name = at(c, 'name');
      return typeof name === 'string' && (STANDARD_COLUMNS as readonly string[]).includes(name.toLowerCase())
        ? [
            {
              path: ['spec', 'columns', i, 'name'],
              message: `column name ${name} is a standard column (${STANDARD_COLUMNS.join(', ')}); choose another name`,
            },
          ]
        : [];
    }),
};

/** Runs the offline twins of the given CEL rule ids on an object. */
export function crossFieldIssues(object: Obj, ruleIds: readonly string[]): Issue[] {
  return ruleIds.flatMap((id) => checks[id]?.(object) ?? []);
}
