// `eventrunner describe eventsource -f es.yaml`: prints the OpenAPI 3.1 document of the
// EventSource's HTTP ingest and the AsyncAPI 3.0 document of its event types, exactly as its ingest
// pods serve them (/openapi.json, /asyncapi.json), without a cluster, for CI and API catalogs.
// Exit 0: printed; 1: the manifest or a schema is wrong; 2: bad usage.
import { stringify } from 'yaml';
import type { EventSource } from '../../api/generated/types.js';
import { formatPath, validateResource } from '../../api/validate.js';
import { parseBytes } from '../../api/units.js';
import { ingestEndpoints } from '../../operator/builders/ingest.js';
import { streamName, subjectPrefix } from '../../operator/names.js';
import { isConfigError, UsageError } from '../../runtime/common/errors.js';
import { helpText, parseFlags, type CommandSpec } from '../../runtime/common/flags.js';
import { asyncApiDocument, openApiDocument, type DescribeInput } from '../../runtime/schemas/describe.js';
import { addConfigMaps, offlineSchemas, readManifestObjects, type ConfigMapData } from './schema-inputs.js';

export const describeCommand = {
  command: 'eventrunner describe eventsource',
  synopsis: '-f <file> [options]',
  about: `Prints what an EventSource's ingest serves about itself: the OpenAPI 3.1 document of its HTTP
API (each event type's JSON Schema as request body, every status it answers) and the AsyncAPI 3.0
document of its event types. Schemas from ConfigMaps are read from ConfigMap manifests given with -f.
With status (kubectl get -o yaml), unchanged schemas carry their accepted version and dataschema id.

Exit status: 0 printed; 1 the manifest or a schema is wrong; 2 bad usage.`,
  flags: {
    filename: {
      type: 'string',
      short: 'f',
      value: 'file|directory|-',
      required: true,
      multiple: true,
      description: 'manifests holding the EventSource and the ConfigMaps its schemas name (- reads stdin)',
    },
    name: { type: 'string', value: 'name', description: 'which EventSource, when the files hold several' },
    namespace: {
      type: 'string',
      short: 'n',
      value: 'namespace',
      description: 'namespace for addresses when the manifest names none (default: default)',
    },
    document: {
      type: 'string',
      value: 'which',
      choices: ['both', 'openapi', 'asyncapi'],
      default: 'both',
      description: 'which document to print',
    },
    output: {
      type: 'string',
      short: 'o',
      value: 'format',
      choices: ['json', 'yaml'],
      default: 'json',
      description: 'json: one JSON document ({"openapi", "asyncapi"} for both); yaml: YAML documents',
    },
  },
} as const satisfies CommandSpec;

const KINDS = new Set(['eventsource', 'eventsources', 'es']);

export async function run(argv: string[]): Promise<number> {
  const [kind, ...rest] = argv;
  if (kind === '-h' || kind === '--help') {
    process.stdout.write(helpText(describeCommand));
    return 0;
  }
  if (kind === undefined || !KINDS.has(kind.toLowerCase())) {
    throw new UsageError(
      `describe what? Only eventsource is described: eventrunner describe eventsource -f es.yaml`,
    );
  }
  const parsed = parseFlags(describeCommand, rest);
  if (parsed.help) {
    process.stdout.write(helpText(describeCommand));
    return 0;
  }
  const { filename, name, namespace, document, output } = parsed.values;
  let objects: unknown[];
  try {
    objects = readManifestObjects(filename);
  } catch (err) {
    if (isConfigError(err)) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw new UsageError(`cannot read ${filename.join(', ')}: ${(err as Error).message}`);
  }
  const configMaps: ConfigMapData = new Map();
  addConfigMaps(configMaps, objects);
  const sources = objects.filter(
    (o) =>
      (o as { kind?: unknown })?.kind === 'EventSource' &&
      (name === undefined || (o as EventSource).metadata?.name === name),
  );
  if (sources.length !== 1) {
    throw new UsageError(
      sources.length === 0
        ? `no EventSource${name ? ` named ${name}` : ''} in ${filename.join(', ')}`
        : `${sources.length} EventSources in ${filename.join(', ')}: choose one with --name`,
    );
  }
  const { value, issues } = validateResource(sources[0]);
  const es = value as EventSource;
  const what = `EventSource/${es.metadata?.name ?? ''}`;
  if (issues.length) {
    for (const i of issues) process.stderr.write(`${what}: ${formatPath(i.path)}: ${i.message}\n`);
    return 1;
  }
  es.metadata.namespace ??= namespace ?? 'default';
  const declared = offlineSchemas(es, configMaps, true);
  if (declared.issues.length) {
    for (const i of declared.issues) process.stderr.write(`${what}: ${formatPath(i.path)}: ${i.message}\n`);
    return 1;
  }
  const ns = es.metadata.namespace;
  const endpoints = ingestEndpoints(es);
  const input: DescribeInput = {
    namespace: ns,
    name: es.metadata.name!,
    ...(endpoints.http ? { httpUrl: endpoints.http.replace(/\/events$/, '') } : {}),
    auth: es.spec.ingest.auth.enabled,
    maxBatchEvents: es.spec.ingest.maxBatchEvents,
    maxBodyBytes: parseBytes(es.spec.ingest.maxBodyBytes),
    stream: { name: streamName(ns, es.metadata.name!), subjectPrefix: subjectPrefix(ns, es.metadata.name!) },
    conversion: es.spec.conversion,
    schemas: declared.schemas,
  };
  const docs = {
    ...(document !== 'asyncapi' ? { openapi: openApiDocument(input) } : {}),
    ...(document !== 'openapi' ? { asyncapi: asyncApiDocument(input) } : {}),
  };
  const list = Object.values(docs);
  if (output === 'yaml') process.stdout.write(list.map((d) => stringify(d)).join('---\n'));
  else process.stdout.write(`${JSON.stringify(document === 'both' ? docs : list[0], null, 2)}\n`);
  return 0;
}
