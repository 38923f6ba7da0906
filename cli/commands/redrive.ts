// `eventrunner redrive`: creates a Replay of a Pipeline's dead letters (all, or those matching the
// filters) and follows it with a progress bar; exits 1 when it fails — some were dead-lettered
// again (`eventrunner dlq list` shows their new reasons) or it could not run.
import { helpText, parseFlags, type CommandSpec } from '../../runtime/common/flags.js';
import { createAndFollow, kubeFlags, positiveInt, rfc3339 } from '../replay-follow.js';

export const redriveCommand = {
  command: 'eventrunner redrive',
  about: `Sends a Pipeline's dead letters back through its rules and outputs, by creating a Replay and
following its progress. Each dead letter is sent back once: a second redrive with the same filters
sends nothing. One that fails again is dead-lettered again with its new reason. Exits 0 when every
one went through, 1 otherwise.`,
  flags: {
    ...kubeFlags,
    reason: { type: 'string', value: 'text', description: 'only reasons containing this text (any case)' },
    rule: { type: 'string', value: 'name', description: 'only dead letters of this rule' },
    'refused-by': { type: 'string', value: 'output', description: 'only events this output refused' },
    query: {
      type: 'string',
      value: 'name',
      description: 'only results of this query an output refused (written to that output again)',
    },
    since: { type: 'string', value: 'time', description: 'only dead letters stored at or after (RFC 3339)' },
    until: { type: 'string', value: 'time', description: 'only dead letters stored before (RFC 3339)' },
  },
} as const satisfies CommandSpec;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(redriveCommand, argv, process.env);
  if (parsed.help) {
    process.stdout.write(helpText(redriveCommand));
    return 0;
  }
  const v = parsed.values;
  const since = rfc3339('since', v.since);
  const until = rfc3339('until', v.until);
  const rate = positiveInt('rate', v.rate);
  const timeout = positiveInt('timeout', v.timeout)!;
  return createAndFollow({
    kubeconfig: v.kubeconfig,
    namespace: v.namespace,
    name: v.name,
    generateName: `${v.pipeline}-redrive-`,
    spec: {
      pipeline: v.pipeline,
      deadLetters: {
        ...(v.reason ? { reason: v.reason } : {}),
        ...(v.rule ? { rule: v.rule } : {}),
        ...(v['refused-by'] ? { output: v['refused-by'] } : {}),
        ...(v.query ? { query: v.query } : {}),
        ...(since ? { since } : {}),
        ...(until ? { until } : {}),
      },
      ...(rate ? { ratePerSecond: rate } : {}),
    },
    follow: !v['no-follow'],
    timeoutMs: timeout * 1000,
    command: 'eventrunner redrive',
  });
}
