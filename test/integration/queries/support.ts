// Shared by the query runtime's end-to-end tests: `eventrunner <command>` as a child process from
// source, its JSON logs, and its metrics.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor, type ProcessHandle } from '../processor/support.js';
import { builtCli } from '../../support/built-cli.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = join(here, '../../..');

/** Starts `eventrunner <command> --config <file>` and waits until /readyz answers 200. */
export async function startCli(
  command: string,
  configFile: string,
  timeoutMs = 60_000,
): Promise<ProcessHandle> {
  const child = spawn(process.execPath, [builtCli(), command, '--config', configFile], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        stderr.push(line);
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const opsPort = () => logs.find((l) => l.msg === 'Serving operations endpoint')?.port as number | undefined;
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  await waitFor(
    async () => {
      if (exitCode !== undefined) throw new Error(`${command} exited (${exitCode}): ${stderr.join('')}`);
      const port = opsPort();
      if (!port) return false;
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5000) }).catch(
        () => undefined,
      );
      return res?.status === 200;
    },
    timeoutMs,
    `${command} ready`,
  );
  return { child, logs, stderr, opsPort, exited };
}
