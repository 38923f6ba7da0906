// What compiled expressions are: closures over the event object, shared by the compiler and the
// condition cache.
import type { Value } from './values.js';

export type EventObject = Record<string, unknown>;
export type Compiled = (e: EventObject) => Value;
