// Entry point of the `eventrunner` CLI. Each subcommand lives in cli/commands/<name>.ts and
// exports `run(argv): Promise<number>` (the process exit code); modules load only when used.
import { isUsageError } from '../runtime/common/errors.js';

interface CommandEntry {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
}

const commands: Record<string, CommandEntry> = {};

export function registerCommand(name: string, entry: CommandEntry): void {
  commands[name] = entry;
}

function usage(): string {
  const lines = Object.entries(commands)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return ['Usage: eventrunner <command> [options]', '', 'Commands:', ...lines, ''].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  await import('./commands/index.js');
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
    const { version } = await import('./version.js');
    process.stdout.write(`eventrunner ${version}\n`);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`eventrunner: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const mod = await command.load();
    return await mod.run(rest);
  } catch (err) {
    if (isUsageError(err)) {
      process.stderr.write(`eventrunner ${name}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
