// Loads the shipped .proto files (api/proto) for the gRPC server and its clients.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  loadPackageDefinition,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

// From source (runtime/ingest) and from the build (dist/runtime/ingest) the protos sit at the
// package root in api/proto.
function protoRoot(): string {
  for (const rel of ['../../api/proto/', '../../../api/proto/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}eventrunner/ingest/v1/ingest.proto`)) return dir;
  }
  throw new Error('api/proto/eventrunner/ingest/v1/ingest.proto not found next to the eventrunner package');
}

export interface IngestProto {
  service: ServiceDefinition;
  Client: ServiceClientConstructor;
}

let cached: IngestProto | undefined;

export function loadIngestProto(): IngestProto {
  if (cached) return cached;
  const definition = loadSync('eventrunner/ingest/v1/ingest.proto', {
    includeDirs: [protoRoot()],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  const pkg = loadPackageDefinition(definition) as unknown as {
    eventrunner: { ingest: { v1: GrpcObject & { IngestService: ServiceClientConstructor } } };
  };
  const Client = pkg.eventrunner.ingest.v1.IngestService;
  const proto: IngestProto = { service: Client.service, Client };
  cached = proto;
  return proto;
}
