// Test helpers around the operator: install the generated CRDs, run the operator in-process
// against the test stack, create namespaces, and wait for conditions.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { createLogger } from '../../runtime/common/logger.js';
import { isLogLevel } from '../../api/schema/config/common.js';
import type { Operator } from '../../operator/manager.js';
import type { OperatorOptions } from '../../operator/options.js';
import { runOperator } from '../../operator/run.js';
import type { ReconcileTracer } from '../../operator/tracing.js';

/** The CRDs as the API module installs them (server-side apply, waits for Established). */
export { installCrds } from '../../operator/install-crds.js';

export async function createNamespace(kc: KubeConfig, name: string): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
}

export function testOptions(
  natsUrl: string,
  overrides: Partial<Omit<OperatorOptions, 'logLevel'>> & { logLevel?: string } = {},
): OperatorOptions {
  const { logLevel = 'warn', ...rest } = overrides;
  if (!isLogLevel(logLevel)) throw new Error(`${logLevel} is not a log level`);
  return {
    image: 'eventrunner:test',
    imagePullPolicy: 'IfNotPresent',
    natsUrl,
    watchNamespace: '',
    leaderElection: { enabled: false, namespace: 'default', name: 'eventrunner-test', identity: 'test' },
    opsPort: 0,
    resyncMs: 60_000,
    concurrency: 4,
    fastPaths: true,
    ...rest,
    logLevel,
  };
}

export function startTestOperator(
  kc: KubeConfig,
  options: OperatorOptions,
  tracing?: ReconcileTracer,
): Promise<Operator> {
  const log = createLogger({ name: 'operator-test', level: options.logLevel });
  return runOperator(kc, options, log, undefined, tracing);
}

/** Polls `probe` until it returns a value (not undefined); fails with `what` after the timeout. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
