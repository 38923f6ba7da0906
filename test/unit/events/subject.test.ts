import { describe, expect, it } from 'vitest';
import { assertSubjectType, subjectFor, subjectTypeProblem } from '../../../runtime/events/index.js';

describe('event type as subject tokens', () => {
  it.each(['com.example.order.created', 'a', 'a.b-c_d.E1', 'ünïcode.ok'])('accepts %s', (t) => {
    expect(subjectTypeProblem(t)).toBeUndefined();
  });

  it.each([
    ['', 'empty'],
    ['.a', 'empty token'],
    ['a.', 'empty token'],
    ['a..b', 'empty token'],
    ['a b', 'whitespace'],
    ['a\tb', 'whitespace'],
    ['a\u00a0b', 'whitespace'],
    ['a.*', 'wildcard "*"'],
    ['a.>', 'wildcard ">"'],
    ['a.b*c', 'wildcard "*"'],
  ])('rejects %j (%s)', (t, why) => {
    expect(subjectTypeProblem(t)).toContain(why);
  });

  it('names the type attribute and says what to do', () => {
    expect(() => assertSubjectType('order created')).toThrow(
      /attribute "type" "order created" cannot be used as a NATS subject: .*use dot-separated tokens/,
    );
  });

  it('builds <prefix>.<type>', () => {
    expect(subjectFor('er.ns.shop', 'com.shop.order')).toBe('er.ns.shop.com.shop.order');
  });
});
