import { afterEach, describe, expect, it } from 'vitest';
import { Counter } from 'prom-client';
import { createRegistry, startOpsServer, type OpsServer } from '../../../runtime/common/ops-server.js';

describe('ops server', () => {
  let srv: OpsServer | undefined;
  afterEach(async () => {
    await srv?.close();
  });

  it('serves health, readiness with reasons, and metrics', async () => {
    const registry = createRegistry('test');
    const counter = new Counter({ name: 'eventrunner_test_total', help: 'x', registers: [registry] });
    counter.inc(3);
    let natsUp = false;
    srv = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      registry,
      readiness: [{ name: 'nats', check: () => (natsUp ? undefined : 'not connected') }],
    });
    const base = `http://127.0.0.1:${srv.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toContain('nats: not connected');
    natsUp = true;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('eventrunner_test_total{component="test"} 3');
    expect(metrics).toContain('eventrunner_process_resident_memory_bytes');
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});
