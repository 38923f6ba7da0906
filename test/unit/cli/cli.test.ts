// The eventrunner CLI as a real child process: every subcommand answers --help and rejects an
// unknown flag the same way, and a reader that closes the pipe early ends a command quietly.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CommandSpec } from '../../../runtime/common/flags.js';
import { dashboardCommand } from '../../../cli/commands/dashboard.js';
import { ingestCommand } from '../../../cli/commands/ingest.js';
import { processCommand } from '../../../cli/commands/process.js';
import { testCommand } from '../../../cli/commands/test.js';
import { validateCommand } from '../../../cli/commands/validate.js';
import { operatorCommand } from '../../../operator/options.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const entry = join(root, 'test/unit/cli/entry.ts');

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `eventrunner <args>` from source, as bin/eventrunner.js runs it from the build. */
function eventrunner(...args: string[]): Result {
  const r = spawnSync(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 9_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function quote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Runs `eventrunner <args> | head -1` under `bash -o pipefail`: the reader exits after one line. */
function eventrunnerToHead(...args: string[]): Result {
  const command = [process.execPath, '--import', 'tsx', entry, ...args].map(quote).join(' ');
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', `${command} | head -1`], {
    cwd: root,
    encoding: 'utf8',
    timeout: 9_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function escape(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const stackTrace = /^\s+at |EPIPE|Unhandled 'error' event/m;

const subcommands: [string, CommandSpec][] = [
  ['validate', validateCommand],
  ['test', testCommand],
  ['operator', operatorCommand],
  ['ingest', ingestCommand],
  ['process', processCommand],
  ['dashboard', dashboardCommand],
];

describe('eventrunner', () => {
  it('answers --help with the commands and its own flags, on stdout, with status 0', () => {
    const r = eventrunner('--help');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage: eventrunner <command> \[options\]\n/);
    for (const [name] of subcommands) expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    expect(r.stdout).toMatch(/--version +print the version/);
    expect(r.stdout).toMatch(/-h, --help +show this help/);
  });

  it('prints the package version for --version', () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(eventrunner('--version')).toEqual({ status: 0, stdout: `eventrunner ${version}\n`, stderr: '' });
  });

  it('rejects an unknown flag with status 2, naming it and listing the known ones', () => {
    const r = eventrunner('--nope');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'eventrunner: unknown argument "--nope": unknown flag --nope; known flags: --version, --help (-h)\n',
    );
  });
});

describe.each(subcommands)('eventrunner %s', (name, command) => {
  it('answers --help with every flag and its description, with status 0', () => {
    const r = eventrunner(name, '--help');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^Usage: eventrunner ${name} `));
    const flat = r.stdout.replace(/\s+/g, ' ');
    for (const [flag, spec] of Object.entries(command.flags)) {
      expect(flat).toMatch(new RegExp(`--${flag}(?: <[^>]+>)? ${escape(spec.description)}`));
    }
    expect(r.stdout).toMatch(/-h, --help +show this help/);
  });

  it('rejects --nope with status 2, naming it and listing the known flags', () => {
    const r = eventrunner(name, '--nope');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      new RegExp(`^eventrunner ${name}: unknown argument "--nope": unknown flag --nope; known flags: `),
    );
    for (const flag of [...Object.keys(command.flags), 'help']) expect(r.stderr).toContain(`--${flag}`);
    expect(r.stderr).not.toMatch(stackTrace);
  });
});

describe('eventrunner subcommands with a missing required flag', () => {
  it('exit 2 and name the flag', () => {
    const r = eventrunner('process');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      'eventrunner process: --config (-c) is required: processor configuration file, as the operator renders it\n',
    );
  });
});

describe('eventrunner test | head -1', () => {
  it('ends quietly when the reader goes away after the first line', () => {
    const r = eventrunnerToHead(
      'test',
      '-f',
      'examples/quickstart/pipeline.yaml',
      '--events',
      'examples/quickstart/events.jsonl',
    );
    expect(r.stderr).not.toMatch(stackTrace);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ id: expect.any(String), outcome: expect.any(String) });
  });

  it('ends quietly when output is still being written after the reader has gone', () => {
    // Far more output than a pipe buffers, so writes certainly continue after head exits.
    const events = join(mkdtempSync(join(tmpdir(), 'eventrunner-cli-')), 'events.jsonl');
    writeFileSync(events, '{"amount": 1}\n'.repeat(20_000));
    const r = eventrunnerToHead('test', '-f', 'examples/quickstart/pipeline.yaml', '--events', events);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: 'line-1' });
  });
});
