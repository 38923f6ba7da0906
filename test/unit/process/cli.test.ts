import { describe, expect, it } from 'vitest';
import { run } from '../../../cli/commands/process.js';
import { isUsageError } from '../../../runtime/common/errors.js';

describe('eventrunner process flags', () => {
  it.each([[[]], [['--config']], [['--bogus']], [['--config', 'a', 'extra']]])(
    'rejects %j as usage',
    async (argv) => {
      const err = await run(argv).catch((e: unknown) => e);
      expect(isUsageError(err)).toBe(true);
    },
  );
});
