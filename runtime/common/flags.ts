// Command-line flags, declared once per command as a table. The parser (node:util parseArgs, strict)
// and the --help text are both derived from that table, so they cannot disagree.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

/** One flag of a command: `--name`, optionally `-x`, a string value or a switch. */
export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  /** One-letter alias, without the dash. */
  readonly short?: string;
  readonly description: string;
  /** Placeholder for the value in the help text, e.g. `file` gives `--config <file>`. */
  readonly value?: string;
  /** Used when neither the flag nor its environment variable is set. String flags only. */
  readonly default?: string;
  /** Missing (or empty) after flag, environment and default is a usage error. */
  readonly required?: boolean;
  /** May be given several times; the value is the list, in command-line order. */
  readonly multiple?: boolean;
  /** Environment variable read when the flag is not given; an empty variable counts as unset. */
  readonly env?: string;
  /** The only values accepted, from the flag or the environment. */
  readonly choices?: readonly string[];
  /** An empty value (`--flag=`) means something; without this it is a usage error. */
  readonly allowEmpty?: boolean;
}

/** Flags by long name (without the dashes), in the order the help lists them. */
export type FlagTable = Readonly<Record<string, FlagSpec>>;

export interface CommandSpec<T extends FlagTable = FlagTable> {
  /** How the command is invoked, e.g. `eventrunner test`. */
  readonly command: string;
  /** What follows the command in the usage line; by default its required flags, then `[options]`. */
  readonly synopsis?: string;
  /** Paragraphs between the usage line and the flags. */
  readonly about: string;
  readonly flags: T;
}

type Scalar<S> = S extends { readonly choices: readonly (infer C extends string)[] } ? C : string;

type FlagValue<S extends FlagSpec> = S extends { readonly type: 'boolean' }
  ? boolean
  : S extends { readonly multiple: true }
    ? Scalar<S>[]
    : S extends { readonly required: true } | { readonly default: string }
      ? Scalar<S>
      : Scalar<S> | undefined;

/** What a table parses to: booleans, strings (or undefined when optional), lists for repeatable flags. */
export type FlagValues<T extends FlagTable> = { -readonly [K in keyof T]: FlagValue<T[K]> };

export type Parsed<T extends FlagTable> = { help: true } | { help: false; values: FlagValues<T> };

export type Env = Readonly<Record<string, string | undefined>>;

/** Every command answers `-h`/`--help`; tables do not declare it. */
const helpFlag: FlagSpec = { type: 'boolean', short: 'h', description: 'show this help' };

function allFlags(table: FlagTable): [string, FlagSpec][] {
  return [...Object.entries(table), ['help', helpFlag]];
}

/** The table in node:util parseArgs' terms. */
function parseArgsOptions(table: FlagTable): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(
    allFlags(table).map(([name, flag]) => [
      name,
      {
        type: flag.type,
        ...(flag.short ? { short: flag.short } : {}),
        ...(flag.multiple ? { multiple: true } : {}),
      },
    ]),
  );
}

/** `--filename (-f)`: how messages name a flag. */
function flagName(name: string, flag: FlagSpec): string {
  return flag.short ? `--${name} (-${flag.short})` : `--${name}`;
}

function knownFlags(table: FlagTable): string {
  return allFlags(table)
    .map(([name, flag]) => flagName(name, flag))
    .join(', ');
}

function isOptionLike(value: string): boolean {
  return value.length > 1 && value.startsWith('-');
}

/**
 * Explains why strict parsing failed. parseArgs' own messages are written for positional-taking
 * programs and do not list the flags, so the arguments are walked again, leniently, as tokens.
 */
function parseFailure(table: FlagTable, argv: string[], cause: unknown): UsageError {
  const { tokens } = parseArgs({
    args: argv,
    options: parseArgsOptions(table),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const flags = new Map(allFlags(table));
  for (const token of tokens) {
    // The argument as typed, which may hold more than the token (`--nope=1`, `-qx`).
    const typed = JSON.stringify(argv[token.index]);
    if (token.kind === 'positional') {
      return new UsageError(`unknown argument ${typed}: every input is given with a flag`, { cause });
    }
    if (token.kind !== 'option') continue;
    const flag = flags.get(token.name);
    if (!flag) {
      return new UsageError(
        `unknown argument ${typed}: unknown flag ${token.rawName}; known flags: ${knownFlags(table)}`,
        { cause },
      );
    }
    const label = flagName(token.name, flag);
    if (flag.type === 'boolean' && token.value !== undefined) {
      return new UsageError(`${label} takes no value`, { cause });
    }
    if (flag.type === 'string' && token.value === undefined) {
      return new UsageError(`${label} needs a value`, { cause });
    }
    if (flag.type === 'string' && !token.inlineValue && isOptionLike(token.value ?? '')) {
      return new UsageError(
        `${label} needs a value, not the flag ${token.value}; write --${token.name}=${token.value} if that is the value`,
        { cause },
      );
    }
  }
  return new UsageError((cause as Error).message, { cause });
}

/**
 * Parses `argv` against a command's table. A flag not given is read from its environment variable,
 * then its default; required flags and choices are checked on the result. `--help` wins over every
 * other check. Throws UsageError for anything the user has to fix.
 */
export function parseFlags<T extends FlagTable>(
  spec: CommandSpec<T>,
  argv: readonly string[],
  env: Env = {},
): Parsed<T> {
  let parsed: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: parseArgsOptions(spec.flags),
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw parseFailure(spec.flags, [...argv], err);
  }
  if (parsed.help === true) return { help: true };

  const values: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(spec.flags)) {
    const label = flagName(name, flag);
    if (flag.type === 'boolean') {
      values[name] = parsed[name] === true;
      continue;
    }
    const given = parsed[name] as string | string[] | undefined;
    const fromEnv = flag.env === undefined ? undefined : env[flag.env];
    let list: string[];
    if (given !== undefined) list = Array.isArray(given) ? given : [given];
    else if (fromEnv !== undefined && (fromEnv !== '' || flag.allowEmpty)) list = [fromEnv];
    else list = flag.default === undefined ? [] : [flag.default];
    for (const value of list) {
      if (value === '' && !flag.allowEmpty) throw new UsageError(`${label} needs a value`);
      if (flag.choices && !flag.choices.includes(value)) {
        const from = given === undefined && flag.env ? `${flag.env} for ${label}` : label;
        throw new UsageError(
          `${from} must be one of ${flag.choices.join(', ')}, not ${JSON.stringify(value)}`,
        );
      }
    }
    if (flag.required && list.length === 0) {
      const or = flag.env ? ` (or ${flag.env})` : '';
      throw new UsageError(`${label}${or} is required: ${flag.description}`);
    }
    values[name] = flag.multiple ? list : list[0];
  }
  return { help: false, values: values as FlagValues<T> };
}

const width = 100;

function wrap(text: string, indent: number, first: number): string[] {
  const lines: string[] = [];
  let line = '';
  let room = width - first;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
      room = width - indent;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

function label(name: string, flag: FlagSpec): string {
  const short = flag.short ? `-${flag.short}, ` : '    ';
  const value = flag.type === 'string' ? ` <${flag.value ?? 'value'}>` : '';
  return `${short}--${name}${value}`;
}

function notes(flag: FlagSpec): string {
  const out: string[] = [];
  if (flag.required) out.push('required');
  if (flag.choices) out.push(`one of ${flag.choices.join(', ')}`);
  if (flag.env) out.push(`env ${flag.env}`);
  if (flag.default !== undefined) out.push(`default ${flag.default === '' ? '""' : flag.default}`);
  if (flag.multiple) out.push('repeatable');
  return out.length ? ` (${out.join('; ')})` : '';
}

function synopsis(spec: CommandSpec): string {
  const required = Object.entries(spec.flags)
    .filter(([, flag]) => flag.required && !flag.env)
    .map(([name, flag]) => {
      const value = flag.type === 'string' ? ` <${flag.value ?? 'value'}>` : '';
      return `${flag.short ? `-${flag.short}` : `--${name}`}${value}`;
    });
  return [...required, '[options]'].join(' ');
}

/** The `--help` text: usage line, about, and every flag with its description, environment and default. */
export function helpText(spec: CommandSpec): string {
  const rows = allFlags(spec.flags).map(([name, flag]) => ({
    label: label(name, flag),
    text: `${flag.description}${notes(flag)}`,
  }));
  const column = Math.min(Math.max(...rows.map((r) => r.label.length)) + 4, 40);
  const options = rows.flatMap(({ label: l, text }) => {
    // Descriptions start in one column; a label too wide for it gets a line of its own.
    const head = `  ${l}`;
    const pad = ' '.repeat(column);
    const [first = '', ...rest] = wrap(text, column, column);
    const lines = head.length + 2 > column ? [head, `${pad}${first}`] : [`${head.padEnd(column)}${first}`];
    return [...lines, ...rest.map((r) => `${pad}${r}`)];
  });
  return [
    `Usage: ${spec.command} ${spec.synopsis ?? synopsis(spec)}`,
    '',
    spec.about.trimEnd(),
    '',
    'Options:',
    ...options,
    '',
  ].join('\n');
}
