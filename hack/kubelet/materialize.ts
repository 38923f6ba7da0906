// Turns a pod template's volumes into files on local disk and rewrites what points into the
// container: mount paths become the local directory, container ports become the host ports this
// replica got (a local process has no network namespace of its own). Only this test kubelet does
// this; the operator and the runtime never know.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CoreV1Api, V1Container, V1PodSpec } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';

export interface Rewrites {
  /** container mount path → local directory */
  paths: [string, string][];
  /** container port → host port */
  ports: Map<number, number>;
}

export function rewritePath(value: string, rw: Rewrites): string {
  for (const [from, to] of rw.paths) {
    if (value === from || value.startsWith(`${from}/`)) return to + value.slice(from.length);
  }
  return value;
}

/** Rewrites string paths and `port`/`*Port` numbers anywhere in a parsed YAML/JSON document. */
export function rewriteDocument(doc: unknown, rw: Rewrites, key = ''): unknown {
  if (typeof doc === 'string') return rewritePath(doc, rw);
  if (typeof doc === 'number' && /port$/i.test(key)) return rw.ports.get(doc) ?? doc;
  if (Array.isArray(doc)) return doc.map((d) => rewriteDocument(d, rw, key));
  if (doc && typeof doc === 'object') {
    return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, rewriteDocument(v, rw, k)]));
  }
  return doc;
}

function rewriteFile(name: string, content: string, rw: Rewrites): string {
  // The pod configs are YAML; JSON files (the schema set) are data and stay byte for byte.
  if (!/\.ya?ml$/.test(name)) return content;
  try {
    return stringify(rewriteDocument(parse(content), rw));
  } catch {
    return content;
  }
}

/** Replaces a file in one step when its content changed, as the kubelet swaps a volume's files. */
function replaceFile(file: string, content: string): void {
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) return;
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, file);
}

/**
 * Writes the container's volumes under `root` and returns the rewrites for its mount paths. With
 * `refresh`, rewrites just the ConfigMap and Secret volumes (files whose content changed), as the
 * kubelet updates a mounted ConfigMap or Secret in place.
 */
export async function materializeVolumes(
  core: CoreV1Api,
  namespace: string,
  pod: V1PodSpec,
  container: V1Container,
  root: string,
  ports: Map<number, number>,
  refresh = false,
): Promise<Rewrites> {
  const rw: Rewrites = { paths: [], ports };
  const mounts = [...(container.volumeMounts ?? [])].sort((a, b) => b.mountPath.length - a.mountPath.length);
  for (const m of mounts) rw.paths.push([m.mountPath, join(root, m.name)]);
  for (const m of mounts) {
    const vol = pod.volumes?.find((v) => v.name === m.name);
    if (!vol) throw new Error(`volume ${m.name} is mounted but not declared`);
    if (refresh && !vol.configMap && !vol.secret) continue;
    const dir = join(root, m.name);
    mkdirSync(dir, { recursive: true });
    let files: Record<string, string> = {};
    let items = vol.configMap?.items ?? vol.secret?.items;
    if (vol.configMap) {
      const cm = await core.readNamespacedConfigMap({ name: vol.configMap.name!, namespace });
      files = { ...cm.data };
    } else if (vol.secret) {
      const s = await core.readNamespacedSecret({ name: vol.secret.secretName!, namespace });
      files = Object.fromEntries(
        Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
      );
    } else {
      items = undefined;
    }
    const selected = items ? items.map((i) => [i.path, files[i.key]] as const) : Object.entries(files);
    for (const [path, content] of selected) {
      if (content === undefined) throw new Error(`volume ${m.name} refers to a key that does not exist`);
      const file = join(dir, path);
      mkdirSync(dirname(file), { recursive: true });
      replaceFile(file, vol.configMap ? rewriteFile(path, content, rw) : content);
    }
  }
  return rw;
}
