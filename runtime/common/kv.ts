// Opening a KV bucket the operator normally creates.
import type { KV, Kvm } from '@nats-io/kv';

/**
 * Opens `bucket`, creating it (history 1) when missing: the operator creates it; a worker run on
 * its own (tests, local runs) creates it. open() does not look the bucket up; status() does.
 */
export async function openBucket(kvm: Kvm, bucket: string): Promise<KV> {
  try {
    const kv = await kvm.open(bucket);
    await kv.status();
    return kv;
  } catch {
    return kvm.create(bucket, { history: 1 });
  }
}
