// The CloudEvents codec shared by ingest and the processor.
export type { CloudEvent, HeaderReader } from './types.js';
export { FALLBACK_SOURCE } from './types.js';
export { EventError, EventErrorCode, isEventError } from './errors.js';
export { validateEvent, isJsonMediaType, isRfc3339, isMediaType, isAbsoluteUri } from './attributes.js';
export { assertSubjectType, subjectTypeProblem, subjectFor } from './subject.js';
export { compilePointer, resolvePointer, PointerSyntaxError, type CompiledPointer } from './pointer.js';
export { compileConversion, converterFor, looksStructured, type Converter } from './convert.js';
export { parseJsonBody, parseStructured, parseBatch, batchItems, encodeStructured } from './structured.js';
export { fromBinary, fromHttpBinary, isHttpBinary, natsBinaryAttributes } from './binary.js';
export {
  toNatsMessage,
  fromNatsMessage,
  STRUCTURED_CONTENT_TYPE,
  MSG_ID_HEADER,
  CONTENT_TYPE_HEADER,
  type NatsMessage,
} from './wire.js';
