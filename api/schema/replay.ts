// Replay: sends events back through one Pipeline's own rules and outputs — its sources' events from
// a time or stream sequence (replay), or its dead letters (redrive) — for that Pipeline only.
import {
  ageColumn,
  conditionsSchema,
  objectName,
  observedGenerationSchema,
  workloadNameRule,
  type KindDefinition,
} from './common.js';
import { int, obj, str, enumOf } from './dsl.js';

const position = (name: string, id: string, what: string) =>
  obj(
    name,
    `${what}: a time or a stream sequence, one of them.`,
    {
      time: str(`${what} as an RFC 3339 time, compared with the time the stream stored each event.`, {
        format: 'date-time',
      }),
      sequence: int(
        `${what} as a stream sequence (every source stream of the Pipeline has its own numbering).`,
        { minimum: 1, format: 'int64' },
      ),
    },
    {
      'x-kubernetes-validations': [
        {
          $id: id,
          rule: 'has(self.time) != has(self.sequence)',
          message: 'set exactly one of time and sequence',
        },
      ],
    },
  );

const deadLetters = obj(
  'ReplayDeadLetters',
  'Redrive: the Pipeline’s dead letters that match every filter given (none given: all of them). Each dead letter is sent back once; a second Replay with the same filter finds nothing left to send.',
  {
    reason: str('Only dead letters whose reason contains this text (case-insensitive).', {
      minLength: 1,
      maxLength: 1024,
    }),
    rule: str('Only dead letters a rule of this name dead-lettered.', { minLength: 1, maxLength: 256 }),
    output: str('Only dead letters this output refused.', { minLength: 1, maxLength: 63 }),
    query: str('Only query results of this query.', { minLength: 1, maxLength: 63 }),
    since: str('Only dead letters stored at or after this RFC 3339 time.', { format: 'date-time' }),
    until: str('Only dead letters stored before this RFC 3339 time.', { format: 'date-time' }),
  },
);

const spec = obj(
  'ReplaySpec',
  'What to send back through the Pipeline: `from` (optionally `to`) over its sources, or `deadLetters`. The spec cannot change once created; create another Replay.',
  {
    pipeline: objectName(
      'Name of the Pipeline in the same namespace whose rules and outputs run the events.',
    ),
    from: position(
      'ReplayFrom',
      'rp-from-one',
      'Replay the Pipeline’s sources from this position (inclusive), filtered as the Pipeline filters them',
    ),
    to: position(
      'ReplayTo',
      'rp-to-one',
      'End of the replay (exclusive); default: the last event stored at creation',
    ),
    deadLetters,
    ratePerSecond: int('Events per second at most; default: as fast as the Pipeline’s outputs take them.', {
      minimum: 1,
      maximum: 1_000_000,
    }),
  },
  {
    required: ['pipeline'],
    'x-kubernetes-validations': [
      {
        $id: 'rp-one-of',
        rule: 'has(self.from) != has(self.deadLetters)',
        message: 'set exactly one of from (replay the sources) and deadLetters (redrive dead letters)',
      },
      { $id: 'rp-to-needs-from', rule: '!has(self.to) || has(self.from)', message: 'to needs from' },
      {
        $id: 'rp-immutable',
        $transition: true,
        rule: 'self == oldSelf',
        message: 'a Replay cannot be changed once created; create a new one',
      },
    ],
  },
);

const status = obj('ReplayStatus', 'Progress of the Replay, as the operator last saw it.', {
  observedGeneration: observedGenerationSchema,
  phase: enumOf(
    'Pending (being set up), Running, Succeeded (every event landed), Failed (see conditions: the Replay could not run, or events were dead-lettered again).',
    ['Pending', 'Running', 'Succeeded', 'Failed'],
  ),
  total: int('Events selected: the events between from and to, or the dead letters matching the filter.', {
    minimum: 0,
    format: 'int64',
  }),
  done: int('Events that went through the rules and every output they were routed to.', {
    minimum: 0,
    format: 'int64',
  }),
  failed: int('Events dead-lettered again (with their new reason) while replayed.', {
    minimum: 0,
    format: 'int64',
  }),
  startTime: str('When the Replay started running.', { format: 'date-time' }),
  completionTime: str('When the Replay finished.', { format: 'date-time' }),
  conditions: conditionsSchema,
});

export const replay: KindDefinition = {
  kind: 'Replay',
  plural: 'replays',
  singular: 'replay',
  shortNames: ['rp'],
  description:
    'Replay sends a Pipeline’s events back through its own rules and outputs: its sources from a time or stream sequence, or its dead letters (redrive). Other Pipelines on the same streams see nothing of it.',
  spec,
  status,
  rootValidations: [workloadNameRule('rp-name', 'replay Deployment')],
  printerColumns: [
    { name: 'Pipeline', type: 'string', jsonPath: '.spec.pipeline', description: 'Pipeline replayed.' },
    {
      name: 'Phase',
      type: 'string',
      jsonPath: '.status.phase',
      description: 'Pending, Running, Succeeded or Failed.',
    },
    { name: 'Done', type: 'integer', jsonPath: '.status.done', description: 'Events through every output.' },
    { name: 'Total', type: 'integer', jsonPath: '.status.total', description: 'Events selected.' },
    {
      name: 'Failed',
      type: 'integer',
      jsonPath: '.status.failed',
      description: 'Events dead-lettered again.',
    },
    ageColumn(),
  ],
};
