// Entry point of the `eventrunner` CLI. The subcommands are listed in cli/commands/index.ts; each
// lives in cli/commands/<name>.ts, exports `run(argv): Promise<number>` (the exit status) and loads
// only when used. Flags everywhere, including the top-level ones, are parsed by cli/flags.ts.
import { isUsageError } from '../runtime/common/errors.js';
import { exitQuietlyOnClosedOutput } from './closed-output.js';
import { commands } from './commands/index.js';
import { helpText, parseFlags, type CommandSpec, type FlagTable } from '../runtime/common/flags.js';

const topLevelFlags = {
  version: { type: 'boolean', description: 'print the version and exit' },
} as const satisfies FlagTable;

function topLevel(): CommandSpec<typeof topLevelFlags> {
  const column = Math.max(...commands.map((c) => c.name.length)) + 2;
  const list = commands.map((c) => `  ${c.name.padEnd(column)}${c.summary}`);
  return {
    command: 'eventrunner',
    synopsis: '<command> [options]',
    about: [
      'Commands:',
      ...list,
      '',
      "Run 'eventrunner <command> --help' (or 'eventrunner help <command>') for a command's flags.",
    ].join('\n'),
    flags: topLevelFlags,
  };
}

async function printVersion(): Promise<number> {
  const { version } = await import('./version.js');
  process.stdout.write(`eventrunner ${version}\n`);
  return 0;
}

async function runCommand(name: string, argv: string[]): Promise<number> {
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`eventrunner: unknown command "${name}"\n\n${helpText(topLevel())}`);
    return 2;
  }
  try {
    const mod = await command.load();
    return await mod.run(argv);
  } catch (err) {
    if (!isUsageError(err)) throw err;
    process.stderr.write(`eventrunner ${name}: ${err.message}\n`);
    return 2;
  }
}

export async function main(argv: string[]): Promise<number> {
  exitQuietlyOnClosedOutput();
  // Top-level flags come before the command name; everything after it belongs to the command.
  const at = argv.findIndex((arg) => !arg.startsWith('-'));
  const own = at < 0 ? argv : argv.slice(0, at);
  const [name, ...rest] = at < 0 ? [] : argv.slice(at);
  const spec = topLevel();
  let parsed;
  try {
    parsed = parseFlags(spec, own);
  } catch (err) {
    if (!isUsageError(err)) throw err;
    process.stderr.write(`eventrunner: ${err.message}\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(helpText(spec));
    return 0;
  }
  if (parsed.values.version || name === 'version') return printVersion();
  if (name === undefined) {
    process.stderr.write(helpText(spec));
    return 2;
  }
  if (name === 'help') {
    const [topic] = rest;
    if (topic === undefined) {
      process.stdout.write(helpText(spec));
      return 0;
    }
    return runCommand(topic, ['--help']);
  }
  return runCommand(name, rest);
}
