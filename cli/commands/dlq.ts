// `eventrunner dlq list|show`: a Pipeline's dead letters read from its dead-letter stream — why
// each one failed (reason, rule or output), when, after how many deliveries, and whether a
// redrive already sent it back. Reads NATS only; writes nothing.
import { UsageError } from '../../runtime/common/errors.js';
import { helpText, parseFlags, type CommandSpec } from '../../runtime/common/flags.js';
import type { DeadLetterDetail, DeadLetterView } from '../../runtime/replay/dead-letters.js';

const common = {
  pipeline: { type: 'string', short: 'p', value: 'name', required: true, description: 'the Pipeline' },
  namespace: {
    type: 'string',
    short: 'n',
    value: 'namespace',
    description: "the Pipeline's namespace (default: the kubeconfig context's, else default)",
  },
  'nats-url': {
    type: 'string',
    value: 'url',
    env: 'NATS_URL',
    default: 'nats://127.0.0.1:4222',
    description: 'NATS holding the dead-letter stream',
  },
  'nats-credentials': {
    type: 'string',
    value: 'file',
    env: 'NATS_CREDENTIALS_FILE',
    description: 'NATS .creds file, for a NATS that requires it',
  },
  output: {
    type: 'string',
    short: 'o',
    value: 'format',
    choices: ['table', 'json'],
    default: 'table',
    description: 'table for people, json for scripts',
  },
} as const;

export const dlqListCommand = {
  command: 'eventrunner dlq list',
  about: `Lists a Pipeline's dead letters, oldest first: sequence, time, deliveries, reason, the rule
or output behind it, the event's id and type, and the Replay that redrove it, if one did.`,
  flags: {
    ...common,
    reason: { type: 'string', value: 'text', description: 'only reasons containing this text (any case)' },
    rule: { type: 'string', value: 'name', description: 'only dead letters of this rule' },
    'refused-by': { type: 'string', value: 'output', description: 'only events this output refused' },
    query: { type: 'string', value: 'name', description: 'only results of this query' },
    since: { type: 'string', value: 'time', description: 'only dead letters stored at or after (RFC 3339)' },
    until: { type: 'string', value: 'time', description: 'only dead letters stored before (RFC 3339)' },
    limit: { type: 'string', value: 'n', default: '100', description: 'at most this many, the newest' },
  },
} as const satisfies CommandSpec;

export const dlqShowCommand = {
  command: 'eventrunner dlq show',
  synopsis: '<sequence> --pipeline <name> [options]',
  about: 'Shows one dead letter: its reason and origin, every header and the event as stored.',
  flags: common,
} as const satisfies CommandSpec;

const usage = `Usage: eventrunner dlq list|show [options]   (eventrunner dlq list --help)\n`;

function time(flag: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (Number.isNaN(Date.parse(v)))
    throw new UsageError(`--${flag} ${v}: give an RFC 3339 time such as 2026-01-02T15:04:05Z`);
  return new Date(v).toISOString();
}

async function namespaceOf(given: string | undefined): Promise<string> {
  if (given) return given;
  try {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  } catch {
    return 'default';
  }
}

const cell = (s: string | number | undefined, width: number) => {
  const t = s === undefined ? '-' : String(s);
  return t.length > width ? `${t.slice(0, width - 1)}…` : t.padEnd(width);
};

export function deadLetterTable(rows: readonly DeadLetterView[]): string {
  const head = `${cell('SEQ', 7)} ${cell('TIME', 24)} ${cell('DELIV', 5)} ${cell('RULE/OUTPUT', 20)} ${cell('EVENT', 24)} ${cell('REDRIVEN', 12)} REASON`;
  const lines = rows.map((r) => {
    const by = r.rule
      ? `rule ${r.rule}`
      : r.output
        ? `output ${r.output}`
        : r.query
          ? `query ${r.query}`
          : undefined;
    return `${cell(r.sequence, 7)} ${cell(r.time, 24)} ${cell(r.deliveries, 5)} ${cell(by, 20)} ${cell(r.eventId, 24)} ${cell(r.redrivenBy, 12)} ${r.reason}`;
  });
  return `${[head, ...lines].join('\n')}\n`;
}

export function deadLetterText(d: DeadLetterDetail): string {
  const lines = [
    `Sequence:    ${d.sequence}`,
    `Time:        ${d.time}`,
    `Reason:      ${d.reason}`,
    ...(d.rule ? [`Rule:        ${d.rule}`] : []),
    ...(d.output ? [`Output:      ${d.output}`] : []),
    ...(d.query ? [`Query:       ${d.query}`] : []),
    ...(d.deliveries ? [`Deliveries:  ${d.deliveries}`] : []),
    ...(d.eventId ? [`Event:       ${d.eventId}${d.eventType ? ` (${d.eventType})` : ''}`] : []),
    ...(d.origin ? [`Origin:      ${d.origin}`] : []),
    `Redriven:    ${d.redrivenBy ? `by Replay ${d.redrivenBy}` : 'no'}`,
    'Headers:',
    ...Object.entries(d.headers).map(([k, v]) => `  ${k}: ${v}`),
    'Body:',
    typeof d.body === 'string' ? d.body : JSON.stringify(d.body, null, 2),
  ];
  return `${lines.join('\n')}\n`;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    process.stdout.write(`${usage}\n${helpText(dlqListCommand)}\n${helpText(dlqShowCommand)}`);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'list' && sub !== 'show') throw new UsageError(`dlq ${sub}: unknown; use dlq list or dlq show`);
  const [{ connect }, { jetstreamManager }, { natsOptions }, reads, { deadLetterStreamName }] =
    await Promise.all([
      import('@nats-io/transport-node'),
      import('@nats-io/jetstream'),
      import('../../runtime/common/nats.js'),
      import('../../runtime/replay/dead-letters.js'),
      import('../../operator/names.js'),
    ]);
  const open = async (v: { 'nats-url': string; 'nats-credentials'?: string | undefined }) => {
    const nc = await connect(
      natsOptions(
        { url: v['nats-url'], ...(v['nats-credentials'] ? { credentialsFile: v['nats-credentials'] } : {}) },
        'eventrunner-dlq',
      ),
    );
    return { nc, jsm: await jetstreamManager(nc) };
  };

  if (sub === 'show') {
    const seqArg = rest[0] && !rest[0].startsWith('-') ? rest.shift() : undefined;
    const parsed = parseFlags(dlqShowCommand, rest, process.env);
    if (parsed.help) {
      process.stdout.write(helpText(dlqShowCommand));
      return 0;
    }
    const sequence = Number(seqArg);
    if (!Number.isInteger(sequence) || sequence < 1)
      throw new UsageError('dlq show <sequence>: give the sequence dlq list shows in its SEQ column');
    const v = parsed.values;
    const namespace = await namespaceOf(v.namespace);
    const { nc, jsm } = await open(v);
    try {
      const stream = deadLetterStreamName(namespace, v.pipeline);
      const d = await reads.showDeadLetter(jsm, { namespace, pipeline: v.pipeline, stream }, sequence);
      if (!d) {
        process.stderr.write(`eventrunner dlq show: ${stream} has no message ${sequence}\n`);
        return 1;
      }
      process.stdout.write(v.output === 'json' ? `${JSON.stringify(d, null, 2)}\n` : deadLetterText(d));
      return 0;
    } finally {
      await nc.close();
    }
  }

  const parsed = parseFlags(dlqListCommand, rest, process.env);
  if (parsed.help) {
    process.stdout.write(helpText(dlqListCommand));
    return 0;
  }
  const v = parsed.values;
  const limit = Number(v.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit ${v.limit}: give a positive number`);
  const since = time('since', v.since);
  const until = time('until', v.until);
  const namespace = await namespaceOf(v.namespace);
  const { nc, jsm } = await open(v);
  try {
    const rows = await reads.listDeadLetters(jsm, {
      namespace,
      pipeline: v.pipeline,
      stream: deadLetterStreamName(namespace, v.pipeline),
      limit,
      filter: {
        ...(v.reason ? { reason: v.reason } : {}),
        ...(v.rule ? { rule: v.rule } : {}),
        ...(v['refused-by'] ? { output: v['refused-by'] } : {}),
        ...(v.query ? { query: v.query } : {}),
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
      },
    });
    process.stdout.write(v.output === 'json' ? `${JSON.stringify(rows, null, 2)}\n` : deadLetterTable(rows));
    return 0;
  } finally {
    await nc.close();
  }
}
