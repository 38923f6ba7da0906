// The dashboard's RBAC rules, written down once: the chart renders exactly these. Read verbs only,
// and no Secrets: it watches eventrunner resources, reads Events, lists the operator's pods and
// GETs their /metrics through the API server's pod proxy (a GET through the proxy needs `get` on
// pods/proxy; writes through it would need `create`, which it does not have).
import type { V1PolicyRule } from '@kubernetes/client-node';

export const dashboardRules: V1PolicyRule[] = [
  {
    apiGroups: ['eventrunner.io'],
    resources: ['eventsources', 'pipelines', 'sinks'],
    verbs: ['get', 'list', 'watch'],
  },
  { apiGroups: [''], resources: ['events'], verbs: ['list'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
  { apiGroups: [''], resources: ['pods/proxy'], verbs: ['get'] },
];
