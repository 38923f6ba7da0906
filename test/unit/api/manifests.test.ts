// Source positions of YAML manifests: fields, missing fields, and positions inside strings.
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../../../api/manifests.js';

const text = `apiVersion: eventrunner.io/v1alpha1
kind: Pipeline
metadata: {name: a}
spec:
  outputs:
    - {name: store, sink: s}
  rules: "rule R { when true then Route(\\"x\\"); }"
---
---
kind: Sink
spec:
  rules: |2
        indented more than usual
      second line
`;

describe('parseManifests', () => {
  const { documents, errors } = parseManifests(text);

  it('skips empty documents and keeps each document index', () => {
    expect(errors).toEqual([]);
    expect(documents.map((d) => d.index)).toEqual([0, 2]);
  });

  it('locates keys, sequence items and flow mappings; missing fields fall back to their nearest ancestor', () => {
    const d = documents[0]!;
    expect(d.position(['kind'])).toEqual({ line: 2, column: 1 });
    expect(d.position(['metadata', 'name'])).toEqual({ line: 3, column: 12 });
    expect(d.position(['spec', 'outputs', 0])).toEqual({ line: 6, column: 7 });
    expect(d.position(['spec', 'outputs', 0, 'sink'])).toEqual({ line: 6, column: 21 });
    expect(d.position(['spec', 'delivery', 'ackWait'])).toEqual({ line: 4, column: 1 });
    expect(d.position(['spec', 'outputs', 5, 'name'])).toEqual({ line: 5, column: 3 });
  });

  it('maps a position inside a one-line quoted string past the quote', () => {
    // Column 10 of the string is the "w" of "when"; the quote is at file column 10.
    expect(documents[0]!.positionInString(['spec', 'rules'], 1, 10)).toEqual({ line: 7, column: 20 });
    expect(text.split('\n')[6]!.slice(19, 23)).toBe('when');
  });

  it('maps a block scalar line to the lines after its header, using the explicit indentation', () => {
    // `|2` sets the indentation to 4 (2 + the parent's 2): line 1 of the string keeps 4 extra spaces.
    const p = documents[1]!.positionInString(['spec', 'rules'], 2, 1);
    expect(p.line).toBe(14);
    expect(text.split('\n')[13]!.slice(p.column - 1)).toBe('  second line');
  });

  it('reports syntax errors with their position', () => {
    const bad = parseManifests('a: 1\nb: [1, 2\nc: 3\n');
    expect(bad.errors.length).toBeGreaterThan(0);
    expect(bad.errors[0]!.line).toBeGreaterThanOrEqual(2);
    expect(bad.documents).toEqual([]);
  });
});
