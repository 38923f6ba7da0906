// What `eventrunner replay` and `eventrunner redrive` share: create the Replay, then follow its
// status with a progress bar until it succeeds (exit 0) or fails (exit 1).
import type { Replay, ReplaySpec } from '../api/generated/types.js';
import { UsageError } from '../runtime/common/errors.js';

export const kubeFlags = {
  pipeline: { type: 'string', short: 'p', value: 'name', required: true, description: 'the Pipeline' },
  namespace: {
    type: 'string',
    short: 'n',
    value: 'namespace',
    description: "the Pipeline's namespace (default: the kubeconfig context's)",
  },
  name: {
    type: 'string',
    value: 'name',
    description: 'name of the Replay (default: <pipeline>-replay- or <pipeline>-redrive- and a suffix)',
  },
  rate: { type: 'string', value: 'events/s', description: 'at most this many events per second' },
  kubeconfig: {
    type: 'string',
    value: 'file',
    description: 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)',
  },
  'no-follow': { type: 'boolean', description: 'create the Replay and exit without following it' },
  timeout: {
    type: 'string',
    value: 'seconds',
    default: '3600',
    description: 'stop following (exit 1) after this long; the Replay goes on',
  },
} as const;

export function rfc3339(flag: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (Number.isNaN(Date.parse(v)))
    throw new UsageError(`--${flag} ${v}: give an RFC 3339 time such as 2026-01-02T15:04:05Z`);
  return new Date(v).toISOString();
}

export function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} ${v}: give a positive whole number`);
  return n;
}

/** `[#########...........]  45/100  1 failed` */
export function progressLine(s: Replay['status']): string {
  const total = s?.total ?? 0;
  const settled = (s?.done ?? 0) + (s?.failed ?? 0);
  const width = 30;
  const filled = total > 0 ? Math.min(width, Math.round((settled / total) * width)) : 0;
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  return `${bar} ${settled}/${total}${s?.failed ? `  ${s.failed} failed` : ''}  ${s?.phase ?? 'Pending'}`;
}

export interface CreateAndFollow {
  kubeconfig?: string | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
  generateName: string;
  spec: ReplaySpec;
  follow: boolean;
  timeoutMs: number;
  command: string;
}

export async function createAndFollow(o: CreateAndFollow): Promise<number> {
  const { KubeConfig, CustomObjectsApi } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
  else kc.loadFromDefault();
  const namespace = o.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const api = kc.makeApiClient(CustomObjectsApi);
  const target = { group: 'eventrunner.io', version: 'v1alpha1', namespace, plural: 'replays' };
  const created = (await api.createNamespacedCustomObject({
    ...target,
    body: {
      apiVersion: 'eventrunner.io/v1alpha1',
      kind: 'Replay',
      metadata: o.name ? { name: o.name } : { generateName: o.generateName },
      spec: o.spec,
    },
  })) as Replay;
  const name = created.metadata.name!;
  process.stdout.write(`replay.eventrunner.io/${name} created\n`);
  if (!o.follow) return 0;
  const tty = process.stderr.isTTY;
  const deadline = Date.now() + o.timeoutMs;
  let last = '';
  for (;;) {
    const rp = (await api.getNamespacedCustomObject({ ...target, name })) as Replay;
    const line = progressLine(rp.status);
    if (line !== last) {
      process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
      last = line;
    }
    const phase = rp.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      if (tty) process.stderr.write('\n');
      const c = rp.status?.conditions?.find((x) => x.type === 'Succeeded');
      process.stdout.write(`${name}: ${phase}${c ? ` (${c.reason}: ${c.message})` : ''}\n`);
      return phase === 'Succeeded' ? 0 : 1;
    }
    if (Date.now() > deadline) {
      if (tty) process.stderr.write('\n');
      process.stderr.write(`${o.command}: ${name} still ${phase ?? 'Pending'} after --timeout; it goes on\n`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
