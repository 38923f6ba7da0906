// State size and checkpoint cost: a tumbling count+sum with `keys` groups open in one window,
// checkpointed to JSON text and restored, as a query worker stores it in NATS.
import { collectGarbage } from './gc.js';
import {
  compileQuery,
  restoreState,
  type QueryCheckpoint,
  type QueryInput,
} from '../../runtime/queries/index.js';

export function measureCheckpoint(keys: number) {
  const q = compileQuery(
    {
      name: 'checkpoint',
      sql:
        'SELECT data.key AS k, count(*) AS n, sum(data.value) AS total FROM ev ' +
        'WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY data.key',
    },
    { namespace: 'bench', pipeline: 'bench', sources: ['ev'] },
  );
  const t0 = Date.UTC(2026, 0, 1);
  const state = q.createState();
  const inputs: QueryInput[] = [];
  for (let i = 0; i < keys; i++)
    inputs.push({
      source: 'ev',
      seq: i + 1,
      streamTime: t0 + i,
      event: { id: `e${i}`, data: { key: `k${i}`, value: i } },
    });
  collectGarbage();
  const heap0 = process.memoryUsage().heapUsed;
  state.push(inputs);
  collectGarbage();
  const heapPerKey = (process.memoryUsage().heapUsed - heap0) / keys;
  let t = performance.now();
  const text = JSON.stringify(state.checkpoint());
  const checkpointMs = performance.now() - t;
  t = performance.now();
  const restored = restoreState(q, JSON.parse(text) as QueryCheckpoint);
  const restoreMs = performance.now() - t;
  if (restored.stateKeys !== state.stateKeys) throw new Error('restored state holds other keys');
  return {
    keys,
    stateKeys: state.stateKeys,
    heapBytesPerKey: Math.round(heapPerKey),
    checkpointBytes: Buffer.byteLength(text),
    checkpointBytesPerKey: Math.round(Buffer.byteLength(text) / keys),
    checkpointMs: Math.round(checkpointMs),
    restoreMs: Math.round(restoreMs),
  };
}
