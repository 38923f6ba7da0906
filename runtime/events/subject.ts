// A CloudEvent's type becomes the tail of its NATS subject (`<prefix>.<type>`), so Pipelines can
// filter by type with subject wildcards. That only works when the type is valid subject tokens.
import { EventError, EventErrorCode } from './errors.js';

/** Returns why `type` cannot be subject tokens, or undefined when it can. */
export function subjectTypeProblem(type: string): string | undefined {
  if (type.length === 0) return 'it is empty';
  let tokenStart = 0;
  let nonAscii = false;
  for (let i = 0; i < type.length; i++) {
    const c = type.charCodeAt(i);
    if (c > 0x7f) nonAscii = true;
    if (c === 0x2e /* . */) {
      if (i === tokenStart) return 'it has an empty token (leading, trailing or doubled ".")';
      tokenStart = i + 1;
    } else if (c <= 0x20 || c === 0x7f) {
      return 'it contains whitespace or a control character';
    } else if (c === 0x2a /* * */ || c === 0x3e /* > */) {
      return `it contains the NATS wildcard "${String.fromCharCode(c)}"`;
    }
  }
  if (tokenStart === type.length) return 'it has an empty token (leading, trailing or doubled ".")';
  // Unicode whitespace beyond ASCII also breaks subjects in practice.
  if (nonAscii && /\s/u.test(type)) return 'it contains whitespace';
  return undefined;
}

/** Throws an EventError (400 at ingest) when `type` cannot be subject tokens. */
export function assertSubjectType(type: string, origin = 'attribute "type"'): void {
  const problem = subjectTypeProblem(type);
  if (problem !== undefined) {
    throw new EventError(
      EventErrorCode.InvalidType,
      `${origin} ${JSON.stringify(type)} cannot be used as a NATS subject: ${problem}; ` +
        'use dot-separated tokens without whitespace, "*" or ">" (e.g. com.example.order.created)',
      { attribute: 'type' },
    );
  }
}

/** The subject an event is published on: `<subjectPrefix>.<type>`. */
export function subjectFor(subjectPrefix: string, type: string): string {
  return `${subjectPrefix}.${type}`;
}
