import { describe, expect, it } from 'vitest';
import cassandra from 'cassandra-driver';
import { classifyCassandraError, sharedPort } from '../../../runtime/sinks/cassandra-client.js';
import { isSinkConfigError } from '../../../runtime/sinks/errors.js';

describe('Cassandra errors', () => {
  it('name every unreachable host with its error on one line, without stack traces', () => {
    const refused = new Error('connect ECONNREFUSED 10.0.0.1:9042');
    const timeout = new Error('Connection timeout\n    at Connection.x (connection.js:1:1)');
    const err = new cassandra.errors.NoHostAvailableError({
      '10.0.0.1:9042': refused,
      '10.0.0.2:9042': timeout,
    });
    // The driver's own message inspects the first error, stack trace included.
    expect(err.message).toContain('\n');
    const e = classifyCassandraError(err);
    expect(e.message).toBe(
      'cassandra unreachable: no host could be reached (10.0.0.1:9042: connect ECONNREFUSED 10.0.0.1:9042; ' +
        '10.0.0.2:9042: Connection timeout)',
    );
    expect(isSinkConfigError(e)).toBe(false);
  });

  it('call failed authentication on every host a configuration error', () => {
    const err = new cassandra.errors.NoHostAvailableError({
      '10.0.0.1:9042': new cassandra.errors.AuthenticationError(
        'Provided username and/or password are incorrect',
      ),
    });
    const e = classifyCassandraError(err);
    expect(isSinkConfigError(e)).toBe(true);
    expect(e.message).not.toContain('\n');
  });
});

describe('Cassandra contact points', () => {
  it('give the driver the port they share, so that the peers it discovers are reached on it', () => {
    expect(sharedPort(['10.0.0.1:19042', '10.0.0.2:19042'])).toBe(19042);
    expect(sharedPort(['[fd00::1]:19042'])).toBe(19042);
    // No port, or several: the driver's default and the contact points' own.
    expect(sharedPort(['db1', 'db2'])).toBeUndefined();
    expect(sharedPort(['db1:9042', 'db2:9043'])).toBeUndefined();
    expect(sharedPort(['fd00::1'])).toBeUndefined();
  });
});
