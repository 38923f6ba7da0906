// `npm run bench -- cluster [--events 100000] [--rate 1000] [--latency-seconds 15]`: the pipeline
// on one NATS server and one Cassandra (streams at 1 replica, keyspace at RF 1) against the same
// pipeline on a 3-node JetStream cluster and a 3-node Cassandra cluster (streams at 3 replicas,
// RF 3, LOCAL_QUORUM), in one run, one after the other; then the time the cluster takes to get
// back to full throughput after its stream leader is killed (-9). Ingest and the processor run as
// processes (`eventrunner ingest`, `eventrunner process`), events are posted over HTTP in batches
// of 500, four at a time. Progress on stderr, one JSON line last on stdout.
import { startCassandra, cassandraCredentials } from '../../test/stack/cassandra.js';
import { startCassandraCluster } from '../../test/stack/cassandra-cluster.js';
import { streamLeader, consumerLeader } from '../../test/stack/cluster-control.js';
import { startNats } from '../../test/stack/nats.js';
import { startNatsCluster } from '../../test/stack/nats-cluster.js';
import { secretFiles } from '../../test/integration/processor/support.js';
import {
  metric,
  produce,
  settled,
  startClusterPipeline,
  until,
  type ChildHandle,
  type ClusterPipeline,
} from '../../test/integration/cluster/harness.js';

const log = (s: string) => process.stderr.write(`${s}\n`);

function arg(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

/** Bucket counts of a histogram on a process's /metrics: upper bound → cumulative count. */
async function buckets(h: ChildHandle, name: string): Promise<Map<number, number>> {
  const ports = h.started()!.ports as { ops: number };
  const text = await (await fetch(`http://127.0.0.1:${ports.ops}/metrics`)).text();
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket`)) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (!le) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    out.set(bound, (out.get(bound) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

/** A quantile of the observations between two readings of a histogram (linear in the bucket). */
function quantile(before: Map<number, number>, after: Map<number, number>, q: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = counts[counts.length - 1]!;
  const rank = q * total;
  let lower = 0;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! >= rank) {
      const prevCount = i === 0 ? 0 : counts[i - 1]!;
      const upper = bounds[i]!;
      if (!Number.isFinite(upper)) return lower;
      return lower + ((upper - lower) * (rank - prevCount)) / Math.max(1, counts[i]! - prevCount);
    }
    lower = bounds[i]!;
  }
  return lower;
}

interface Figures {
  ingestEventsPerSec: number;
  pipelineEventsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  offeredRate: number;
}

async function measure(p: ClusterPipeline, events: number, rate: number, seconds: number): Promise<Figures> {
  // Throughput: as fast as ingest takes them, the processor writing meanwhile.
  const t0 = Date.now();
  const prod = produce(p.ingestUrl, `tp${t0}`, events);
  await prod.done;
  const produced = Date.now();
  await settled(p, 900_000);
  const done = Date.now();
  const ingestEventsPerSec = Math.round(events / ((produced - t0) / 1000));
  const pipelineEventsPerSec = Math.round(events / ((done - t0) / 1000));
  log(`  throughput: ingest ${ingestEventsPerSec}/s, pipeline ${pipelineEventsPerSec}/s`);
  // Latency at a fixed offered rate, from the processor's end-to-end histogram (stored in the
  // stream → acknowledged after the Cassandra write).
  const before = await buckets(p.processor, 'eventrunner_processor_end_to_end_duration_seconds');
  const n = rate * seconds;
  // A tenth of a second's events every 100 ms, from two producers so a slow answer does not stall it.
  const paced = produce(p.ingestUrl, `lat${Date.now()}`, n, {
    batch: Math.max(1, Math.round(rate / 10)),
    concurrency: 2,
    everyMs: 100,
  });
  const start = Date.now();
  await paced.done;
  const sent = Date.now() - start;
  await settled(p, 900_000);
  const after = await buckets(p.processor, 'eventrunner_processor_end_to_end_duration_seconds');
  const figures = {
    ingestEventsPerSec,
    pipelineEventsPerSec,
    latencyP50Ms: Math.round(quantile(before, after, 0.5) * 1000),
    latencyP99Ms: Math.round(quantile(before, after, 0.99) * 1000),
    offeredRate: Math.round(n / (sent / 1000)),
  };
  log(
    `  latency at ${figures.offeredRate}/s: p50 ${figures.latencyP50Ms} ms, p99 ${figures.latencyP99Ms} ms`,
  );
  return figures;
}

/**
 * The stream leader killed (-9) while ingest and the processor run flat out: seconds until the
 * processor's acks and ingest's acceptances per second are back to 90% of their median before.
 */
async function recovery(
  p: ClusterPipeline,
  kill: (node: string) => Promise<void>,
  events: number,
): Promise<{ killed: string; heldConsumer: boolean; processorSeconds: number; ingestSeconds: number }> {
  const prod = produce(p.ingestUrl, `rec${Date.now()}`, events);
  const samples: { t: number; acks: number; accepted: number }[] = [];
  const sample = async () =>
    samples.push({
      t: Date.now(),
      acks: await metric(p.processor, 'eventrunner_processor_acks_total'),
      accepted: prod.progress(),
    });
  const timer = setInterval(() => void sample(), 250);
  await until('a third of the events in', 600_000, () => prod.progress() >= events / 3);
  const leader = (await streamLeader(p.jsm, p.stream))!;
  const heldConsumer = (await consumerLeader(p.jsm, p.stream, p.consumer)) === leader;
  const killedAt = Date.now();
  await kill(leader);
  await until('two thirds of the events in', 600_000, () => prod.progress() >= (2 * events) / 3);
  await until('15 s after the kill', 60_000, () => Date.now() > killedAt + 15_000);
  clearInterval(timer);
  const rate = (key: 'acks' | 'accepted', from: number) => {
    // Per-second rates over 1-s windows starting at each sample.
    const out: { t: number; r: number }[] = [];
    for (let i = from; i < samples.length; i++) {
      const j = samples.findIndex((s, k) => k > i && s.t - samples[i]!.t >= 1000);
      if (j < 0) break;
      out.push({
        t: samples[i]!.t,
        r: ((samples[j]![key] - samples[i]![key]) * 1000) / (samples[j]!.t - samples[i]!.t),
      });
    }
    return out;
  };
  const backTo = (key: 'acks' | 'accepted') => {
    const pre = rate(key, 0)
      .filter((x) => x.t < killedAt - 1000 && x.t > killedAt - 6000)
      .map((x) => x.r);
    pre.sort((a, b) => a - b);
    const median = pre[Math.floor(pre.length / 2)] ?? 0;
    const first = samples.findIndex((s) => s.t >= killedAt);
    const back = rate(key, first).find((x) => x.r >= 0.9 * median);
    return back ? Math.round((back.t - killedAt) / 100) / 10 : NaN;
  };
  await prod.done;
  await settled(p, 900_000);
  return {
    killed: leader,
    heldConsumer,
    processorSeconds: backTo('acks'),
    ingestSeconds: backTo('accepted'),
  };
}

export async function main(args: string[]): Promise<void> {
  const events = arg(args, 'events', 100_000);
  const rate = arg(args, 'rate', 1000);
  const seconds = arg(args, 'latency-seconds', 15);

  log('single node: nats-server and Cassandra ...');
  const nats = await startNats('bench-cluster-nats');
  const cass = await startCassandra('bench-cluster-cassandra');
  let single: Figures;
  try {
    const secret = secretFiles(cassandraCredentials);
    const p = await startClusterPipeline(
      { url: nats.url },
      { contactPoints: [cass.contactPoint], localDataCenter: cass.localDataCenter, ...cassandraCredentials },
      'bsingle',
      {
        replicas: 1,
        replicationFactor: 1,
        credentials: { usernameFile: secret.username!, passwordFile: secret.password! },
      },
    );
    single = await measure(p, events, rate, seconds);
    await p.close();
  } finally {
    await cass.stop();
    await nats.stop();
  }

  log('3 + 3 clusters ...');
  const natsCluster = await startNatsCluster({ name: 'bench-nats-cluster' });
  const cassCluster = await startCassandraCluster({ name: 'bench-cassandra-cluster' });
  let cluster: Figures;
  let recovered: Awaited<ReturnType<typeof recovery>>;
  try {
    const p = await startClusterPipeline(
      { url: natsCluster.url },
      { contactPoints: cassCluster.contactPoints, localDataCenter: cassCluster.localDataCenter },
      'bcluster',
    );
    cluster = await measure(p, events, rate, seconds);
    recovered = await recovery(
      p,
      async (name) => {
        await natsCluster.nodes.find((n) => n.name === name)!.process.kill();
      },
      events,
    );
    log(
      `  leader ${recovered.killed} killed (consumer leader too: ${recovered.heldConsumer}): processor back to full rate in ${recovered.processorSeconds} s, ingest in ${recovered.ingestSeconds} s`,
    );
    const node = natsCluster.nodes.find((n) => n.name === recovered.killed)!;
    await node.process.start();
    await natsCluster.healthy();
    await p.close();
  } finally {
    await cassCluster.stop();
    await natsCluster.stop();
  }

  const row = (name: string, f: Figures) =>
    `| ${name} | ${f.ingestEventsPerSec} | ${f.pipelineEventsPerSec} | ${f.latencyP50Ms} | ${f.latencyP99Ms} | ${f.offeredRate} |`;
  log(
    [
      '',
      '| setup | ingest events/s | pipeline events/s | e2e p50 ms | e2e p99 ms | at events/s |',
      '|---|---|---|---|---|---|',
      row('1 NATS + 1 Cassandra (R1, RF1)', single),
      row('3 NATS + 3 Cassandra (R3, RF3, LOCAL_QUORUM)', cluster),
      '',
    ].join('\n'),
  );
  process.stdout.write(
    `${JSON.stringify({
      bench: 'cluster',
      events,
      single,
      cluster,
      ratio: {
        ingest: Math.round((cluster.ingestEventsPerSec / single.ingestEventsPerSec) * 100) / 100,
        pipeline: Math.round((cluster.pipelineEventsPerSec / single.pipelineEventsPerSec) * 100) / 100,
      },
      recovery: recovered,
    })}\n`,
  );
}
