// The NATS user of a workload, as its pods see it: the credentials Secret mounted as a whole volume
// (so that the kubelet swaps in rotated credentials without a rollout), the config's nats section
// pointing at the file, and the workload's own inbox prefix its permissions allow; and the CA
// bundle of a NATS with a private CA, beside the config file.
import type { V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { NatsConnectionInput } from '../../api/generated/types.js';
import { credsKey } from '../nats-credentials.js';
import { inboxPrefixFor } from '../nats-permissions.js';
import type { OperatorOptions } from '../options.js';
import { configMountPath } from './common.js';

const mountPath = `${configMountPath}/nats`;
/** The pod volume holding a workload's credentials Secret. */
export const natsUserVolumeName = 'nats-user';
/** The key of the NATS CA bundle in a workload's config ConfigMap (mounted at configMountPath). */
const caKey = 'nats-ca.crt';

/**
 * The nats section of a workload's config: the URL, and when the operator mints users, the
 * credentials file and the inbox prefix. `workload` is unique in the namespace (e.g. shop-ingest).
 */
export function natsConnection(
  options: OperatorOptions,
  namespace: string,
  workload: string,
  name?: string,
): NatsConnectionInput {
  return {
    url: options.natsUrl,
    ...(name ? { name } : {}),
    ...(options.natsCaPem ? { caFile: `${configMountPath}/${caKey}` } : {}),
    ...(options.natsUsers
      ? { credentialsFile: `${mountPath}/${credsKey}`, inboxPrefix: inboxPrefixFor(namespace, workload) }
      : {}),
  };
}

/** What a workload's config ConfigMap carries beside config.yaml: the NATS CA bundle, if any. */
export function natsConfigMapData(options: OperatorOptions): Record<string, string> {
  return options.natsCaPem ? { [caKey]: options.natsCaPem } : {};
}

/** The volume and mount of the credentials Secret; none when the operator mints no users. */
export function natsUserVolume(
  options: OperatorOptions,
  secretName: string,
): { volumes: V1Volume[]; mounts: V1VolumeMount[] } {
  if (!options.natsUsers) return { volumes: [], mounts: [] };
  return {
    volumes: [{ name: natsUserVolumeName, secret: { secretName, defaultMode: 0o440 } }],
    mounts: [{ name: natsUserVolumeName, mountPath, readOnly: true }],
  };
}
