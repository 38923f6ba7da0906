// The pod configs the operator renders, in the order generated files list them.
import type { ConfigDefinition } from './common.js';
import { ingestConfig } from './ingest.js';
import { processorConfig } from './processor.js';

export type { ConfigDefinition, Embed } from './common.js';
export { ingestConfig, processorConfig };

export const podConfigs: readonly ConfigDefinition[] = [ingestConfig, processorConfig];
