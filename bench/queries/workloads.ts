// The four workloads of the query benchmark, each written in eventrunner's dialect and as the
// equivalent Flink SQL (hack/flink/README.md), over events {key, ts, seq, value} of 10,000 keys,
// and the file of those events.
import { writeFileSync } from 'node:fs';

export interface Workload {
  name: string;
  /** Over source `ev`; events carry data.key and data.value, their time is the stream time `ts`. */
  ours: string;
  /** Over Flink's table `events` (key, ts rowtime, seq, value). */
  flink: string;
}

export const WORKLOADS: Workload[] = [
  {
    name: 'tumbling-count-sum',
    ours:
      'SELECT data.key AS k, count(*) AS n, sum(data.value) AS total, window_start, window_end FROM ev ' +
      'WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY data.key',
    flink:
      'SELECT key AS k, COUNT(*) AS n, SUM(`value`) AS total, window_start, window_end ' +
      "FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, key",
  },
  {
    name: 'hopping-avg',
    ours:
      'SELECT data.key AS k, avg(data.value) AS mean, window_start, window_end FROM ev ' +
      'WINDOW HOPPING (SIZE 5 MINUTES, ADVANCE BY 1 MINUTE) GROUP BY data.key',
    flink:
      'SELECT key AS k, AVG(`value`) AS mean, window_start, window_end ' +
      "FROM TABLE(HOP(TABLE events, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '5' MINUTE)) " +
      'GROUP BY window_start, window_end, key',
  },
  {
    name: 'session-count',
    ours:
      'SELECT data.key AS k, count(*) AS n, window_start, window_end FROM ev ' +
      'WINDOW SESSION (GAP 30 SECONDS) GROUP BY data.key',
    flink:
      'SELECT key AS k, COUNT(*) AS n, window_start, window_end ' +
      "FROM TABLE(SESSION(TABLE events PARTITION BY key, DESCRIPTOR(ts), INTERVAL '30' SECOND)) " +
      'GROUP BY window_start, window_end, key',
  },
  {
    name: 'sliding-sum',
    ours: 'SELECT data.key AS k, sum(data.value) AS total FROM ev WINDOW SLIDING (SIZE 1 MINUTE) GROUP BY data.key',
    flink:
      'SELECT key AS k, SUM(`value`) OVER (PARTITION BY key ORDER BY ts ' +
      "RANGE BETWEEN INTERVAL '1' MINUTE PRECEDING AND CURRENT ROW) AS total FROM events",
  },
];

/** One event every 3.6 ms over an hour, keys uniform, values with two decimals. */
export function writeEvents(file: string, events: number, keys: number): void {
  const t0 = Date.UTC(2026, 0, 1);
  const lines: string[] = [];
  let seed = 42;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  for (let i = 0; i < events; i++) {
    const key = `k${Math.floor(rnd() * keys)}`;
    lines.push(
      JSON.stringify({
        key,
        ts: t0 + Math.floor(i * 3.6),
        seq: i + 1,
        value: Math.round(rnd() * 10000) / 100,
      }),
    );
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}
