import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ChangeFilter, readinessFingerprint, specFingerprint } from '../../../operator/triggers.js';

type Obj = KubernetesObject & {
  spec?: unknown;
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
};

const object = (over: Partial<NonNullable<Obj['metadata']>> = {}, status?: Obj['status']): Obj => ({
  metadata: { namespace: 'a', name: 'orders', generation: 1, resourceVersion: '10', ...over },
  ...(status ? { status } : {}),
});

const ready = (status: string, message = 'ok', lastTransitionTime = 't1') => ({
  conditions: [
    { type: 'Ready', status, reason: status === 'True' ? 'ProbeSucceeded' : 'ConnectionFailed', message },
    { type: 'Other', status: 'False', reason: 'Whatever', message: 'ignored', lastTransitionTime },
  ],
});

describe('specFingerprint', () => {
  it('changes with generation, labels, annotations and deletion, not with status or finalizers', () => {
    const base = specFingerprint(object());
    expect(specFingerprint(object({ resourceVersion: '11' }, ready('True')))).toBe(base);
    expect(specFingerprint(object({ finalizers: ['eventrunner.io/cleanup'] }))).toBe(base);
    expect(specFingerprint(object({ generation: 2 }))).not.toBe(base);
    expect(specFingerprint(object({ labels: { team: 'x' } }))).not.toBe(base);
    expect(specFingerprint(object({ annotations: { note: 'x' } }))).not.toBe(base);
    expect(specFingerprint(object({ deletionTimestamp: new Date(0) }))).not.toBe(base);
  });
});

describe('readinessFingerprint', () => {
  it('follows the named conditions (status, reason, message) and the spec only', () => {
    const fp = (o: Obj) => readinessFingerprint(o, ['Ready']);
    const base = fp(object({}, ready('False', 'unreachable')));
    // Another condition, a transition time or a counter changing is no news to dependents.
    expect(fp(object({ resourceVersion: '12' }, ready('False', 'unreachable', 't2')))).toBe(base);
    expect(fp(object({}, ready('False', 'refused')))).not.toBe(base);
    expect(fp(object({}, ready('True')))).not.toBe(base);
    expect(fp(object({ generation: 2 }, ready('False', 'unreachable')))).not.toBe(base);
    expect(fp(object({}))).not.toBe(base);
  });
});

describe('ChangeFilter', () => {
  it('passes adds and deletes, and updates only when the fingerprint moved', () => {
    const filter = new ChangeFilter(specFingerprint);
    expect(filter.changed(object(), 'add')).toBe(true);
    // The operator's own status write and finalizer: nothing a reconcile reads changed.
    expect(filter.changed(object({ resourceVersion: '11' }, ready('True')), 'update')).toBe(false);
    expect(filter.changed(object({ resourceVersion: '12', finalizers: ['f'] }), 'update')).toBe(false);
    expect(filter.changed(object({ resourceVersion: '13', generation: 2 }), 'update')).toBe(true);
    expect(filter.changed(object({ resourceVersion: '14', generation: 2 }), 'update')).toBe(false);
    expect(filter.changed(object({ resourceVersion: '15', generation: 2 }), 'delete')).toBe(true);
    // Objects are apart by namespace and name; one first seen through an update counts.
    expect(filter.changed(object({ namespace: 'b', generation: 2 }), 'update')).toBe(true);
    expect(filter.changed(object({ name: 'clicks', generation: 2 }), 'update')).toBe(true);
  });
});
