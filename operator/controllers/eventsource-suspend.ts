// EventSource suspend: a mark in the stream's metadata that every ingest pod reads with the stream
// info it polls, so suspending and resuming take effect within seconds and roll no pod. Ingest
// answers 503 (gRPC UNAVAILABLE) while the mark is there; the stream and its events stay.
import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import type { EventSource } from '../../api/generated/types.js';
import { SUSPENDED_METADATA_KEY } from '../../runtime/ingest/suspend.js';

/**
 * Sets or removes the suspend mark on the stream when it differs from spec.suspend; returns the
 * new state when it changed. Other metadata (the server's own keys) is left as it is.
 */
export async function syncStreamSuspend(
  jsm: JetStreamManager,
  es: EventSource,
  info: StreamInfo,
): Promise<'suspended' | 'resumed' | undefined> {
  const want = es.spec.suspend === true;
  const metadata = { ...(info.config.metadata ?? {}) };
  const has = metadata[SUSPENDED_METADATA_KEY] === 'true';
  if (want === has) return undefined;
  if (want) metadata[SUSPENDED_METADATA_KEY] = 'true';
  else delete metadata[SUSPENDED_METADATA_KEY];
  await jsm.streams.update(info.config.name, { ...info.config, metadata });
  return want ? 'suspended' : 'resumed';
}
