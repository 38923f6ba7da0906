// A Service as kube-proxy would serve it, on loopback: one listener per Service port, each
// connection forwarded to a ready pod's host port, round-robin.
import net from 'node:net';
import type { LocalPod } from './pod.js';

export class ServiceProxy {
  private servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();
  private next = 0;
  /** Service port name → local listener port. */
  readonly ports = new Map<string, number>();

  constructor(private readonly pods: () => LocalPod[]) {}

  async listen(portNames: string[]): Promise<void> {
    for (const name of portNames) {
      const server = net.createServer((client) => {
        const ready = this.pods().filter((p) => p.ready && p.ports.has(name));
        if (ready.length === 0) return client.destroy();
        const pod = ready[this.next++ % ready.length]!;
        const upstream = net.connect(pod.ports.get(name)!, '127.0.0.1');
        this.sockets.add(client).add(upstream);
        client.once('close', () => this.sockets.delete(client));
        upstream.once('close', () => this.sockets.delete(upstream));
        client.pipe(upstream).pipe(client);
        const close = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', close);
        upstream.on('error', close);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      this.ports.set(name, (server.address() as net.AddressInfo).port);
      this.servers.push(server);
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
  }
}
