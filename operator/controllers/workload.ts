// The readiness of a Deployment the operator owns, as a condition: honest about pods that are not
// ready (e.g. Pending), and about a rollout that has not been observed yet.
import type { V1Deployment } from '@kubernetes/client-node';
import { ConditionReason, type ConditionInput, type ConditionType } from '../../api/conditions.js';

export function workloadCondition(
  type: ConditionType,
  deployment: V1Deployment | undefined,
  desiredReplicas: number,
  what: string,
): ConditionInput {
  if (!deployment) {
    return {
      type,
      status: 'Unknown',
      reason: ConditionReason.WorkloadProgressing,
      message: `${what} Deployment not observed yet`,
    };
  }
  const st = deployment.status ?? {};
  const observed = (st.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  const ready = st.readyReplicas ?? 0;
  const updated = st.updatedReplicas ?? 0;
  if (desiredReplicas === 0) {
    return { type, status: 'True', reason: ConditionReason.Suspended, message: `${what} scaled to zero` };
  }
  if (observed && ready >= desiredReplicas && updated >= desiredReplicas) {
    return {
      type,
      status: 'True',
      reason: ConditionReason.WorkloadAvailable,
      message: `${ready}/${desiredReplicas} ${what} pods ready`,
    };
  }
  if (ready === 0) {
    return {
      type,
      status: 'False',
      reason: ConditionReason.WorkloadUnavailable,
      message: `0/${desiredReplicas} ${what} pods ready`,
    };
  }
  return {
    type,
    status: 'False',
    reason: ConditionReason.WorkloadProgressing,
    message: `${ready}/${desiredReplicas} ${what} pods ready, rollout in progress`,
  };
}
