// RFC 6901 JSON pointers, parsed once per configuration and evaluated per event.

export type CompiledPointer = readonly string[];

export class PointerSyntaxError extends Error {
  readonly code = 'POINTER_SYNTAX';
  constructor(pointer: string) {
    super(
      `${JSON.stringify(pointer)} is not a JSON pointer: it must be empty or start with "/" (e.g. /eventType)`,
    );
    this.name = 'PointerSyntaxError';
  }
}

export function compilePointer(pointer: string): CompiledPointer {
  if (pointer === '') return [];
  if (pointer[0] !== '/') throw new PointerSyntaxError(pointer);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The value the pointer refers to, or undefined when any step is missing. */
export function resolvePointer(doc: unknown, tokens: CompiledPointer): unknown {
  let cur = doc;
  for (const t of tokens) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    if (Array.isArray(cur)) {
      if (!/^(?:0|[1-9]\d*)$/.test(t)) return undefined;
      cur = cur[Number(t)];
    } else {
      if (!Object.prototype.hasOwnProperty.call(cur, t)) return undefined;
      cur = (cur as Record<string, unknown>)[t];
    }
  }
  return cur;
}
