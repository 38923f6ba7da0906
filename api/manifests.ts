// Reads multi-document YAML manifests and keeps each document's source positions, so errors about
// a field can name the file, line and column where it was written.
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, Scalar, type Node } from 'yaml';
import type { Path } from './crossfield.js';

/** 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

export interface ManifestDocument {
  /** Index of the document in its file, from 0. */
  index: number;
  object: unknown;
  /** Position of the field at `path`, or of its nearest ancestor written in the file. */
  position(path: Path): Position;
  /**
   * Maps a position inside the string at `path` (line and column counted from 1 within the
   * string, as a compiler of its text reports them) to the file. Exact for block scalars (`|`);
   * for other styles, the line is exact only when the string is written on one line.
   */
  positionInString(path: Path, line: number, column: number): Position;
}

export interface ManifestSyntaxError extends Position {
  message: string;
}

export interface ParsedManifests {
  documents: ManifestDocument[];
  errors: ManifestSyntaxError[];
}

function child(node: unknown, key: string | number): { node: Node | undefined; keyNode?: Node } {
  if (isMap(node)) {
    const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
    return pair
      ? { node: (pair.value ?? undefined) as Node | undefined, keyNode: pair.key as Node }
      : { node: undefined };
  }
  if (isSeq(node) && typeof key === 'number') return { node: node.items[key] as Node | undefined };
  return { node: undefined };
}

export function parseManifests(text: string): ParsedManifests {
  const counter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false });
  const errors: ManifestSyntaxError[] = [];
  const documents: ManifestDocument[] = [];
  const pos = (offset: number): Position => {
    const p = counter.linePos(offset);
    return { line: p.line, column: p.col };
  };
  // A lone `...`/EmptyStream comes back as a non-array; the caller sees no documents.
  if (!Array.isArray(docs)) return { documents, errors };
  docs.forEach((doc, index) => {
    for (const e of doc.errors) errors.push({ ...pos(e.pos[0]), message: e.message.split('\n')[0]! });
    if (doc.errors.length) return;
    const object = doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (object === null || object === undefined) return;
    const locate = (path: Path): { node: Node | undefined; offset: number } => {
      let node: Node | undefined = doc.contents ?? undefined;
      let offset = node?.range?.[0] ?? 0;
      for (const key of path) {
        const next = child(node, key);
        if (!next.node && !next.keyNode) break;
        offset = (next.keyNode ?? next.node)?.range?.[0] ?? offset;
        node = next.node;
        if (!node) break;
      }
      return { node, offset };
    };
    documents.push({
      index,
      object,
      position: (path) => pos(locate(path).offset),
      positionInString(path, line, column) {
        const { node, offset } = locate(path);
        if (!isScalar(node) || !node.range) return pos(offset);
        const start = pos(node.range[0]);
        if (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED) {
          // Line 1 of the string is the line after the `|` header; columns shift by the indentation,
          // which an indicator digit (`|2`) fixes relative to the key's line, else the first line sets.
          const header = /^[|>][+-]?([1-9])?/.exec(text.slice(node.range[0]));
          const lines = text.slice(node.range[0]).split('\n');
          const keyLine = text.split('\n')[start.line - 1] ?? '';
          const firstLine = lines.slice(1).find((l) => l.trim() !== '') ?? '';
          const indent = header?.[1]
            ? keyLine.length - keyLine.trimStart().length + Number(header[1])
            : firstLine.length - firstLine.trimStart().length;
          return { line: start.line + line, column: indent + column };
        }
        const quote = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE ? 1 : 0;
        return line === 1
          ? { line: start.line, column: start.column + quote + column - 1 }
          : { line: start.line + line - 1, column };
      },
    });
  });
  return { documents, errors };
}
