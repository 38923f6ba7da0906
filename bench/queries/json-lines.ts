// A child process whose stdout is JSON lines (one per run): the engine's runs and Flink's.
import { spawn } from 'node:child_process';

/** Runs `command` and resolves its stdout's JSON lines; rejects with its stderr's tail. */
export function runJsonLines<T>(command: string, args: string[], name: string): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(
            out
              .split('\n')
              .filter((l) => l.trim())
              .map((l) => JSON.parse(l) as T),
          )
        : reject(new Error(`${name} exited with ${code}: ${err}`)),
    );
  });
}
