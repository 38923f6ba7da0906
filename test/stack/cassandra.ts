// Apache Cassandra 5.0, the CQL stand-in for ScyllaDB, started from the jars `npm run tools`
// fetched from Maven Central, with a minimal single-node config on loopback and a small heap.
// Besides the plaintext native port it serves CQL over TLS on a port of its own, with a
// certificate signed by a CA made for this start.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cassandra from 'cassandra-driver';
import { freePort } from './net.js';
import { ServerProcess, ServerStartError } from './process.js';
import { cacheDir, MissingToolError, pinnedVersion } from './paths.js';
import { makeServerTls, pkcs12Keystore, tlsHandshake } from './tls.js';

export interface CassandraServer {
  /** host:port of the CQL native transport. */
  contactPoint: string;
  /** host:port of the same native transport over TLS only (no plaintext on this port). */
  tlsContactPoint: string;
  /** PEM of the CA that signed the TLS certificate (for 127.0.0.1 and localhost). */
  caFile: string;
  localDataCenter: string;
  version: string;
  process: ServerProcess;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

// Java 17 module flags from Cassandra's conf/jvm17-server.options: Cassandra reaches into JDK
// internals and fails at start-up without them.
const jvm17Flags = [
  '-Djdk.attach.allowAttachSelf=true',
  ...[
    'java.base/jdk.internal.misc',
    'java.management.rmi/com.sun.jmx.remote.internal.rmi',
    'java.rmi/sun.rmi.registry',
    'java.rmi/sun.rmi.server',
    'java.sql/java.sql',
    'java.base/java.lang.ref',
    'jdk.unsupported/sun.misc',
    'jdk.compiler/com.sun.tools.javac.file',
    'jdk.attach/sun.tools.attach',
  ].flatMap((m) => ['--add-exports', `${m}=ALL-UNNAMED`]),
  ...[
    'java.base/java.lang.module',
    'java.base/jdk.internal.loader',
    'java.base/jdk.internal.ref',
    'java.base/jdk.internal.reflect',
    'java.base/jdk.internal.math',
    'java.base/jdk.internal.module',
    'java.base/jdk.internal.util.jar',
    'jdk.management/com.sun.management.internal',
    'java.base/sun.nio.ch',
    'java.base/java.io',
    'java.base/java.lang.reflect',
    'jdk.compiler/com.sun.tools.javac',
    'java.base/java.lang',
    'java.base/java.util',
  ].flatMap((m) => ['--add-opens', `${m}=ALL-UNNAMED`]),
  '-Dio.netty.tryReflectionSetAccessible=true',
];

/**
 * Which of the JVM's compilers a Cassandra node runs (EVENTRUNNER_CASSANDRA_JIT): `c1`, the quick
 * one only, or `full`, C1 then C2 as in production. Test servers live minutes and do little work,
 * so C2's compiling costs more than it saves: with `c1` a node took 7–9 s of CPU to start rather
 * than 12–14, and 20,000 inserts 4–6 s of CPU rather than 8–11 (two cores, nothing else running).
 * Tests and the demo run `c1`; the benchmarks (`npm run bench`) `full`, as a production server.
 */
export function cassandraJit(env: NodeJS.ProcessEnv = process.env): 'c1' | 'full' {
  const v = env.EVENTRUNNER_CASSANDRA_JIT ?? 'c1';
  if (v !== 'c1' && v !== 'full') throw new Error(`EVENTRUNNER_CASSANDRA_JIT must be c1 or full, not ${v}`);
  return v;
}

/** The JVM command line of one Cassandra node whose config, data and logs are in `dir`. */
export function cassandraJavaArgs(o: {
  libDir: string;
  jamm: string | undefined;
  dir: string;
  heap: string;
  jmxPort: number;
  /** How long a joining node waits for ring information; 0 suits a node that is alone. */
  ringDelayMs?: number;
  extra?: string[];
}): string[] {
  return [
    `-Xms${o.heap}`,
    `-Xmx${o.heap}`,
    '-XX:+UseG1GC',
    '-XX:+ParallelRefProcEnabled',
    '-XX:MaxTenuringThreshold=1',
    '-Xss256k',
    ...(cassandraJit() === 'c1' ? ['-XX:TieredStopAtLevel=1'] : []),
    ...jvm17Flags,
    ...(o.jamm ? [`-javaagent:${join(o.libDir, o.jamm)}`] : []),
    `-Dcassandra.config=file://${join(o.dir, 'cassandra.yaml')}`,
    '-Dcassandra-foreground=true',
    '-Dcassandra.skip_wait_for_gossip_to_settle=0',
    '-Dcassandra.superuser_setup_delay_ms=0',
    `-Dcassandra.ring_delay_ms=${o.ringDelayMs ?? 0}`,
    `-Dcassandra.jmx.local.port=${o.jmxPort}`,
    `-Dcassandra.storagedir=${o.dir}`,
    `-Dcassandra.logdir=${o.dir}/logs`,
    ...(o.extra ?? []),
    '-cp',
    `${o.libDir}/*`,
    'org.apache.cassandra.service.CassandraDaemon',
  ];
}

/** The provisioned Cassandra jars (`npm run tools`), or MissingToolError. */
export async function cassandraLib(): Promise<{ version: string; libDir: string; jamm: string | undefined }> {
  const version = await pinnedVersion('CASSANDRA_VERSION');
  const libDir = join(cacheDir(), `cassandra-${version}`, 'lib');
  if (!existsSync(join(libDir, `cassandra-all-${version}.jar`)))
    throw new MissingToolError('cassandra', libDir);
  return { version, libDir, jamm: readdirSync(libDir).find((f) => /^jamm-.*\.jar$/.test(f)) };
}

interface NativeTls {
  port: number;
  keystore: string;
  password: string;
}

function configYaml(dir: string, nativePort: number, storagePort: number, tls: NativeTls): string {
  return `cluster_name: eventrunner-test
num_tokens: 16
allocate_tokens_for_local_replication_factor: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "127.0.0.1:${storagePort}"
listen_address: 127.0.0.1
rpc_address: 127.0.0.1
storage_port: ${storagePort}
native_transport_port: ${nativePort}
start_native_transport: true
# A second, TLS-only listener: the plaintext port stays exactly as it was for every other client.
# (Deprecated in favour of one port with optional: true, but a TLS-only port is what production
# servers look like, and a plaintext client against it must fail.)
native_transport_port_ssl: ${tls.port}
client_encryption_options:
  enabled: true
  optional: false
  keystore: ${tls.keystore}
  keystore_password: ${tls.password}
  store_type: PKCS12
  require_client_auth: false
data_file_directories:
  - ${dir}/data
commitlog_directory: ${dir}/commitlog
saved_caches_directory: ${dir}/saved_caches
hints_directory: ${dir}/hints
cdc_raw_directory: ${dir}/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
authenticator: PasswordAuthenticator
authorizer: AllowAllAuthorizer
role_manager: CassandraRoleManager
disk_access_mode: mmap_index_only
concurrent_reads: 8
concurrent_writes: 16
concurrent_counter_writes: 8
memtable_allocation_type: offheap_objects
dynamic_snitch: false
auto_snapshot: false
snapshot_on_duplicate_row_detection: false
read_request_timeout: 10000ms
write_request_timeout: 5000ms
`;
}

export const cassandraCredentials = { username: 'cassandra', password: 'cassandra' };

export async function startCassandra(name = 'cassandra'): Promise<CassandraServer> {
  const { version, libDir, jamm } = await cassandraLib();
  const dir = mkdtempSync(join(tmpdir(), 'eventrunner-cassandra-'));
  mkdirSync(join(dir, 'tls'));
  const tls = makeServerTls(join(dir, 'tls'), 'cassandra');
  const password = 'eventrunner-test';
  const keystore = pkcs12Keystore(join(dir, 'tls'), tls, password);
  const [nativePort, tlsPort] = [await freePort(), await freePort()];
  // Clients know only the native ports; the storage and JMX ports can move between starts.
  const nodePorts = async () => {
    const [storagePort, jmxPort] = [await freePort(), await freePort()];
    writeFileSync(
      join(dir, 'cassandra.yaml'),
      configYaml(dir, nativePort, storagePort, { port: tlsPort, keystore, password }),
    );
    return jmxPort;
  };
  const jmxPort = await nodePorts();
  const contactPoint = `127.0.0.1:${nativePort}`;
  const tlsContactPoint = `127.0.0.1:${tlsPort}`;
  const ca = readFileSync(tls.caFile);
  const heap = process.env.EVENTRUNNER_CASSANDRA_HEAP ?? '1G';
  const probe = async () => {
    const client = new cassandra.Client({
      contactPoints: [contactPoint],
      localDataCenter: 'datacenter1',
      credentials: cassandraCredentials,
      socketOptions: { connectTimeout: 2000 },
    });
    try {
      await client.connect();
      // The default superuser exists only once the role manager has set it up.
      const rs = await client.execute('SELECT release_version FROM system.local');
      // The TLS listener starts with the plaintext one; a broken TLS config fails the start here.
      return rs.first() !== null && (await tlsHandshake('127.0.0.1', tlsPort, ca));
    } finally {
      await client.shutdown();
    }
  };
  const args = cassandraJavaArgs({ libDir, jamm, dir, heap, jmxPort });
  const proc = new ServerProcess({
    name,
    command: 'java',
    args,
    cwd: dir,
    ready: probe,
    readyTimeoutMs: 180_000,
  });
  await proc.start();
  return {
    contactPoint,
    tlsContactPoint,
    caFile: tls.caFile,
    localDataCenter: 'datacenter1',
    version,
    process: proc,
    pause: () => proc.stop(30_000),
    async resume() {
      // While the node was down another process may have taken its storage or JMX port (both come
      // from the ephemeral range); Cassandra then exits at start-up. Move those two and start again.
      for (let attempt = 1; ; attempt++) {
        try {
          return await proc.start();
        } catch (err) {
          if (attempt === 3 || !(err instanceof ServerStartError)) throw err;
          const jmx = await nodePorts();
          args.splice(0, args.length, ...cassandraJavaArgs({ libDir, jamm, dir, heap, jmxPort: jmx }));
        }
      }
    },
    async stop() {
      await proc.stop(30_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
