// `eventrunner replay-worker --config <file> --replay <json>`: what a Replay's pod runs — the
// Pipeline's processor config, and the Replay it carries out (runtime/replay/worker.ts).
import { helpText, parseFlags, type CommandSpec } from '../../runtime/common/flags.js';
import { ConfigError } from '../../runtime/common/errors.js';
import type { ReplayPlan } from '../../runtime/replay/plan.js';

export const replayWorkerCommand = {
  command: 'eventrunner replay-worker',
  about: `Carries out a Replay: copies the events it selects into its own work stream and runs them
through the Pipeline's rules and outputs, reporting progress for the operator. Started by the
operator, with the Pipeline's processor config.`,
  flags: {
    config: {
      type: 'string',
      short: 'c',
      value: 'file',
      required: true,
      description: "the Pipeline's processor configuration file",
    },
    replay: {
      type: 'string',
      value: 'json',
      required: true,
      description: 'the Replay to carry out (namespace, name, uid, pipeline and its spec), as JSON',
    },
  },
} as const satisfies CommandSpec;

export function parsePlan(text: string): ReplayPlan {
  let plan: Partial<ReplayPlan>;
  try {
    plan = JSON.parse(text) as Partial<ReplayPlan>;
  } catch (err) {
    throw new ConfigError(`--replay: not JSON: ${(err as Error).message}`);
  }
  for (const k of ['namespace', 'name', 'uid', 'pipeline'] as const)
    if (typeof plan[k] !== 'string' || !plan[k])
      throw new ConfigError(`--replay: ${k} is required (a string)`);
  if (!plan.from === !plan.deadLetters)
    throw new ConfigError('--replay: set exactly one of from and deadLetters');
  return plan as ReplayPlan;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseFlags(replayWorkerCommand, argv);
  if (parsed.help) {
    process.stdout.write(helpText(replayWorkerCommand));
    return 0;
  }
  const args = parsed.values;
  const [{ runService }, { loadConfig }, { startReplayWorker }] = await Promise.all([
    import('../../runtime/common/service.js'),
    import('../../runtime/process/config.js'),
    import('../../runtime/replay/worker.js'),
  ]);
  return runService({
    command: 'eventrunner replay-worker',
    name: 'replay',
    load: async () => {
      const plan = parsePlan(args.replay);
      const config = await loadConfig(args.config);
      return { config, plan, logLevel: config.logLevel };
    },
    start: startReplayWorker,
    identity: (c) => ({ replay: `${c.plan.namespace}/${c.plan.name}` }),
  });
}
