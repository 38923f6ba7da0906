// Informers that never stay down: client-node's ListWatch stops for good on any watch error other
// than 410 Gone, so each informer here restarts itself with jittered backoff and reports when it
// has synced its first list.
import {
  ADD,
  DELETE,
  ERROR,
  UPDATE,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { Logger } from '../runtime/common/logger.js';
import { backoffDelay } from './queue.js';

export interface ManagedInformer<T extends KubernetesObject> {
  cache: ObjectCache<T>;
  /** Resolves after the first complete list. */
  synced: Promise<void>;
  stop(): Promise<void>;
}

export interface InformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  /** Watch path, e.g. /apis/eventrunner.io/v1alpha1/pipelines or /apis/apps/v1/deployments. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  onChange: (obj: T, verb: 'add' | 'update' | 'delete') => void;
  /**
   * Prunes what the cache keeps of each object (it is applied to the cached object itself): at a
   * thousand Pipelines, managedFields and unused bodies dominate the operator's memory.
   */
  prune?: (obj: T) => void;
  log: Logger;
  onRestart?: () => void;
}

export function startInformer<T extends KubernetesObject>(opts: InformerOptions<T>): ManagedInformer<T> {
  let stopped = false;
  let failures = 0;
  let resolveSynced!: () => void;
  const synced = new Promise<void>((r) => (resolveSynced = r));
  let timer: NodeJS.Timeout | undefined;

  // The first list resolves `synced`: wrap the list function to notice it.
  const list = async () => {
    const result = await opts.list();
    failures = 0;
    queueMicrotask(resolveSynced);
    return result;
  };
  const informer: Informer<T> & ObjectCache<T> = makeInformer(opts.kc, opts.path, list, opts.labelSelector);
  const prune = (o: T) => {
    if (o.metadata) delete o.metadata.managedFields;
    opts.prune?.(o);
  };
  informer.on(ADD, (o) => {
    prune(o);
    opts.onChange(o, 'add');
  });
  informer.on(UPDATE, (o) => {
    prune(o);
    opts.onChange(o, 'update');
  });
  informer.on(DELETE, (o) => opts.onChange(o, 'delete'));
  informer.on(ERROR, (err) => {
    if (stopped) return;
    failures++;
    const delay = backoffDelay(failures, 500, 30_000, Math.random);
    const code =
      (err as { code?: number; statusCode?: number })?.code ?? (err as { statusCode?: number })?.statusCode;
    // 429 while a new CRD's watch cache initialises is routine; anything else deserves a warning.
    opts.log[code === 429 ? 'debug' : 'warn'](
      {
        path: opts.path,
        retryInMs: delay,
        code,
        reason: err instanceof Error ? err.message.split('\n')[0] : String(err),
      },
      'Watch failed; restarting informer',
    );
    opts.onRestart?.();
    timer = setTimeout(() => {
      if (!stopped) void informer.start().catch(() => undefined);
    }, delay);
  });
  void informer.start().catch(() => undefined);
  return {
    cache: informer,
    synced,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await informer.stop();
    },
  };
}
