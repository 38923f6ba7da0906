// A child process whose stdout is JSON lines (one per run), its runs paced by the caller: the
// engine's runs and Flink's.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/**
 * A child process whose runs are paced by its caller: it prints `{"ready":true}` once set up, then
 * starts a run for each line written to its stdin and prints that run's JSON line (engine-process.ts
 * and `flink-sql-harness bench --paced`). Two such processes let a benchmark alternate their runs,
 * so that each pair of runs meets the same machine load.
 */
export class PacedProcess<T> {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffered = '';
  private err = '';
  private readonly lines: string[] = [];
  private waiting: ((line: string | Error) => void) | undefined;
  private exited: Error | undefined;

  private constructor(
    command: string,
    args: string[],
    private readonly name: string,
  ) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (b: Buffer) => {
      this.buffered += b.toString();
      for (let i = this.buffered.indexOf('\n'); i >= 0; i = this.buffered.indexOf('\n')) {
        const line = this.buffered.slice(0, i).trim();
        this.buffered = this.buffered.slice(i + 1);
        if (line) this.deliver(line);
      }
    });
    this.child.stderr.on('data', (b: Buffer) => (this.err = (this.err + b.toString()).slice(-4000)));
    const fail = (why: string): void => {
      this.exited = new Error(`${this.name} ${why}: ${this.err}`);
      this.waiting?.(this.exited);
      this.waiting = undefined;
    };
    this.child.on('error', (e) => fail(`failed to start (${e.message})`));
    this.child.on('close', (code) => fail(`exited with ${code}`));
  }

  /** Starts the process and waits for its ready line. */
  static async start<T>(command: string, args: string[], name: string): Promise<PacedProcess<T>> {
    const p = new PacedProcess<T>(command, args, name);
    const ready = await p.next();
    if ((ready as { ready?: unknown }).ready !== true)
      throw new Error(`${name} did not start with a ready line`);
    return p;
  }

  /** One run: its JSON line. */
  run(): Promise<T> {
    this.child.stdin.write('run\n');
    return this.next() as Promise<T>;
  }

  /** Ends the process's input (no more runs) and waits for it to exit. */
  async close(): Promise<void> {
    if (this.exited) return;
    const closed = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.stdin.end();
    await closed;
  }

  private deliver(line: string): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w(line);
    } else this.lines.push(line);
  }

  private next(): Promise<unknown> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(JSON.parse(line));
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.waiting = (l) => (l instanceof Error ? reject(l) : resolve(JSON.parse(l)));
    });
  }
}
