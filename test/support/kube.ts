// Small helpers for tests that talk to the test stack's kube-apiserver.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { shareConnections } from '../../runtime/internals/kube-connections.js';
import { issueCert, kubeconfigYaml } from '../stack/kube.js';

export function adminConfig(kubeconfig: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return shareConnections(kc);
}

function statusOf(err: unknown): number | undefined {
  const e = err as { statusCode?: number; code?: number } | undefined;
  return e?.statusCode ?? e?.code;
}

/**
 * Watches `path` until `match` returns true for an event, and resolves that object. A fresh CRD's
 * watch cache answers 429 while it initialises; the watch is re-established then, as an informer
 * would do.
 */
export async function watchUntil<T>(
  kc: KubeConfig,
  path: string,
  match: (type: string, obj: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    const result = await new Promise<{ obj?: T; err?: unknown }>((resolve) => {
      let settled = false;
      const finish = (r: { obj?: T; err?: unknown }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        void abort.then((req) => req?.abort());
        resolve(r);
      };
      const timer = setTimeout(
        () => finish({ err: new Error(`no matching event on ${path}`) }),
        deadline - Date.now(),
      );
      const abort = new Watch(kc)
        .watch(
          path,
          {},
          (type, obj: T) => {
            if (match(type, obj)) finish({ obj });
          },
          (err) => finish({ err: err ?? new Error('watch closed') }),
        )
        .catch((err: unknown) => {
          finish({ err });
          return undefined;
        });
    });
    if (result.obj !== undefined) return result.obj;
    lastErr = result.err;
    if (statusOf(lastErr) !== 429 && !String(lastErr).includes('Too Many Requests')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
}

/** A kubeconfig for a client-certificate identity signed by the test apiserver's CA. */
export function certificateKubeconfig(
  env: { url: string; certDir: string },
  user: string,
  groups: string[],
): string {
  const name = `user-${user.replace(/[^a-z0-9-]/gi, '-')}`;
  const subject = `${groups.map((g) => `/O=${g}`).join('')}/CN=${user}`;
  issueCert(
    env.certDir,
    name,
    subject,
    'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n',
  );
  const file = join(env.certDir, `${name}.kubeconfig`);
  writeFileSync(
    file,
    kubeconfigYaml(env.url, readFileSync(join(env.certDir, 'ca.crt'), 'utf8'), {
      'client-certificate-data': readFileSync(join(env.certDir, `${name}.crt`)).toString('base64'),
      'client-key-data': readFileSync(join(env.certDir, `${name}.key`)).toString('base64'),
    }),
  );
  return file;
}

export interface AuditEvent {
  verb: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  requestURI: string;
  stageTimestamp: string;
}

/** Audit events of one user since `since`, read from the apiserver's audit log. */
export function auditEvents(auditLog: string, username: string, since: Date): AuditEvent[] {
  return readFileSync(auditLog, 'utf8')
    .split('\n')
    .filter((l) => l.includes(username))
    .map((l) => JSON.parse(l) as AuditEvent)
    .filter((e) => e.user.username === username && new Date(e.stageTimestamp) >= since);
}

export const writeVerbs = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
