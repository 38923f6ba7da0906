// The pod configs the operator renders, in the order generated files list them.
import type { ConfigDefinition } from './common.js';
import { ingestConfig } from './ingest.js';
import { processorConfig } from './processor.js';
import { queryWorkerConfig } from './query-worker.js';

export type { ConfigDefinition, Embed } from './common.js';
export { ingestConfig, processorConfig, queryWorkerConfig };

export const podConfigs: readonly ConfigDefinition[] = [ingestConfig, processorConfig, queryWorkerConfig];
