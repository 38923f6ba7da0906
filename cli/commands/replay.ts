// `eventrunner replay`: creates a Replay of a Pipeline's sources from a time or stream sequence
// and follows it with a progress bar; exits 1 when it fails.
import { UsageError } from '../../runtime/common/errors.js';
import { helpText, parseFlags, type CommandSpec } from '../../runtime/common/flags.js';
import { createAndFollow, kubeFlags, positiveInt, rfc3339 } from '../replay-follow.js';

export const replayCommand = {
  command: 'eventrunner replay',
  about: `Sends a Pipeline's events again through its rules and outputs, from a time or a stream
sequence (and up to another, or to the last event stored now), by creating a Replay and following
its progress. Other Pipelines reading the same EventSources see nothing of it; sinks write by
event id, so rows are replaced, not duplicated. Exits 0 when every event went through, 1 otherwise.`,
  flags: {
    ...kubeFlags,
    'from-time': {
      type: 'string',
      value: 'time',
      description: 'replay events stored at or after (RFC 3339)',
    },
    'from-sequence': { type: 'string', value: 'n', description: 'replay from this stream sequence' },
    'to-time': {
      type: 'string',
      value: 'time',
      description: 'stop before events stored at or after this time',
    },
    'to-sequence': { type: 'string', value: 'n', description: 'stop before this stream sequence' },
  },
} as const satisfies CommandSpec;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(replayCommand, argv, process.env);
  if (parsed.help) {
    process.stdout.write(helpText(replayCommand));
    return 0;
  }
  const v = parsed.values;
  const fromTime = rfc3339('from-time', v['from-time']);
  const fromSeq = positiveInt('from-sequence', v['from-sequence']);
  const toTime = rfc3339('to-time', v['to-time']);
  const toSeq = positiveInt('to-sequence', v['to-sequence']);
  if ((fromTime === undefined) === (fromSeq === undefined))
    throw new UsageError('give exactly one of --from-time and --from-sequence');
  if (toTime !== undefined && toSeq !== undefined)
    throw new UsageError('give at most one of --to-time and --to-sequence');
  const rate = positiveInt('rate', v.rate);
  const timeout = positiveInt('timeout', v.timeout)!;
  return createAndFollow({
    kubeconfig: v.kubeconfig,
    namespace: v.namespace,
    name: v.name,
    generateName: `${v.pipeline}-replay-`,
    spec: {
      pipeline: v.pipeline,
      from: fromTime ? { time: fromTime } : { sequence: fromSeq! },
      ...(toTime ? { to: { time: toTime } } : toSeq ? { to: { sequence: toSeq } } : {}),
      ...(rate ? { ratePerSecond: rate } : {}),
    },
    follow: !v['no-follow'],
    timeoutMs: timeout * 1000,
    command: 'eventrunner replay',
  });
}
