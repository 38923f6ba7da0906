// The raw baseline of the operator bench: the API server's own limit for the same work. A bare
// client, with no operator logic, sends the requests the operator sent during the run (same verbs
// on the same kinds, in the same order, the same count, bodies of the same content, the same
// concurrency), into a second namespace of the same kube-apiserver, while the bench's creating
// client creates the same 3,000 objects there as before. Its wall time, from the first create to
// the last request answered, is what the operator's "all reconciled" compares with.
//
// The bodies are rebuilt from what the operator left in the benchmark namespace: a child is the
// live object cut down to the fields the operator's server-side applies own (its managedFields
// entry), i.e. what the operator applied; a finalizer write names the finalizer; a status write
// carries the status the object now shows. An object written several times gets a status that
// differs each time, so that no write is an unchanged no-op the server can skip.
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { rawRequest } from '../../operator/kube-request.js';
import type { AuditEvent } from '../../test/support/kube.js';

const fieldManager = 'eventrunner-operator';
const applyType = 'application/apply-patch+yaml';
const primaries = new Set(['eventsources', 'pipelines', 'sinks', 'replays']);

type Json = Record<string, unknown>;
type Fields = Record<string, unknown>;
interface Managed {
  manager?: string;
  operation?: string;
  subresource?: string;
  fieldsV1?: Fields;
}
interface Live extends Json {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; managedFields?: Managed[] } & Json;
  status?: { conditions?: { message?: string }[] } & Json;
}

/** The parts of `value` that a fieldsV1 set names (what one field manager owns). */
export function projectFields(value: unknown, fields: Fields): unknown {
  const sub = (f: unknown) => Object.keys((f ?? {}) as Fields).filter((k) => k !== '.');
  if (Array.isArray(value)) {
    // Items in the live list's order: those named by key (k:), by value (v:) or by index (i:).
    const out: unknown[] = [];
    const entries = Object.entries(fields);
    value.forEach((item: unknown, index) => {
      for (const [k, f] of entries) {
        let key: Json | undefined;
        if (k.startsWith('k:')) {
          key = JSON.parse(k.slice(2)) as Json;
          if (!item || !Object.entries(key).every(([kk, vv]) => (item as Json)[kk] === vv)) continue;
        } else if (k.startsWith('v:')) {
          if (JSON.stringify(item) !== k.slice(2)) continue;
        } else if (k !== `i:${index}`) continue;
        out.push(sub(f).length ? { ...key, ...(projectFields(item, f as Fields) as Json) } : item);
        break;
      }
    });
    return out;
  }
  if (value && typeof value === 'object') {
    const out: Json = {};
    for (const [k, f] of Object.entries(fields)) {
      if (!k.startsWith('f:')) continue;
      const name = k.slice(2);
      const v = (value as Json)[name];
      if (v === undefined) continue;
      out[name] = sub(f).length ? projectFields(v, f as Fields) : v;
    }
    return out;
  }
  return value;
}

/** What the operator applied to a child: the live object cut to the operator's Apply fields. */
export function appliedBody(obj: Live, namespace: string): Json {
  const entry = obj.metadata.managedFields?.find(
    (m) => m.manager === fieldManager && m.operation === 'Apply' && !m.subresource,
  );
  const projected = (entry?.fieldsV1 ? projectFields(obj, entry.fieldsV1) : {}) as Json;
  return {
    ...projected,
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: { ...(projected.metadata as Json), name: obj.metadata.name, namespace },
  };
}

export interface BaselineResult {
  seconds: number;
  requests: number;
  /** Requests the operator made that have no stand-in here (watches: long-lived, not throughput). */
  skipped: number;
  failed: number;
  firstFailure?: string;
}

/**
 * Replays `requests` (the operator's, from the audit log, oldest first) from namespace `from`
 * into `to` with `concurrency` workers, while `createAll(to)` creates the objects; resolves with
 * the wall time of the whole.
 */
export async function rawBaseline(opts: {
  kc: KubeConfig;
  requests: AuditEvent[];
  from: string;
  to: string;
  concurrency: number;
  group: string;
  version: string;
  /** Creates the benchmark's objects in a namespace, calling `created(plural, name)` for each. */
  createAll: (namespace: string, created: (plural: string, name: string) => void) => Promise<void>;
}): Promise<BaselineResult> {
  const { kc, from, to, group, version } = opts;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const live = new Map<string, Live>();
  const keyOf = (resource: string, name: string) => `${resource}/${name}`;
  for (const plural of primaries) {
    const list = (await custom.listNamespacedCustomObject({ group, version, namespace: from, plural })) as {
      items: Live[];
    };
    for (const o of list.items) live.set(keyOf(plural, o.metadata.name), o);
  }
  // Children and Events as plain JSON (the typed clients would rename fields).
  for (const [resource, path] of [
    ['deployments', `/apis/apps/v1/namespaces/${from}/deployments`],
    ['services', `/api/v1/namespaces/${from}/services`],
    ['configmaps', `/api/v1/namespaces/${from}/configmaps`],
    ['secrets', `/api/v1/namespaces/${from}/secrets`],
  ] as const) {
    const list = (await rawRequest(kc, 'GET', path, undefined)) as { apiVersion: string; items: Live[] };
    const apiVersion = list.apiVersion;
    const kind = {
      deployments: 'Deployment',
      services: 'Service',
      configmaps: 'ConfigMap',
      secrets: 'Secret',
    }[resource];
    for (const o of list.items) live.set(keyOf(resource, o.metadata.name), { ...o, apiVersion, kind });
  }
  const events = (
    (await rawRequest(kc, 'GET', `/api/v1/namespaces/${from}/events`, undefined)) as { items: Live[] }
  ).items;
  await core.createNamespace({ body: { metadata: { name: to } } });

  // Each primary's requests wait until the creating client has created it (as the operator waits
  // for its watch event).
  const createdSignals = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  const signal = (key: string) => {
    let s = createdSignals.get(key);
    if (!s) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      createdSignals.set(key, (s = { promise, resolve }));
    }
    return s;
  };
  const writesOf = new Map<string, number>();
  const intoTo = (uri: string) => uri.replace(`/namespaces/${from}/`, `/namespaces/${to}/`);
  type Step = { wait?: Promise<void>; method: string; path: string; body?: unknown; type?: string };
  const steps: Step[] = [];
  let skipped = 0;
  let eventIndex = 0;
  for (const e of opts.requests) {
    const resource = e.objectRef?.resource ?? '';
    const name = e.objectRef?.name ?? '';
    const path = intoTo(e.requestURI);
    if (e.verb === 'watch') {
      skipped++;
      continue;
    }
    if (e.verb === 'get' || e.verb === 'list') {
      steps.push({ method: 'GET', path });
      continue;
    }
    if (e.verb === 'create' && resource === 'events') {
      const src = events[eventIndex++ % Math.max(1, events.length)];
      const involved = (src?.involvedObject ?? {}) as Json;
      steps.push({
        method: 'POST',
        path,
        body: {
          ...src,
          metadata: { name: `${src?.metadata.name ?? 'event'}-raw-${eventIndex}`, namespace: to },
          involvedObject: { ...involved, namespace: to },
        },
      });
      continue;
    }
    const obj = live.get(keyOf(resource, name));
    if (e.verb !== 'patch' || !obj) {
      skipped++;
      continue;
    }
    const wait = primaries.has(resource) ? signal(keyOf(resource, name)).promise : undefined;
    let body: Json;
    if (e.objectRef?.subresource === 'status') {
      const k = keyOf(`${resource}/status`, name);
      const n = (writesOf.get(k) ?? 0) + 1;
      writesOf.set(k, n);
      const status = structuredClone(obj.status ?? {});
      // Earlier writes of the same object carried another status: make each one a change.
      if (n > 1 && status.conditions?.[0]) status.conditions[0].message += ` (${n})`;
      body = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name, namespace: to }, status };
    } else if (primaries.has(resource)) {
      body = {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        metadata: { name, namespace: to, finalizers: obj.metadata.finalizers },
      };
    } else body = appliedBody(obj, to);
    steps.push({ ...(wait ? { wait } : {}), method: 'PATCH', path, body, type: applyType });
  }

  let failed = 0;
  let firstFailure: string | undefined;
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < steps.length) {
      const s = steps[next++]!;
      if (s.wait) await s.wait;
      try {
        await rawRequest(kc, s.method, s.path, s.body, s.type);
      } catch (err) {
        failed++;
        firstFailure ??= `${s.method} ${s.path}: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
  };
  await Promise.all([
    opts
      .createAll(to, (plural, name) => signal(keyOf(plural, name)).resolve())
      // A failed create must not leave the workers waiting: they report the requests' failures.
      .finally(() => createdSignals.forEach((s) => s.resolve())),
    ...Array.from({ length: opts.concurrency }, worker),
  ]);
  return {
    seconds: +((Date.now() - started) / 1000).toFixed(1),
    requests: steps.length,
    skipped,
    failed,
    ...(firstFailure ? { firstFailure: firstFailure.slice(0, 300) } : {}),
  };
}
