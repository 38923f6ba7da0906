// Which table keys keep writes idempotent by the event id, and what the probe says of those that do not.
import { describe, expect, it } from 'vitest';
import { chEngineProblem, cqlKeyProblem } from '../../../runtime/sinks/idempotency.js';

describe('cqlKeyProblem', () => {
  it('accepts any primary key with id in it, partition or clustering', () => {
    expect(cqlKeyProblem(['id'])).toBeUndefined();
    expect(cqlKeyProblem(['country', 'id'])).toBeUndefined();
  });
  it('names the key that leaves id out', () => {
    expect(cqlKeyProblem(['country', 'time'])).toMatch(
      /^primary key \(country, time\) does not include id: /,
    );
  });
});

describe('chEngineProblem', () => {
  it('accepts a ReplacingMergeTree ordered by id, alone or with other columns, replicated or not', () => {
    expect(chEngineProblem('ReplacingMergeTree', 'id')).toBeUndefined();
    expect(chEngineProblem('ReplicatedReplacingMergeTree', 'type, `id`')).toBeUndefined();
  });
  it('names an engine that keeps every write, and a sorting key without id', () => {
    expect(chEngineProblem('MergeTree', 'id')).toMatch(/^engine MergeTree keeps every write: /);
    expect(chEngineProblem('Log', '')).toMatch(/^engine Log keeps every write: /);
    expect(chEngineProblem('ReplacingMergeTree', 'time')).toMatch(/^ORDER BY time does not include id: /);
    expect(chEngineProblem('ReplacingMergeTree', '')).toMatch(/^ORDER BY tuple\(\) does not include id: /);
  });
});
