// The Argo CD resource actions of a Pipeline (charts/eventrunner/argocd/actions/*.lua) run under
// Lua 5.1, as Argo CD's gopher-lua runs them, on sample Pipelines; and argocd-cm.yaml installs them
// verbatim.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { validateResource } from '../../../api/validate.js';
import { toLua } from './argocd-lua.js';
import { chartDir } from './helm.js';

const actionsDir = join(chartDir, 'argocd', 'actions');

// Lua 5.1 has no JSON: the driver writes the script's result as JSON for the test to read.
const toJson = `
local function enc(v)
  local t = type(v)
  if t == "nil" then return "null" end
  if t == "boolean" or t == "number" then return tostring(v) end
  if t == "string" then return string.format("%q", v):gsub("\\\\\\n", "\\\\n") end
  local n = #v
  if n > 0 then
    local parts = {}
    for i = 1, n do parts[i] = enc(v[i]) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  local parts = {}
  for k, x in pairs(v) do parts[#parts + 1] = string.format("%q", k) .. ":" .. enc(x) end
  table.sort(parts)
  return "{" .. table.concat(parts, ",") .. "}"
end
`;

function runAction(file: string, obj: unknown): unknown {
  const driver = `${toJson}
obj = ${toLua(obj)}
local result = dofile(${JSON.stringify(join(actionsDir, file))})
io.write(enc(result))`;
  const r = spawnSync('lua5.1', ['-e', driver], { encoding: 'utf8', timeout: 5000 });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
    throw new Error('lua5.1 is not installed; run `npm run tools` (hack/tools/extra-lua.sh installs it)');
  if (r.status !== 0) throw new Error(`${file} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown;
}

const pipeline = (spec: Record<string, unknown>, status?: Record<string, unknown>) => ({
  apiVersion: 'eventrunner.io/v1alpha1',
  kind: 'Pipeline',
  metadata: {
    name: 'orders-from-the-web-shop-checkout',
    namespace: 'shop',
    uid: '6a1f0c2e-0000-4000-8000-000000000001',
    creationTimestamp: '2026-01-02T03:04:05Z',
  },
  spec: { sources: [{ eventSource: 'shop' }], outputs: [{ name: 'a', sink: 'b' }], ...spec },
  ...(status ? { status } : {}),
});

describe('Argo CD actions of a Pipeline', () => {
  it('offers suspend while running, resume while suspended, redrive unless there are no dead letters', () => {
    expect(runAction('discovery.lua', pipeline({ suspend: false }, { deadLetters: 3 }))).toEqual({
      suspend: { disabled: false },
      resume: { disabled: true },
      redrive: { disabled: false },
    });
    expect(runAction('discovery.lua', pipeline({ suspend: true }, { deadLetters: 0 }))).toEqual({
      suspend: { disabled: true },
      resume: { disabled: false },
      redrive: { disabled: true },
    });
    // DLQ unknown (not read yet): redrive stays possible.
    expect(runAction('discovery.lua', pipeline({}))).toMatchObject({ redrive: { disabled: false } });
  });

  it('suspends and resumes by setting spec.suspend, leaving the rest of the spec alone', () => {
    const running = pipeline({ suspend: false, replicas: 2 });
    const suspended = runAction('suspend.lua', running) as ReturnType<typeof pipeline>;
    expect(suspended.spec).toEqual({ ...running.spec, suspend: true });
    const resumed = runAction('resume.lua', suspended) as ReturnType<typeof pipeline>;
    expect(resumed.spec).toEqual({ ...running.spec, suspend: false });
  });

  it('redrives by creating a valid Replay of every dead letter, owned by the Pipeline', () => {
    const result = runAction('redrive.lua', pipeline({})) as { operation: string; resource: unknown }[];
    expect(result).toHaveLength(1);
    expect(result[0]!.operation).toBe('create');
    const replay = result[0]!.resource as {
      metadata: { name: string; namespace: string; ownerReferences: object[] };
      spec: object;
    };
    expect(replay.metadata.name).toMatch(/^orders-from-the-web-shop-c-redrive-\d{14}$/);
    expect(replay.metadata.name.length).toBeLessThanOrEqual(50);
    expect(replay.metadata.namespace).toBe('shop');
    expect(replay.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'eventrunner.io/v1alpha1',
        kind: 'Pipeline',
        name: 'orders-from-the-web-shop-checkout',
        uid: '6a1f0c2e-0000-4000-8000-000000000001',
      },
    ]);
    expect(replay.spec).toEqual({
      pipeline: 'orders-from-the-web-shop-checkout',
      deadLetters: { since: '2026-01-02T03:04:05Z' },
    });
    // What the API server would accept (schema and CEL rules, offline; owner references aside).
    const { name, namespace } = replay.metadata;
    const manifest = { apiVersion: 'eventrunner.io/v1alpha1', kind: 'Replay', metadata: { name, namespace } };
    expect(validateResource({ ...manifest, spec: replay.spec }).issues).toEqual([]);
  });

  it('is what argocd-cm.yaml installs, verbatim', () => {
    const cm = parse(readFileSync(join(chartDir, 'argocd', 'argocd-cm.yaml'), 'utf8')) as {
      data: Record<string, string>;
    };
    const actions = parse(cm.data['resource.customizations.actions.eventrunner.io_Pipeline']!) as {
      'discovery.lua': string;
      definitions: { name: string; 'action.lua': string }[];
    };
    const file = (f: string) => readFileSync(join(actionsDir, f), 'utf8');
    expect(actions['discovery.lua']).toBe(file('discovery.lua'));
    expect(actions.definitions.map((d) => d.name)).toEqual(['suspend', 'resume', 'redrive']);
    for (const d of actions.definitions) expect(d['action.lua']).toBe(file(`${d.name}.lua`));
  });
});
