// The kinds of group eventrunner.io/v1alpha1, in the order generated files list them.
import type { KindDefinition } from './common.js';
import { eventSource } from './eventsource.js';
import { pipeline } from './pipeline.js';
import { replay } from './replay.js';
import { sink } from './sink.js';

export { API_VERSION, CATEGORY, GROUP, VERSION, type KindDefinition } from './common.js';
export { eventSource, pipeline, replay, sink };

export const kinds: readonly KindDefinition[] = [eventSource, pipeline, sink, replay];

export function kindByName(kind: string): KindDefinition | undefined {
  return kinds.find((k) => k.kind === kind);
}
