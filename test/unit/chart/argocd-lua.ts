// Runs charts/eventrunner/argocd/health.lua under Lua 5.1 — the language of gopher-lua, which
// Argo CD runs health checks in — with `obj` set to a Kubernetes object, as Argo CD does.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../stack/paths.js';

export const healthScript = join(repoRoot, 'charts', 'eventrunner', 'argocd', 'health.lua');

/** A Lua table constructor for a JSON value (Argo CD hands scripts the object decoded the same way). */
export function toLua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'string') return JSON.stringify(value); // JSON string escapes are valid Lua
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `{${value.map(toLua).join(', ')}}`;
  const fields = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => `[${JSON.stringify(k)}] = ${toLua(v)}`,
  );
  return `{${fields.join(', ')}}`;
}

export interface ArgoHealth {
  status: string;
  message: string;
}

export function argoHealth(obj: unknown): ArgoHealth {
  const driver = `obj = ${toLua(obj)}
local hs = dofile(${JSON.stringify(healthScript)})
io.write(tostring(hs.status), "\\n", tostring(hs.message))`;
  const r = spawnSync('lua5.1', ['-e', driver], { encoding: 'utf8', timeout: 5000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error('lua5.1 is not installed; run `npm run tools` (hack/tools/extra-lua.sh installs it)');
  }
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`health.lua failed: ${r.stderr}`);
  const [status = '', ...rest] = r.stdout.split('\n');
  return { status, message: rest.join('\n') };
}
