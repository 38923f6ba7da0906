// One replica of a Deployment run as a local process: its volumes materialised, its ports mapped
// to free host ports, its readiness probed over HTTP, restarted with backoff when it exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreV1Api, V1Deployment } from '@kubernetes/client-node';
import { freePort } from '../../test/stack/net.js';
import { materializeVolumes, rewritePath } from './materialize.js';

export interface PodOptions {
  core: CoreV1Api;
  deployment: V1Deployment;
  name: string;
  /** argv prefix standing for the image's entrypoint, e.g. ['node', 'bin/eventrunner.js']. */
  entrypoint: string[];
  logDir: string;
  env?: NodeJS.ProcessEnv;
}

export class LocalPod {
  readonly name: string;
  /** container port name → host port */
  readonly ports = new Map<string, number>();
  ready = false;
  restarts = 0;
  private child: ChildProcess | undefined;
  private stopped = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private root = '';
  private args: string[] = [];
  private exited: Promise<void> = Promise.resolve();
  /** Container port → host port. */
  private portMap = new Map<number, number>();

  constructor(private readonly opts: PodOptions) {
    this.name = opts.name;
  }

  async start(): Promise<void> {
    const d = this.opts.deployment;
    const pod = d.spec!.template.spec!;
    const container = pod.containers[0]!;
    const portMap = this.portMap;
    for (const p of container.ports ?? []) {
      const host = await freePort();
      portMap.set(p.containerPort, host);
      if (p.name) this.ports.set(p.name, host);
    }
    this.root = mkdtempSync(join(tmpdir(), `eventrunner-pod-${this.name}-`));
    const rw = await materializeVolumes(
      this.opts.core,
      d.metadata!.namespace!,
      pod,
      container,
      this.root,
      portMap,
    );
    this.args = [...(container.command ?? []), ...(container.args ?? [])].map((a) => rewritePath(a, rw));
    this.launch();
    this.probeTimer = setInterval(() => void this.probe(), 300);
  }

  /** Re-reads the pod's ConfigMap volumes and updates the files that changed. */
  async refreshVolumes(): Promise<void> {
    if (this.stopped || this.root === '') return;
    const pod = this.opts.deployment.spec!.template.spec!;
    await materializeVolumes(
      this.opts.core,
      this.opts.deployment.metadata!.namespace!,
      pod,
      pod.containers[0]!,
      this.root,
      this.portMap,
      true,
    );
  }

  /** True when the pod mounts the named ConfigMap. */
  mountsConfigMap(name: string): boolean {
    return (this.opts.deployment.spec!.template.spec!.volumes ?? []).some((v) => v.configMap?.name === name);
  }

  /** True when the pod mounts the named Secret. */
  mountsSecret(name: string): boolean {
    return (this.opts.deployment.spec!.template.spec!.volumes ?? []).some(
      (v) => v.secret?.secretName === name,
    );
  }

  private launch(): void {
    if (this.stopped) return;
    const [cmd, ...pre] = this.opts.entrypoint;
    mkdirSync(this.opts.logDir, { recursive: true });
    const log = createWriteStream(join(this.opts.logDir, `${this.name}.log`), { flags: 'a' });
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.opts.env };
    for (const e of this.opts.deployment.spec!.template.spec!.containers[0]!.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
    }
    const child = spawn(cmd!, [...pre, ...this.args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        log.end(`\n[kubelet] exited: ${signal ?? code}\n`);
        this.ready = false;
        resolve();
        if (!this.stopped) {
          // CrashLoopBackOff, shortened: 0.5s doubling to 10s.
          this.restarts++;
          setTimeout(() => void this.relaunch(), Math.min(10_000, 500 * 2 ** Math.min(this.restarts, 5)));
        }
      }),
    );
  }

  /**
   * Starts the process again. A host port is picked free but held by nobody until the process
   * listens on it, so another process can take it meanwhile; the pod would then fail to listen on
   * every restart (EADDRINUSE). Ports that are taken move to new free ones, and the files that
   * name them are written again, before the process starts.
   */
  private async relaunch(): Promise<void> {
    if (this.stopped) return;
    const container = this.opts.deployment.spec!.template.spec!.containers[0]!;
    let moved = false;
    for (const [containerPort, host] of this.portMap) {
      if (await portFree(host)) continue;
      const next = await freePort();
      this.portMap.set(containerPort, next);
      for (const p of container.ports ?? [])
        if (p.containerPort === containerPort && p.name) this.ports.set(p.name, next);
      moved = true;
    }
    if (moved) await this.refreshVolumes().catch(() => undefined);
    this.launch();
  }

  private probe(): void {
    const port = this.ports.get('ops');
    const path =
      this.opts.deployment.spec!.template.spec!.containers[0]!.readinessProbe?.httpGet?.path ?? '/readyz';
    if (!port || !this.child || this.child.exitCode !== null) return;
    const req = http.get({ host: '127.0.0.1', port, path, timeout: 1000 }, (res) => {
      res.resume();
      this.ready = res.statusCode === 200;
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => (this.ready = false));
  }

  /** Signals the container's process as a crash would (SIGKILL); it is restarted as after any exit. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): boolean {
    const child = this.child;
    return !!child && child.exitCode === null && child.signalCode === null && child.kill(signal);
  }

  /** SIGTERM, as the kubelet does, then SIGKILL after the grace period. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.ready = false;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const grace = (this.opts.deployment.spec!.template.spec!.terminationGracePeriodSeconds ?? 30) * 1000;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), grace);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Whether a process could listen on the host port now (on every address, as pods do). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}
