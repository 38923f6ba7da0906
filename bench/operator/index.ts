// `npm run bench -- operator [--pipelines N] [--concurrency C] [--idle-seconds S] [--heap-mb M]
// [--semi-space-mb M] [--malloc-arena-max N] [--timeout-seconds S] [--cpu-prof] [--heap-snapshot]
// [--no-raw-baseline]`
// Creates N Pipelines, each with its own EventSource and Sink (ClickHouse; a CQL probe per Sink
// would measure the driver's connect time, not the operator), against the test stack's real
// kube-apiserver, NATS and ClickHouse, with the operator as a separate process under its own
// identity. Measures the time until every Pipeline reports its consumer and workload created, API
// requests per reconcile (from the apiserver's audit log), the operator's peak RSS, and its writes
// over an idle period. When each Pipeline got there is seen through a watch (listing a thousand
// Pipelines every half second loaded the apiserver the operator competes for), which also gives the
// tail: how long the last Pipeline came after the 99th percentile one. Progress on stderr; one JSON
// line last on stdout.
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, Watch, type KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { installCrds } from '../../operator/install-crds.js';
import { startStack } from '../../test/stack/cli.js';
import { logsDir, repoRoot } from '../../test/stack/paths.js';
import { adminConfig, auditEvents, certificateKubeconfig, writeVerbs } from '../../test/support/kube.js';
import { rawBaseline, type BaselineResult } from './baseline.js';

const log = (s: string) => process.stderr.write(`${s}\n`);
const group = 'eventrunner.io';
const version = 'v1alpha1';
const user = 'eventrunner-operator-bench';

function flag(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

async function inBatches<T>(items: T[], width: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(fn));
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

async function apiWrites(opsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^eventrunner_operator_api_writes_total\{[^}]*\} (\d+)/gm)) n += Number(m[1]);
  return n;
}

/** Reconciles so far, by kind, and how many of them failed (and were retried). */
async function reconcileCounts(opsPort: number): Promise<{ byKind: Record<string, number>; failed: number }> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  const byKind: Record<string, number> = {};
  let failed = 0;
  for (const m of text.matchAll(/^eventrunner_operator_reconcile_total\{([^}]*)\} (\d+)/gm)) {
    const kind = /kind="([^"]*)"/.exec(m[1]!)?.[1] ?? '?';
    byKind[kind] = (byKind[kind] ?? 0) + Number(m[2]);
    if (!m[1]!.includes('result="success"')) failed += Number(m[2]);
  }
  return { byKind, failed };
}

type BenchPipeline = {
  metadata: { name: string; resourceVersion?: string };
  status?: { conditions?: { type: string; status: string }[] };
};
const consumerReady = (p: BenchPipeline) =>
  p.status?.conditions?.some((c) => c.type === 'ConsumerReady' && c.status === 'True') ?? false;

/**
 * Watches the namespace's Pipelines and remembers when each first reported ConsumerReady=True
 * (milliseconds since the epoch). A watch the apiserver ends is resumed from a fresh list.
 */
function watchReady(kc: KubeConfig, custom: CustomObjectsApi, namespace: string) {
  const readyAt = new Map<string, number>();
  const path = `/apis/${group}/${version}/namespaces/${namespace}/pipelines`;
  let stopped = false;
  let abort: AbortController | undefined;
  const seen = (p: BenchPipeline) => {
    if (!readyAt.has(p.metadata.name) && consumerReady(p)) readyAt.set(p.metadata.name, Date.now());
  };
  const start = async (): Promise<void> => {
    if (stopped) return;
    const list = (await custom.listNamespacedCustomObject({
      group,
      version,
      namespace,
      plural: 'pipelines',
    })) as {
      metadata: { resourceVersion: string };
      items: BenchPipeline[];
    };
    list.items.forEach(seen);
    abort = await new Watch(kc).watch(
      path,
      { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true },
      (phase, obj: BenchPipeline) => {
        if (phase === 'ADDED' || phase === 'MODIFIED') seen(obj);
      },
      () => void restart(),
    );
  };
  const restart = async () => {
    for (let delay = 200; !stopped; delay = Math.min(delay * 2, 5000)) {
      try {
        await start();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };
  return {
    readyAt,
    // The first list may meet a CRD whose storage is still initialising (429): retried too.
    started: restart(),
    stop() {
      stopped = true;
      abort?.abort();
    },
  };
}

export async function main(args: string[]): Promise<void> {
  const pipelines = flag(args, 'pipelines', 1000);
  const concurrency = flag(args, 'concurrency', 16);
  const idleSeconds = flag(args, 'idle-seconds', 60);
  // How long to wait for every Pipeline before giving up (a busy machine needs more).
  const timeoutSeconds = flag(args, 'timeout-seconds', 600);
  // The operator's heap is sized as the chart sizes it (NODE_OPTIONS from its values), unless
  // --heap-mb / --semi-space-mb say otherwise (0: Node's defaults).
  const chart = parse(readFileSync(join(repoRoot, 'charts', 'eventrunner', 'values.yaml'), 'utf8')) as {
    heapMb: number;
    semiSpaceMb: number;
    mallocArenaMax?: number;
  };
  const heapMb = flag(args, 'heap-mb', chart.heapMb);
  const semiSpaceMb = flag(args, 'semi-space-mb', chart.semiSpaceMb);
  // MALLOC_ARENA_MAX for the operator as the chart sets it (glibc's malloc arenas: the native
  // memory outside the V8 heap), unless --malloc-arena-max says otherwise (0: glibc's default of
  // 8 per core).
  const mallocArenaMax = flag(args, 'malloc-arena-max', chart.mallocArenaMax ?? 0);
  // --cpu-prof writes a V8 CPU profile of the operator to .stack/logs when it exits.
  const cpuProf = args.includes('--cpu-prof');
  // --heap-snapshot writes a heap snapshot of the operator to .stack/logs once it has settled.
  const heapSnapshot = args.includes('--heap-snapshot');
  // After the operator's run, the same requests from a bare client (baseline.ts), unless
  // --no-raw-baseline.
  const withBaseline = !args.includes('--no-raw-baseline');
  log(`operator bench: ${pipelines} Pipelines, operator concurrency ${concurrency}`);
  const stack = await startStack(['kube', 'nats', 'clickhouse'], log);
  const kube = stack.env.kube!;
  const admin: KubeConfig = adminConfig(kube.kubeconfig);
  let operator: ReturnType<typeof spawn> | undefined;
  try {
    await installCrds(admin);
    const ns = 'bench';
    await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns } } });
    const opsPort = 18000 + Math.floor(Math.random() * 1000);
    const kubeconfig = certificateKubeconfig(kube, user, ['system:masters']);
    operator = spawn(
      process.execPath,
      [
        ...(cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${logsDir()}`] : []),
        ...(heapSnapshot ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${logsDir()}`] : []),
        join(repoRoot, 'bin', 'eventrunner.js'),
        'operator',
        '--image',
        'eventrunner:bench',
        '--nats-url',
        stack.env.nats!.url,
        '--watch-namespace',
        ns,
        '--leader-elect',
        'false',
        '--ops-port',
        String(opsPort),
        '--concurrency',
        String(concurrency),
        '--log-level',
        'warn',
      ],
      {
        env: {
          ...process.env,
          KUBECONFIG: kubeconfig,
          ...(mallocArenaMax ? { MALLOC_ARENA_MAX: String(mallocArenaMax) } : {}),
          NODE_OPTIONS: [
            heapMb ? `--max-old-space-size=${heapMb}` : '',
            semiSpaceMb ? `--max-semi-space-size=${semiSpaceMb}` : '',
          ].join(' '),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    // Operator warnings (failed reconciles) are summarised at the end instead of flooding stderr.
    const warnings = new Map<string, number>();
    const opLog = createWriteStream(join(logsDir(), 'operator-bench.log'));
    operator.stdout?.pipe(opLog);
    operator.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        const reason = /\\"message\\":\\"([^\\]{0,200})|"reason":"([^"]*)"|"message":"([^"]{0,160})/.exec(
          line,
        );
        const k = reason?.[1] ?? reason?.[2] ?? reason?.[3] ?? line.slice(0, 160);
        warnings.set(k, (warnings.get(k) ?? 0) + 1);
      }
    });
    const custom = admin.makeApiClient(CustomObjectsApi);
    // Creates the benchmark's objects in a namespace: an EventSource, a Sink and a Pipeline each,
    // 32 at a time (the raw baseline creates them again in its own namespace).
    const createAll = (
      namespace: string,
      created: (plural: string, name: string) => void = () => undefined,
    ) => {
      const create = async (
        plural: string,
        body: { metadata: { name: string } } & Record<string, unknown>,
      ) => {
        await custom.createNamespacedCustomObject({ group, version, namespace, plural, body });
        created(plural, body.metadata.name);
      };
      return inBatches(ids, 32, async (i) => {
        await create('eventsources', {
          apiVersion: `${group}/${version}`,
          kind: 'EventSource',
          metadata: { name: `es-${i}` },
          spec: { ingest: { auth: { enabled: false } }, stream: { maxBytes: '8Mi' } },
        });
        await create('sinks', {
          apiVersion: `${group}/${version}`,
          kind: 'Sink',
          metadata: { name: `sk-${i}` },
          spec: {
            clickhouse: {
              url: stack.env.clickhouse!.url,
              database: 'bench',
              table: 'events',
              manageSchema: true,
            },
          },
        });
        await create('pipelines', {
          apiVersion: `${group}/${version}`,
          kind: 'Pipeline',
          metadata: { name: `pl-${i}` },
          spec: {
            sources: [{ eventSource: `es-${i}` }],
            rules: 'rule All "everything" { when true then Route("out"); }',
            outputs: [{ name: 'out', sink: `sk-${i}` }],
            deadLetter: { maxBytes: '1Mi' },
          },
        });
      });
    };
    const ids = Array.from({ length: pipelines }, (_, i) => i);
    const watcher = watchReady(admin, custom, ns);
    await watcher.started;
    const started = Date.now();
    const since = new Date();
    await createAll(ns);
    const createdMs = Date.now() - started;
    log(`created ${pipelines * 3} objects in ${(createdMs / 1000).toFixed(1)}s`);
    let rss = 0;
    let lastLog = 0;
    while (watcher.readyAt.size < pipelines) {
      if (Date.now() - started > timeoutSeconds * 1000)
        throw new Error(
          `only ${watcher.readyAt.size}/${pipelines} Pipelines reconciled after ${timeoutSeconds} seconds`,
        );
      await new Promise((r) => setTimeout(r, 100));
      rss = Math.max(rss, peakRssMb(operator.pid!));
      if (Date.now() - lastLog >= 2000 || watcher.readyAt.size === pipelines) {
        lastLog = Date.now();
        log(
          `  ${watcher.readyAt.size}/${pipelines} Pipelines with consumer and workload (${((Date.now() - started) / 1000).toFixed(1)}s)`,
        );
      }
    }
    watcher.stop();
    const times = [...watcher.readyAt.values()].sort((a, b) => a - b);
    const allMs = times.at(-1)! - started;
    // The tail: the last Pipeline after the 99th-percentile one (the 990th of 1,000).
    const p99Ms = times[Math.max(0, Math.ceil(0.99 * pipelines) - 1)]! - started;
    const busyCpu = cpuSeconds(operator.pid!);
    // Workloads exist for every Pipeline (the operator created them in the same reconcile).
    const deployments = await admin
      .makeApiClient((await import('@kubernetes/client-node')).AppsV1Api)
      .listNamespacedDeployment({ namespace: ns });
    const { byKind, failed } = await reconcileCounts(opsPort);
    const reconciles = Object.values(byKind).reduce((a, b) => a + b, 0);
    const requests = auditEvents(kube.auditLog, user, since);
    const busyWrites = requests.filter((e) => writeVerbs.has(e.verb)).length;
    log(
      `all reconciled in ${(allMs / 1000).toFixed(1)}s (99% in ${(p99Ms / 1000).toFixed(1)}s); ${deployments.items.length} Deployments; ${reconciles} reconciles (${Object.entries(
        byKind,
      )
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}; ${failed} failed), ${requests.length} API requests`,
    );
    // Idle means settled: wait until the operator has sent no write for 15s (trailing status
    // updates of a thousand objects converging), then count writes over the idle period.
    const settleStart = Date.now();
    let lastWrites = await apiWrites(opsPort);
    let quietSince = Date.now();
    while (Date.now() - quietSince < 15_000) {
      if (Date.now() - settleStart > 300_000)
        throw new Error('the operator kept writing for 5 minutes after reconciling');
      await new Promise((r) => setTimeout(r, 1000));
      const w = await apiWrites(opsPort);
      if (w !== lastWrites) quietSince = Date.now();
      lastWrites = w;
    }
    log(`settled ${((Date.now() - settleStart) / 1000).toFixed(0)}s after the last Pipeline reported`);
    const mem = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
    const memLine = (name: string) =>
      Math.round(
        Number(new RegExp(`^eventrunner_${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(mem)?.[1]) / 2 ** 20,
      );
    log(
      `operator memory once settled: rss ${memLine('process_resident_memory_bytes')} MB, heap used ${memLine('nodejs_heap_size_used_bytes')} MB of ${memLine('nodejs_heap_size_total_bytes')} MB, external ${memLine('nodejs_external_memory_bytes')} MB`,
    );
    if (heapSnapshot) operator.kill('SIGUSR2');
    const idleSince = new Date();
    log(`idle for ${idleSeconds}s ...`);
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    rss = Math.max(rss, peakRssMb(operator.pid!));
    const idle = auditEvents(kube.auditLog, user, idleSince).filter((e) => writeVerbs.has(e.verb));
    const idleWrites = idle.length;
    const idleByKind = new Map<string, number>();
    for (const e of idle) {
      const sub = e.objectRef?.subresource ? `/${e.objectRef.subresource}` : '';
      const k = `${e.verb} ${e.objectRef?.resource ?? '?'}${sub}`;
      idleByKind.set(k, (idleByKind.get(k) ?? 0) + 1);
    }
    for (const [k, n] of idleByKind)
      log(
        `idle write x${n}: ${k} (e.g. ${idle.find((e) => e.requestURI.includes(k.split(' ')[1]!.split('/')[0]!))?.requestURI})`,
      );
    // The API server's own limit for the same work: the operator's requests of the busy phase
    // from a bare client, while the same objects are created again in a namespace of their own.
    let baseline: (BaselineResult & { operatorRatio: number }) | undefined;
    if (withBaseline) {
      log(`raw baseline: the operator's ${requests.length} requests from a bare client ...`);
      const raw = await rawBaseline({
        kc: admin,
        requests,
        from: ns,
        to: `${ns}-raw`,
        concurrency,
        group,
        version,
        createAll,
      });
      baseline = { ...raw, operatorRatio: +(raw.seconds / (allMs / 1000)).toFixed(2) };
      log(
        `raw baseline: ${raw.requests} requests and ${pipelines * 3} creates in ${raw.seconds}s (${raw.failed} failed${raw.firstFailure ? `, e.g. ${raw.firstFailure}` : ''}; ${raw.skipped} watches not replayed): the operator took ${(allMs / 1000).toFixed(1)}s, ${baseline.operatorRatio} of it at the API server's own pace`,
      );
    }
    const result = {
      bench: 'operator',
      pipelines,
      objects: pipelines * 3,
      createSeconds: +(createdMs / 1000).toFixed(1),
      allReconciledSeconds: +(allMs / 1000).toFixed(1),
      p99ReconciledSeconds: +(p99Ms / 1000).toFixed(1),
      tailSeconds: +((allMs - p99Ms) / 1000).toFixed(1),
      deployments: deployments.items.length,
      reconciles,
      reconcilesByKind: byKind,
      failedReconciles: failed,
      pipelineReconcilesPerPipeline: +((byKind.Pipeline ?? 0) / pipelines).toFixed(2),
      apiRequests: requests.length,
      apiRequestsPerReconcile: +(requests.length / reconciles).toFixed(2),
      apiWritesPerReconcile: +(busyWrites / reconciles).toFixed(2),
      operatorCpuSeconds: busyCpu,
      operatorPeakRssMb: rss,
      operatorHeapLimitMb: heapMb || null,
      operatorSemiSpaceMb: semiSpaceMb || null,
      operatorMallocArenaMax: mallocArenaMax || null,
      idleSeconds,
      idleWritesPerMinute: +((idleWrites * 60) / idleSeconds).toFixed(1),
      rawBaseline: baseline ?? null,
      targets: {
        allReconciledSeconds: 30,
        tailSeconds: 2,
        pipelineReconcilesPerPipeline: 2,
        operatorPeakRssMb: 200,
        idleWritesPerMinute: 0,
      },
    };
    for (const [w, n] of warnings) log(`operator warning x${n}: ${w}`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    if (operator && operator.exitCode === null) {
      const exited = new Promise((r) => operator!.once('exit', r));
      operator.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    }
    await stack.stop();
  }
}
