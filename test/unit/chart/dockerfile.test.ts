// The Dockerfile cannot be built here (no container engine), so its structure is checked instead:
// production dependencies only in the runtime stage, a numeric non-root user that matches what the
// chart and the operator's workloads run as, an entrypoint serving every subcommand, and every
// path it copies present in the build context.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { podSecurityContext } from '../../../operator/builders/common.js';
import { repoRoot } from '../../stack/paths.js';
import { chartDir } from './helm.js';

interface Stage {
  from: string;
  name?: string;
  instructions: { op: string; args: string }[];
}

function stages(): Stage[] {
  const text = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const result: Stage[] = [];
  for (const line of text.split('\n').map((l) => l.trim())) {
    const m = /^([A-Z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, op, args] = m as unknown as [string, string, string];
    if (op === 'FROM') {
      const [from, , name] = args.split(/\s+/);
      result.push({ from: from!, ...(name ? { name } : {}), instructions: [] });
    } else if (op !== 'ARG' || result.length > 0) {
      result.at(-1)?.instructions.push({ op, args });
    }
  }
  return result;
}

const dockerignore = () =>
  readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

describe('Dockerfile', () => {
  it('is multi-stage, and the runtime stage gets node_modules from a production-only install', () => {
    const all = stages();
    expect(all.length).toBeGreaterThanOrEqual(2);
    const runtime = all.at(-1)!;
    const copies = runtime.instructions.filter((i) => i.op === 'COPY');
    const modules = copies.find((c) => /\bnode_modules\b/.test(c.args));
    const fromStage = /--from=(\S+)/.exec(modules?.args ?? '')?.[1];
    const source = all.find((s) => s.name === fromStage);
    expect(source, 'node_modules must come from a named stage').toBeDefined();
    const installs = source!.instructions.filter(
      (i) => i.op === 'RUN' && /\bnpm (ci|install|prune)\b/.test(i.args),
    );
    expect(installs.length).toBeGreaterThan(0);
    for (const i of installs) {
      if (/\bnpm (ci|install)\b/.test(i.args)) expect(i.args).toMatch(/--omit=dev/);
    }
    // The runtime stage installs nothing itself.
    expect(runtime.instructions.filter((i) => i.op === 'RUN')).toEqual([]);
    expect(runtime.instructions).toContainEqual({ op: 'ENV', args: 'NODE_ENV=production' });
  });

  it('runs as the numeric non-root user the chart and the operator workloads expect', () => {
    const users = stages()
      .at(-1)!
      .instructions.filter((i) => i.op === 'USER')
      .map((i) => i.args);
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0]!.split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    expect(uid).toBe(podSecurityContext.runAsUser);
    expect(gid).toBe(podSecurityContext.runAsGroup);
    const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as {
      podSecurityContext: { runAsUser: number; runAsGroup: number };
    };
    expect(values.podSecurityContext.runAsUser).toBe(uid);
    expect(values.podSecurityContext.runAsGroup).toBe(gid);
  });

  it('enters through the eventrunner CLI, which serves operator, ingest and process', () => {
    const entry = stages()
      .at(-1)!
      .instructions.find((i) => i.op === 'ENTRYPOINT');
    expect(JSON.parse(entry!.args)).toEqual(['node', '/app/bin/eventrunner.js']);
    expect(readFileSync(join(repoRoot, 'bin', 'eventrunner.js'), 'utf8')).toContain('../dist/cli/main.js');
    const commands = readFileSync(join(repoRoot, 'cli', 'commands', 'index.ts'), 'utf8');
    for (const c of ['operator', 'ingest', 'process']) expect(commands).toMatch(new RegExp(`['"]${c}['"]`));
  });

  it('copies only paths that exist and that .dockerignore lets through', () => {
    const ignored = dockerignore();
    for (const stage of stages()) {
      for (const copy of stage.instructions.filter((i) => i.op === 'COPY' && !i.args.includes('--from='))) {
        const sources = copy.args.split(/\s+/).slice(0, -1);
        for (const src of sources) {
          expect(existsSync(join(repoRoot, src)), `${src} exists`).toBe(true);
          const top = src.split('/')[0]!;
          expect(ignored, `${src} is not ignored`).not.toContain(top);
        }
      }
    }
    // Local builds and caches never enter the context.
    for (const p of ['**/node_modules', 'dist', '.git', '.stack']) expect(ignored).toContain(p);
  });
});
