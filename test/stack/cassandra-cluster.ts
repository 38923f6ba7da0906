// Three Apache Cassandra nodes in one data center, each on its own loopback address (127.0.0.1,
// .2, .3) with the same ports, as nodes on separate hosts have: Cassandra knows a peer by its
// address. They start all at once, with small heaps, and keep their data dirs across a kill and
// restart: a new cluster holds no data, so no node needs to bootstrap (stream data from the others,
// one node at a time); each is given its share of the ring (initial_token) and joins it as it is.
// No authentication and no TLS: the cluster is for faults, the single server covers those.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cassandra from 'cassandra-driver';
import { cassandraJavaArgs, cassandraLib } from './cassandra.js';
import { freePort } from './net.js';
import { ServerProcess } from './process.js';

export interface CassandraClusterNode {
  name: string;
  /** Loopback address the node listens on (gossip, storage and CQL). */
  address: string;
  /** address:port of its CQL native transport. */
  contactPoint: string;
  dir: string;
  process: ServerProcess;
}

export interface CassandraCluster {
  nodes: CassandraClusterNode[];
  contactPoints: string[];
  localDataCenter: string;
  version: string;
  /** Waits until a client sees every running node up. */
  healthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface CassandraClusterOptions {
  name?: string;
  nodes?: number;
  /** JVM heap of each node (EVENTRUNNER_CASSANDRA_CLUSTER_HEAP, default 640M). */
  heap?: string;
}

const localDataCenter = 'datacenter1';

const TOKENS_PER_NODE = 16;

/**
 * Node `index` of `count`: every count-th of TOKENS_PER_NODE × count tokens spread evenly over
 * Murmur3's range, so that the nodes' vnodes interleave and each owns an equal share.
 */
export function initialTokens(index: number, count: number): string[] {
  const total = BigInt(TOKENS_PER_NODE * count);
  const step = 2n ** 64n / total;
  return Array.from({ length: TOKENS_PER_NODE }, (_, j) =>
    String(-(2n ** 63n) + BigInt(j * count + index) * step),
  );
}

function nodeYaml(o: {
  dir: string;
  address: string;
  seeds: string[];
  tokens: string[];
  storagePort: number;
  nativePort: number;
}): string {
  return `cluster_name: eventrunner-test-cluster
num_tokens: ${o.tokens.length}
initial_token: ${o.tokens.join(',')}
# A new, empty cluster: nothing to stream from the others.
auto_bootstrap: false
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "${o.seeds.map((a) => `${a}:${o.storagePort}`).join(',')}"
listen_address: ${o.address}
rpc_address: ${o.address}
storage_port: ${o.storagePort}
native_transport_port: ${o.nativePort}
start_native_transport: true
data_file_directories:
  - ${o.dir}/data
commitlog_directory: ${o.dir}/commitlog
saved_caches_directory: ${o.dir}/saved_caches
hints_directory: ${o.dir}/hints
cdc_raw_directory: ${o.dir}/cdc_raw
# The commit log is synced every 10s; a SIGKILL loses nothing that reached the page cache.
commitlog_sync: periodic
commitlog_sync_period: 10000ms
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
disk_access_mode: mmap_index_only
concurrent_reads: 8
concurrent_writes: 16
concurrent_counter_writes: 8
concurrent_compactors: 1
memtable_allocation_type: offheap_objects
dynamic_snitch: false
auto_snapshot: false
snapshot_on_duplicate_row_detection: false
hinted_handoff_enabled: true
read_request_timeout: 5000ms
write_request_timeout: 2000ms
`;
}

/** A port free on every one of the addresses a moment ago. */
async function portFreeOn(addresses: string[]): Promise<number> {
  for (;;) {
    const port = await freePort();
    const free = await Promise.all(
      addresses.map(
        (a) =>
          new Promise<boolean>((resolve) => {
            const s = createServer();
            s.once('error', () => resolve(false));
            s.listen(port, a, () => s.close(() => resolve(true)));
          }),
      ),
    );
    if (free.every(Boolean)) return port;
  }
}

/** True when a client through `contactPoints` sees `expected` nodes up. */
async function nodesUp(contactPoints: string[], expected: string[]): Promise<boolean> {
  const client = new cassandra.Client({
    contactPoints,
    localDataCenter,
    // Peers are found in system.peers, which has no port: the driver reaches them on this one.
    protocolOptions: { port: Number(contactPoints[0]!.split(':')[1]) },
    socketOptions: { connectTimeout: 2000, readTimeout: 5000 },
  });
  try {
    await client.connect();
    await client.execute('SELECT release_version FROM system.local');
    const up = client.hosts
      .values()
      .filter((h) => h.isUp())
      .map((h) => h.address.split(':')[0]!);
    return expected.every((a) => up.includes(a));
  } finally {
    await client.shutdown();
  }
}

export async function startCassandraCluster(opts: CassandraClusterOptions = {}): Promise<CassandraCluster> {
  const { version, libDir, jamm } = await cassandraLib();
  const clusterName = opts.name ?? 'cassandra-cluster';
  const count = opts.nodes ?? 3;
  const heap = opts.heap ?? process.env.EVENTRUNNER_CASSANDRA_CLUSTER_HEAP ?? '640M';
  const addresses = Array.from({ length: count }, (_, i) => `127.0.0.${i + 1}`);
  const storagePort = await portFreeOn(addresses);
  const nativePort = await portFreeOn(addresses);
  const nodes: CassandraClusterNode[] = [];
  for (const [i, address] of addresses.entries()) {
    const dir = mkdtempSync(join(tmpdir(), 'eventrunner-cassandra-cluster-'));
    mkdirSync(join(dir, 'logs'));
    writeFileSync(
      join(dir, 'cassandra.yaml'),
      nodeYaml({
        dir,
        address,
        seeds: addresses,
        tokens: initialTokens(i, count),
        storagePort,
        nativePort,
      }),
    );
    // JMX listens on 127.0.0.1 whatever the node's address: each node needs its own port.
    const jmxPort = await freePort();
    const contactPoint = `${address}:${nativePort}`;
    nodes.push({
      name: `${clusterName}-${i + 1}`,
      address,
      contactPoint,
      dir,
      process: new ServerProcess({
        name: `${clusterName}-${i + 1}`,
        command: 'java',
        args: cassandraJavaArgs({
          libDir,
          jamm,
          dir,
          heap,
          jmxPort,
          // Two cores for three nodes: fewer threads than the defaults, which size by core count.
          extra: ['-XX:ActiveProcessorCount=2', '-XX:ParallelGCThreads=1', '-XX:ConcGCThreads=1'],
        }),
        cwd: dir,
        // Its own CQL port answers only once the node has joined the ring.
        ready: () => nodesUp([contactPoint], [address]),
        readyTimeoutMs: 240_000,
      }),
    });
  }
  const contactPoints = nodes.map((n) => n.contactPoint);
  const healthy = async (timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    const running = nodes.filter((n) => n.process.running).map((n) => n.address);
    let last: unknown;
    for (;;) {
      try {
        if (await nodesUp(contactPoints, running)) return;
      } catch (err) {
        last = err;
      }
      if (Date.now() > deadline)
        throw new Error(
          `Cassandra cluster ${clusterName}: not every node up within ${timeoutMs / 1000}s${last instanceof Error ? ` (${last.message})` : ''}`,
        );
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.process.stop(30_000)));
    for (const n of nodes) rmSync(n.dir, { recursive: true, force: true });
  };
  try {
    // All at once: none bootstraps, so none waits for another.
    await Promise.all(nodes.map((n) => n.process.start()));
    await healthy();
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, contactPoints, localDataCenter, version, healthy, stop };
}
