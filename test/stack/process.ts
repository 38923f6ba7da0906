// A server child process: spawned with its output in a log file, probed until ready (never a
// fixed sleep), stopped with SIGTERM then SIGKILL. A failed start reports the log's tail.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { logsDir } from './paths.js';

export interface ServerProcessOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolves true once the server answers; called repeatedly until `readyTimeoutMs`. */
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
}

export class ServerStartError extends Error {
  readonly code = 'SERVER_START';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServerStartError';
  }
}

export function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export class ServerProcess {
  readonly logFile: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private exitInfo: string | undefined;

  constructor(private readonly opts: ServerProcessOptions) {
    mkdirSync(logsDir(), { recursive: true });
    this.logFile = join(logsDir(), `${opts.name}.log`);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitInfo === undefined;
  }

  async start(): Promise<void> {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    log.write(`\n--- ${new Date().toISOString()} ${this.opts.command} ${this.opts.args.join(' ')}\n`);
    const child = spawn(this.opts.command, this.opts.args, {
      env: { ...process.env, ...this.opts.env },
      cwd: this.opts.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exitInfo = undefined;
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
        log.end();
        resolve();
      });
      child.once('error', (err) => {
        this.exitInfo = `spawn error: ${err.message}`;
        log.end();
        resolve();
      });
    });
    await this.waitReady();
  }

  private async waitReady(): Promise<void> {
    const timeout = this.opts.readyTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeout;
    let lastErr: unknown;
    let delay = 50;
    while (Date.now() < deadline) {
      if (this.exitInfo !== undefined) {
        throw new ServerStartError(
          `${this.opts.name} exited during start-up (${this.exitInfo}); log ${this.logFile}:\n${tail(this.logFile)}`,
        );
      }
      try {
        if (await this.opts.ready()) return;
      } catch (err) {
        lastErr = err;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 500);
    }
    await this.stop();
    const why = lastErr instanceof Error ? ` (last probe error: ${lastErr.message})` : '';
    throw new ServerStartError(
      `${this.opts.name} was not ready within ${timeout / 1000}s${why}; log ${this.logFile}:\n${tail(this.logFile)}`,
      { cause: lastErr },
    );
  }

  /** Stops the server: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || this.exitInfo !== undefined) return;
    child.kill('SIGTERM');
    // A paused (SIGSTOP) server handles the SIGTERM only once it runs again.
    child.kill('SIGCONT');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /**
   * Sends a signal without waiting: SIGSTOP freezes the server (its sockets stay open and
   * unanswered, as a hung or partitioned node's do), SIGCONT lets it go on.
   */
  signal(signal: NodeJS.Signals): void {
    if (this.child && this.exitInfo === undefined) this.child.kill(signal);
  }

  /** Kills the server at once, as a crash would. */
  async kill(): Promise<void> {
    if (!this.child || this.exitInfo !== undefined) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
