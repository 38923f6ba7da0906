// A request to the Kubernetes API that the typed clients cannot make faithfully: client-node's
// serializer maps known types by their TypeScript attribute names and silently drops dashed keys
// (x-kubernetes-int-or-string in a CRD) and cannot target the status subresource of custom
// resources. Authentication comes from the kubeconfig, as for the typed clients.
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export class ApiError extends Error {
  readonly code: number;
  readonly body: string;
  constructor(code: number, body: string) {
    super(`API server answered ${code}: ${body.slice(0, 500)}`);
    this.name = 'ApiError';
    this.code = code;
    this.body = body;
  }
}

export async function rawRequest(
  kc: KubeConfig,
  method: string,
  path: string,
  body: unknown,
  contentType = 'application/json',
): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const opts: { headers: Record<string, string> } & Record<string, unknown> = { headers: {} };
  await kc.applyToHTTPSOptions(opts);
  const url = new URL(path, cluster.server);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        ...opts,
        method,
        headers: {
          ...opts.headers,
          accept: 'application/json',
          ...(payload ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (data += c));
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) resolve(data ? JSON.parse(data) : undefined);
          else reject(new ApiError(code, data));
        });
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}
