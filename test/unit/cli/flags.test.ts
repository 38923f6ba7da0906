// The flag-table parser and the help text generated from the same table.
import { describe, expect, it } from 'vitest';
import { helpText, parseFlags, type CommandSpec } from '../../../runtime/common/flags.js';
import { ingestCommand } from '../../../cli/commands/ingest.js';
import { processCommand } from '../../../cli/commands/process.js';
import { testCommand } from '../../../cli/commands/test.js';
import { validateCommand } from '../../../cli/commands/validate.js';
import { operatorCommand, parseOperatorOptions } from '../../../operator/options.js';
import { isUsageError } from '../../../runtime/common/errors.js';

const spec = {
  command: 'eventrunner demo',
  about: 'Does a demonstration.',
  flags: {
    config: { type: 'string', short: 'c', value: 'file', required: true, description: 'config file' },
    level: {
      type: 'string',
      value: 'level',
      choices: ['low', 'high'],
      default: 'low',
      env: 'DEMO_LEVEL',
      description: 'how much',
    },
    namespace: { type: 'string', env: 'DEMO_NAMESPACE', allowEmpty: true, description: 'where' },
    tag: { type: 'string', short: 't', multiple: true, description: 'a tag' },
    quiet: { type: 'boolean', short: 'q', description: 'say less' },
  },
} as const satisfies CommandSpec;

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isUsageError(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a usage error');
}

function values(argv: string[], env: Record<string, string> = {}) {
  const parsed = parseFlags(spec, argv, env);
  if (parsed.help) throw new Error('unexpected --help');
  return parsed.values;
}

describe('parseFlags', () => {
  it('takes --flag value, --flag=value, -x value and -xvalue alike', () => {
    for (const argv of [['--config', 'a.yaml'], ['--config=a.yaml'], ['-c', 'a.yaml'], ['-ca.yaml']]) {
      expect(values(argv).config).toBe('a.yaml');
    }
    expect(values(['--config=x=y']).config).toBe('x=y');
  });

  it('fills defaults, booleans and lists when flags are absent', () => {
    expect(values(['-c', 'a'])).toEqual({
      config: 'a',
      level: 'low',
      namespace: undefined,
      tag: [],
      quiet: false,
    });
    expect(values(['-c', 'a', '-t', 'x', '--tag=y', '-q'])).toMatchObject({ tag: ['x', 'y'], quiet: true });
  });

  it('reads the environment when a flag is absent; the flag wins; an empty variable is unset', () => {
    expect(values(['-c', 'a'], { DEMO_LEVEL: 'high' }).level).toBe('high');
    expect(values(['-c', 'a', '--level', 'low'], { DEMO_LEVEL: 'high' }).level).toBe('low');
    expect(values(['-c', 'a'], { DEMO_LEVEL: '' }).level).toBe('low');
    expect(values(['-c', 'a'], { DEMO_NAMESPACE: '' }).namespace).toBe('');
    expect(values(['-c', 'a', '--namespace='], { DEMO_NAMESPACE: 'shop' }).namespace).toBe('');
  });

  it('names a missing required flag', () => {
    expect(usageError(() => parseFlags(spec, []))).toBe('--config (-c) is required: config file');
  });

  it('rejects an unknown flag, naming it and listing the known ones', () => {
    const known = 'known flags: --config (-c), --level, --namespace, --tag (-t), --quiet (-q), --help (-h)';
    expect(usageError(() => parseFlags(spec, ['-c', 'a', '--nope']))).toBe(
      `unknown argument "--nope": unknown flag --nope; ${known}`,
    );
    expect(usageError(() => parseFlags(spec, ['--nope=1', '-c', 'a']))).toBe(
      `unknown argument "--nope=1": unknown flag --nope; ${known}`,
    );
    expect(usageError(() => parseFlags(spec, ['-qx', '-c', 'a']))).toBe(
      `unknown argument "-qx": unknown flag -x; ${known}`,
    );
  });

  it('rejects missing, empty and flag-like values, values given to switches, and positionals', () => {
    expect(usageError(() => parseFlags(spec, ['--config']))).toBe('--config (-c) needs a value');
    expect(usageError(() => parseFlags(spec, ['--config=']))).toBe('--config (-c) needs a value');
    expect(usageError(() => parseFlags(spec, ['--config', '--quiet']))).toMatch(
      /^--config \(-c\) needs a value, not the flag --quiet; write --config=--quiet/,
    );
    expect(usageError(() => parseFlags(spec, ['-c', 'a', '--quiet=yes']))).toBe(
      '--quiet (-q) takes no value',
    );
    expect(usageError(() => parseFlags(spec, ['-c', 'a', 'extra']))).toBe(
      'unknown argument "extra": every input is given with a flag',
    );
    expect(values(['--config=--odd']).config).toBe('--odd');
    expect(values(['-c', '-']).config).toBe('-');
  });

  it('checks choices, from the flag and from the environment', () => {
    expect(usageError(() => parseFlags(spec, ['-c', 'a', '--level', 'mid']))).toBe(
      '--level must be one of low, high, not "mid"',
    );
    expect(usageError(() => parseFlags(spec, ['-c', 'a'], { DEMO_LEVEL: 'mid' }))).toBe(
      'DEMO_LEVEL for --level must be one of low, high, not "mid"',
    );
  });

  it('answers --help and -h before any other check', () => {
    expect(parseFlags(spec, ['--help'])).toEqual({ help: true });
    expect(parseFlags(spec, ['-h', '--level', 'mid'])).toEqual({ help: true });
  });
});

describe('helpText', () => {
  it('lists every flag with its alias, value, description, environment, default and requirement', () => {
    const text = helpText(spec);
    expect(text.split('\n').slice(0, 3)).toEqual([
      'Usage: eventrunner demo -c <file> [options]',
      '',
      'Does a demonstration.',
    ]);
    expect(text).toContain('  -c, --config <file>');
    expect(text).toMatch(/config file \(required\)\n/);
    expect(text).toMatch(/--level <level> +how much \(one of low, high; env DEMO_LEVEL; default low\)\n/);
    expect(text).toMatch(/-t, --tag <value> +a tag \(repeatable\)\n/);
    expect(text).toMatch(/-q, --quiet +say less\n/);
    expect(text).toMatch(/-h, --help +show this help\n/);
  });

  it('keeps lines within 100 columns', () => {
    for (const command of [testCommand, operatorCommand]) {
      for (const line of helpText(command).split('\n')) expect(line.length).toBeLessThanOrEqual(100);
    }
  });
});

const tables: [string, CommandSpec][] = [
  ['validate', validateCommand],
  ['test', testCommand],
  ['operator', operatorCommand],
  ['ingest', ingestCommand],
  ['process', processCommand],
];

describe.each(tables)('the %s flag table', (_name, command) => {
  it('documents every flag it parses', () => {
    const text = helpText(command).replace(/\s+/g, ' ');
    for (const [name, flag] of Object.entries(command.flags)) {
      expect(text).toContain(`--${name}`);
      expect(text).toContain(flag.description.replace(/\s+/g, ' '));
      if (flag.short) expect(text).toContain(`-${flag.short}, --${name}`);
      if (flag.env) expect(text).toContain(`env ${flag.env}`);
    }
  });

  it('is consistent: distinct aliases, no own --help, defaults among the choices', () => {
    const shorts = Object.values(command.flags).flatMap((f) => (f.short ? [f.short] : []));
    expect(new Set([...shorts, 'h']).size).toBe(shorts.length + 1);
    expect(Object.keys(command.flags)).not.toContain('help');
    for (const flag of Object.values(command.flags)) {
      if (flag.default !== undefined && flag.choices) expect(flag.choices).toContain(flag.default);
      if (flag.type === 'boolean') expect(flag.default).toBeUndefined();
    }
  });
});

describe('operator options from flags and environment', () => {
  const base = ['--image', 'img', '--nats-url', 'nats://n:4222'];

  it('takes flags over the environment, the environment over defaults', () => {
    const env = { OPS_PORT: '9000', LOG_LEVEL: 'debug', WATCH_NAMESPACE: 'shop', LEADER_ELECT: 'false' };
    expect(parseOperatorOptions(base, env)).toMatchObject({
      opsPort: 9000,
      logLevel: 'debug',
      watchNamespace: 'shop',
      leaderElection: { enabled: false, namespace: 'default' },
    });
    expect(
      parseOperatorOptions([...base, '--ops-port=9100', '--log-level', 'warn', '--watch-namespace='], env),
    ).toMatchObject({ opsPort: 9100, logLevel: 'warn', watchNamespace: '' });
    expect(parseOperatorOptions(base, {})).toMatchObject({
      imagePullPolicy: 'IfNotPresent',
      opsPort: 8081,
      resyncMs: 60_000,
      concurrency: 8,
      logLevel: 'info',
      leaderElection: { enabled: true, name: 'eventrunner-operator' },
    });
  });

  it('reports bad values as usage errors', () => {
    expect(usageError(() => parseOperatorOptions([...base, '--resync', '1m'], {}))).toBe(
      '--resync must be a non-negative integer, not 1m',
    );
    expect(
      usageError(() => parseOperatorOptions(base, { EVENTRUNNER_IMAGE_PULL_POLICY: 'Sometimes' })),
    ).toMatch(
      /^EVENTRUNNER_IMAGE_PULL_POLICY for --image-pull-policy must be one of Always, IfNotPresent, Never/,
    );
  });
});
