// kube-apiserver in the style of controller-runtime's envtest: etcd on loopback, certificates made
// for this run (a CA, a serving cert for 127.0.0.1, an admin client cert in system:masters, a
// service-account signing key), RBAC authorization, and an admin kubeconfig. No kubelet.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcd, type Etcd } from './etcd.js';
import { openssl } from './tls.js';
import { freePort } from './net.js';
import { ServerProcess } from './process.js';
import { toolPath } from './paths.js';

export interface KubeApiServer {
  url: string;
  /** Admin kubeconfig (client certificate in group system:masters). */
  kubeconfig: string;
  /** Directory with ca.crt/ca.key and the service-account key, for tests that mint identities. */
  certDir: string;
  /** Audit log (JSON lines, Metadata level, every request but health probes). */
  auditLog: string;
  etcd: Etcd;
  process: ServerProcess;
  stop(): Promise<void>;
}

/** Signs a certificate for `subject` with the run's CA; `ext` holds x509v3 extensions. */
export function issueCert(dir: string, name: string, subject: string, ext: string): void {
  openssl(['genrsa', '-out', `${name}.key`, '2048'], dir);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-out',
      `${name}.crt`,
      '-days',
      '30',
      '-sha256',
      '-extfile',
      `${name}.ext`,
    ]),
    dir,
  );
}

function makeCerts(dir: string): void {
  openssl(['genrsa', '-out', 'ca.key', '2048'], dir);
  openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-subj',
      '/CN=eventrunner-test-ca',
      '-days',
      '30',
      '-out',
      'ca.crt',
    ],
    dir,
  );
  issueCert(
    dir,
    'serving',
    '/CN=kube-apiserver',
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' +
      'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n',
  );
  issueCert(
    dir,
    'admin',
    '/O=system:masters/CN=eventrunner-admin',
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n',
  );
  openssl(['genrsa', '-out', 'sa.key', '2048'], dir);
}

export function kubeconfigYaml(server: string, ca: string, user: Record<string, string>): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const userLines = Object.entries(user)
    .map(([k, v]) => `    ${k}: ${v}`)
    .join('\n');
  return `apiVersion: v1
kind: Config
clusters:
- name: eventrunner-test
  cluster:
    server: ${server}
    certificate-authority-data: ${b64(ca)}
users:
- name: user
  user:
${userLines}
contexts:
- name: eventrunner-test
  context: {cluster: eventrunner-test, user: user, namespace: default}
current-context: eventrunner-test
`;
}

function readyz(url: string, dir: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      `${url}/readyz`,
      {
        ca: readFileSync(join(dir, 'ca.crt')),
        cert: readFileSync(join(dir, 'admin.crt')),
        key: readFileSync(join(dir, 'admin.key')),
        timeout: 2000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy(new Error('readyz timed out')));
    req.on('error', reject);
  });
}

export async function startKubeApiServer(): Promise<KubeApiServer> {
  const bin = toolPath('kube-apiserver');
  const dir = mkdtempSync(join(tmpdir(), 'eventrunner-kube-'));
  makeCerts(dir);
  const etcd = await startEtcd();
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  // Every request is audited so tests can count what a client (e.g. the operator) sent the API.
  const auditLog = join(dir, 'audit.log');
  writeFileSync(
    join(dir, 'audit-policy.yaml'),
    'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n' +
      '- level: None\n  nonResourceURLs: [/readyz, /livez, /healthz]\n- level: Metadata\n',
  );
  const proc = new ServerProcess({
    name: 'kube-apiserver',
    command: bin,
    args: [
      `--etcd-servers=${etcd.url}`,
      `--secure-port=${port}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--cert-dir=${dir}`,
      `--tls-cert-file=${join(dir, 'serving.crt')}`,
      `--tls-private-key-file=${join(dir, 'serving.key')}`,
      `--client-ca-file=${join(dir, 'ca.crt')}`,
      // A /12 like a real cluster's default: benchmarks create thousands of Services.
      '--service-cluster-ip-range=10.96.0.0/12',
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${join(dir, 'sa.key')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--disable-admission-plugins=ServiceAccount',
      '--allow-privileged=true',
      `--audit-policy-file=${join(dir, 'audit-policy.yaml')}`,
      `--audit-log-path=${auditLog}`,
      '--audit-log-format=json',
      '--audit-log-mode=blocking',
      '--v=1',
    ],
    ready: () => readyz(url, dir),
    readyTimeoutMs: 90_000,
  });
  await proc.start();
  const kubeconfig = join(dir, 'admin.kubeconfig');
  writeFileSync(
    kubeconfig,
    kubeconfigYaml(url, readFileSync(join(dir, 'ca.crt'), 'utf8'), {
      'client-certificate-data': readFileSync(join(dir, 'admin.crt')).toString('base64'),
      'client-key-data': readFileSync(join(dir, 'admin.key')).toString('base64'),
    }),
  );
  return {
    url,
    kubeconfig,
    certDir: dir,
    auditLog,
    etcd,
    process: proc,
    async stop() {
      await proc.stop();
      await etcd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
