import { describe, expect, it } from 'vitest';
import { cassandraJavaArgs, cassandraJit } from '../../stack/cassandra.js';

describe('Cassandra JVM command line', () => {
  const args = (jit: string | undefined) => {
    const saved = process.env.EVENTRUNNER_CASSANDRA_JIT;
    if (jit === undefined) delete process.env.EVENTRUNNER_CASSANDRA_JIT;
    else process.env.EVENTRUNNER_CASSANDRA_JIT = jit;
    try {
      return cassandraJavaArgs({ libDir: '/lib', jamm: undefined, dir: '/d', heap: '1G', jmxPort: 7199 });
    } finally {
      if (saved === undefined) delete process.env.EVENTRUNNER_CASSANDRA_JIT;
      else process.env.EVENTRUNNER_CASSANDRA_JIT = saved;
    }
  };

  it('compiles with C1 only unless told full, before the main class', () => {
    expect(args(undefined)).toContain('-XX:TieredStopAtLevel=1');
    expect(args('c1')).toContain('-XX:TieredStopAtLevel=1');
    expect(args('full')).not.toContain('-XX:TieredStopAtLevel=1');
    const a = args('c1');
    expect(a.indexOf('-XX:TieredStopAtLevel=1')).toBeLessThan(
      a.indexOf('org.apache.cassandra.service.CassandraDaemon'),
    );
  });

  it('names the variable and its values when it is neither', () => {
    expect(() => cassandraJit({ EVENTRUNNER_CASSANDRA_JIT: 'C2' })).toThrow(
      'EVENTRUNNER_CASSANDRA_JIT must be c1 or full, not C2',
    );
  });
});
