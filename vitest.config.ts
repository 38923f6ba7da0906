import { defineConfig } from 'vitest/config';

// Each project names the real servers its tests need; a project's globalSetup files start them
// only when at least one of its tests is selected, and a server is shared by every project that
// needs it within one run (see test/stack/README.md).
type Server =
  | 'kube'
  | 'nats'
  | 'cassandra'
  | 'clickhouse'
  | 'jaeger'
  | 'prometheus'
  | 'nats-cluster'
  | 'cassandra-cluster';

const projects: {
  name: string;
  include: string[];
  servers: Server[];
  timeout?: number;
}[] = [
  { name: 'unit', include: ['test/unit/**/*.test.ts'], servers: [] },
  { name: 'kube', include: ['test/integration/kube/**/*.test.ts'], servers: ['kube'] },
  { name: 'nats', include: ['test/integration/nats/**/*.test.ts'], servers: ['nats'] },
  { name: 'cassandra', include: ['test/integration/cassandra/**/*.test.ts'], servers: ['cassandra'] },
  { name: 'clickhouse', include: ['test/integration/clickhouse/**/*.test.ts'], servers: ['clickhouse'] },
  { name: 'ingest', include: ['test/integration/ingest/**/*.test.ts'], servers: ['nats'] },
  {
    name: 'processor',
    include: ['test/integration/processor/**/*.test.ts'],
    servers: ['nats', 'cassandra', 'clickhouse'],
  },
  // Traces through ingest, processor and sinks into Jaeger; metrics scraped by Prometheus, with
  // every dashboard and alert query run against them, and the web dashboard reading Prometheus
  // (its resources on a kube-apiserver).
  {
    name: 'observability',
    include: ['test/integration/observability/**/*.test.ts'],
    servers: ['kube', 'nats', 'cassandra', 'clickhouse', 'jaeger', 'prometheus'],
  },
  {
    name: 'queries',
    include: ['test/integration/queries/**/*.test.ts'],
    servers: ['nats', 'cassandra', 'clickhouse'],
  },
  {
    name: 'operator',
    include: ['test/integration/operator/**/*.test.ts'],
    servers: ['kube', 'nats', 'cassandra', 'clickhouse'],
  },
  // Apache Flink SQL as an oracle: no server, the flink-sql-harness that `npm run tools` builds.
  { name: 'flink', include: ['test/integration/flink/**/*.test.ts'], servers: [], timeout: 900_000 },
  { name: 'e2e', include: ['test/e2e/**/*.test.ts'], servers: ['kube', 'nats', 'cassandra', 'clickhouse'] },
  // Node failures on a 3-node JetStream and a 3-node Cassandra cluster, 100,000 events per fault.
  // One file: its faults take nodes away one after another, beside the other projects' files.
  {
    name: 'cluster',
    include: ['test/integration/cluster/**/*.test.ts'],
    servers: ['nats-cluster', 'cassandra-cluster'],
    timeout: 600_000,
  },
];

export default defineConfig({
  test: {
    // Three test files at a time on CI's 2 cores: integration tests spend most of their time waiting
    // on servers and processes, and a new file's first seconds go to importing its modules, so with
    // two workers a quarter of the worker time stood idle (256 of 1,357 s in a CI run); three took a
    // warm CI run from 783 to 692 s.
    maxWorkers: 3,
    // The start-servers reporter starts every server the selected projects need at once, when the
    // run starts (their globalSetup files would start them one after another).
    reporters: [
      'default',
      [
        './test/stack/start-servers.ts',
        { servers: Object.fromEntries(projects.map((p) => [p.name, p.servers])) },
      ],
      ...(process.env.CI
        ? [
            ['json', { outputFile: 'test-results/vitest.json' }] as ['json', object],
            // The errors of failed hooks, which the JSON report leaves out (.ci/run prints them).
            ['./test/stack/suite-errors.ts', { outputFile: 'test-results/suite-errors.json' }] as [
              string,
              Record<string, unknown>,
            ],
          ]
        : []),
    ],
    projects: projects.map((p) => ({
      extends: true,
      test: {
        name: p.name,
        include: p.include,
        globalSetup: p.servers.map((s) => `test/stack/setup/${s}.ts`),
        testTimeout: p.timeout ?? (p.servers.length ? 120_000 : 10_000),
        hookTimeout: p.servers.length ? 180_000 : 10_000,
        // Unit test files share a worker's module graph: importing the code once per worker rather
        // than once per file (import 35 s → 13 s, the unit project 93 s → 71 s of wall time).
        ...(p.name === 'unit' ? { isolate: false } : {}),
      },
    })),
  },
});
