// Executes the examples of docs/rules.md, so the language reference cannot drift from the engine.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  checkRules,
  compileRules,
  type CloudEventLike,
  type RuleMode,
} from '../../../runtime/rules/index.js';
import { compareExpectation, formatMismatch, testResult } from '../../../runtime/rules/offline.js';

const OUTPUTS = ['store', 'analytics', 'audit'];
const doc = readFileSync(fileURLToPath(new URL('../../../docs/rules.md', import.meta.url)), 'utf8');

interface Block {
  lang: string;
  tag: string;
  body: string;
  line: number;
}

const blocks: Block[] = [];
for (const m of doc.matchAll(/^```(\w*)[ \t]*([^\n]*)\n([\s\S]*?)^```$/gm)) {
  blocks.push({
    lang: m[1]!,
    tag: m[2]!.trim(),
    body: m[3]!,
    line: doc.slice(0, m.index).split('\n').length,
  });
}

interface Example {
  rules: Block;
  follow?: Block;
}

const examples: Example[] = [];
blocks.forEach((b, i) => {
  if (b.lang === 'grl') examples.push({ rules: b, follow: blocks[i + 1] });
});

function wrap(line: { data?: unknown; event?: CloudEventLike }): CloudEventLike {
  if (line.event) return line.event;
  return {
    specversion: '1.0',
    id: 'doc-1',
    type: 'com.shop.order.created',
    source: '/shop',
    data: line.data,
  };
}

describe('docs/rules.md examples', () => {
  it('has examples to run', () => {
    expect(examples.length).toBeGreaterThanOrEqual(8);
  });

  it.each(examples.map((e) => [e.rules.line, e] as const))(
    'example at line %i',
    (_line, { rules, follow }) => {
      if (rules.tag === 'invalid') {
        expect(follow?.tag).toBe('diagnostics');
        const got = checkRules(rules.body, OUTPUTS).map((d) => `${d.line}:${d.column}: ${d.message}`);
        expect(got).toEqual(follow!.body.trim().split('\n'));
        return;
      }
      const mode: RuleMode = rules.tag === 'refire' ? 'refire' : 'once';
      const compiled = compileRules(rules.body, { outputs: OUTPUTS, mode });
      if (follow?.lang !== 'jsonl' || follow.tag !== 'example') return; // rules shown without events
      for (const text of follow.body.trim().split('\n')) {
        const line = JSON.parse(text) as {
          data?: unknown;
          event?: CloudEventLike;
          expect: Record<string, unknown>;
        };
        const result = testResult(compiled.evaluate(wrap(line)));
        const mismatches = compareExpectation(line.expect, result).map(formatMismatch);
        expect(mismatches, text).toEqual([]);
      }
    },
  );
});
