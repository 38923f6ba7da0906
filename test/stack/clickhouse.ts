// ClickHouse (Debian's clickhouse-server) on loopback with its own config, data in a temp dir.
// `users` lets a test add a password-protected user to exercise credentials. Besides the HTTP
// port it serves HTTPS (https_port) with a certificate signed by a CA made for this start.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, httpGet } from './net.js';
import { ServerProcess } from './process.js';
import { makeServerTls, type ServerTls } from './tls.js';

export interface ClickHouseServer {
  url: string;
  /** https://127.0.0.1:PORT, the same server over TLS. */
  httpsUrl: string;
  /** PEM of the CA that signed the HTTPS certificate (for 127.0.0.1 and localhost). */
  caFile: string;
  /** Version string the server reports, e.g. 18.16.1. */
  version: string;
  process: ServerProcess;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

function clickhouseBinary(): string {
  for (const p of ['/usr/sbin/clickhouse-server', '/usr/bin/clickhouse-server', '/usr/bin/clickhouse']) {
    if (existsSync(p)) return p;
  }
  throw new Error(
    'clickhouse-server is not installed; run `npm run tools` (it installs Debian clickhouse-server)',
  );
}

function configXml(
  dir: string,
  httpPort: number,
  httpsPort: number,
  tcpPort: number,
  tls: ServerTls,
): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>information</level><console>1</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <https_port>${httpsPort}</https_port>
  <tcp_port>${tcpPort}</tcp_port>
  <openSSL>
    <server>
      <certificateFile>${tls.certFile}</certificateFile>
      <privateKeyFile>${tls.keyFile}</privateKeyFile>
      <verificationMode>none</verificationMode>
      <loadDefaultCAFile>false</loadDefaultCAFile>
      <cacheSessions>true</cacheSessions>
      <disableProtocols>sslv2,sslv3,tlsv1,tlsv1_1</disableProtocols>
      <preferServerCiphers>true</preferServerCiphers>
    </server>
  </openSSL>
  <max_connections>512</max_connections>
  <keep_alive_timeout>10</keep_alive_timeout>
  <max_concurrent_queries>100</max_concurrent_queries>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <mark_cache_size>268435456</mark_cache_size>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
</yandex>
`;
}

function usersXml(users: Record<string, string>): string {
  const extra = Object.entries(users)
    .map(
      ([name, password]) => `    <${name}>
      <password>${password}</password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </${name}>`,
    )
    .join('\n');
  return `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
${extra}
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;
}

export async function startClickHouse(
  name = 'clickhouse',
  opts: { users?: Record<string, string> } = {},
): Promise<ClickHouseServer> {
  const bin = clickhouseBinary();
  const dir = mkdtempSync(join(tmpdir(), 'eventrunner-clickhouse-'));
  for (const sub of ['data', 'tmp', 'user_files', 'format_schemas']) mkdirSync(join(dir, sub));
  mkdirSync(join(dir, 'tls'));
  const tls = makeServerTls(join(dir, 'tls'), 'clickhouse');
  const [httpPort, httpsPort, tcpPort] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(join(dir, 'config.xml'), configXml(dir, httpPort, httpsPort, tcpPort, tls));
  writeFileSync(join(dir, 'users.xml'), usersXml(opts.users ?? {}));
  const url = `http://127.0.0.1:${httpPort}`;
  const httpsUrl = `https://127.0.0.1:${httpsPort}`;
  const ca = readFileSync(tls.caFile);
  const proc = new ServerProcess({
    name,
    command: bin,
    args: [`--config-file=${join(dir, 'config.xml')}`],
    cwd: dir,
    ready: async () => {
      // Both listeners: a broken TLS config fails the start, not the first TLS test.
      const [plain, secure] = await Promise.all([
        httpGet(`${url}/ping`),
        httpGet(`${httpsUrl}/ping`, 2000, ca),
      ]);
      return [plain, secure].every((res) => res.status === 200 && res.body.startsWith('Ok'));
    },
  });
  await proc.start();
  const res = await httpGet(`${url}/?query=${encodeURIComponent('SELECT version()')}`);
  return {
    url,
    httpsUrl,
    caFile: tls.caFile,
    version: res.body.trim(),
    process: proc,
    pause: () => proc.stop(),
    resume: () => proc.start(),
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
