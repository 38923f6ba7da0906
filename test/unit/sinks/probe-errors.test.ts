// Which part of a Sink a failed probe points at, from the drivers' error classes and codes. The
// errors are built the way the drivers build them; test/integration/processor/probe-reasons.test.ts
// gets each of them from the real servers.
import { describe, expect, it } from 'vitest';
import cassandra from 'cassandra-driver';
import { ClickHouseError } from '@clickhouse/client';
import {
  SinkConfigError,
  SinkProbeError,
  SinkProbeErrorCode,
  isSinkConfigError,
  isSinkProbeError,
} from '../../../runtime/sinks/errors.js';
import { probeError } from '../../../runtime/sinks/probe.js';

const { errors } = cassandra;
const rc = cassandra.types.responseErrorCodes;

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
const chError = (code: string, type: string, message: string) => new ClickHouseError({ code, type, message });

describe('SinkProbeError', () => {
  it('has a name, a stable code and the cause, and a predicate by code', () => {
    const cause = new Error('boom');
    const err = new SinkProbeError(SinkProbeErrorCode.TableNotFound, 'table shop.orders does not exist', {
      cause,
    });
    expect(err).toMatchObject({ name: 'SinkProbeError', code: 'SINK_TABLE_NOT_FOUND', cause });
    expect(isSinkProbeError(err)).toBe(true);
    expect(isSinkProbeError(err, SinkProbeErrorCode.TableNotFound)).toBe(true);
    expect(isSinkProbeError(err, SinkProbeErrorCode.SchemaMismatch)).toBe(false);
    expect(isSinkProbeError(new SinkConfigError('table shop.orders does not exist'))).toBe(false);
    expect(isSinkProbeError(cause)).toBe(false);
    // Not one of the processor's sink errors: a probe's failure never reaches the write path.
    expect(isSinkConfigError(err)).toBe(false);
  });

  it('has one distinct code per cause', () => {
    const codes = Object.values(SinkProbeErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
  });
});

describe('probeError for Cassandra', () => {
  const code = (err: unknown) => probeError('scylla', err).code;

  it('calls a refused login an authentication failure, on any host', () => {
    // The driver turns the server's badCredentials answer into an AuthenticationError per host.
    const refused = Object.assign(
      new errors.AuthenticationError('Provided username and/or password are incorrect'),
      {
        additionalInfo: new errors.ResponseError(
          rc.badCredentials,
          'Provided username and/or password are incorrect',
        ),
      },
    );
    const noHost = new errors.NoHostAvailableError({
      '10.0.0.1:9042': refused,
      '10.0.0.2:9042': withCode('connect ECONNREFUSED 10.0.0.2:9042', 'ECONNREFUSED'),
    });
    const e = probeError('scylla', noHost);
    expect(e.code).toBe(SinkProbeErrorCode.AuthenticationFailed);
    expect(e.cause).toBe(noHost);
    expect(e.message).not.toContain('\n');
    // No credentials for a server that asks for them: the driver's own AuthenticationError.
    const none = new errors.NoHostAvailableError({
      '10.0.0.1:9042': new errors.AuthenticationError(
        'Host 10.0.0.1:9042 requires authentication, but no authenticator found in the options',
      ),
    });
    expect(code(none)).toBe(SinkProbeErrorCode.AuthenticationFailed);
  });

  it('maps response error codes, not messages', () => {
    expect(code(new errors.ResponseError(rc.unauthorized, 'User x has no SELECT permission'))).toBe(
      SinkProbeErrorCode.AuthenticationFailed,
    );
    expect(code(new errors.ResponseError(rc.badCredentials, 'anything'))).toBe(
      SinkProbeErrorCode.AuthenticationFailed,
    );
    // A message that speaks of passwords decides nothing by itself.
    expect(code(new errors.ResponseError(rc.overloaded, 'password check overloaded'))).toBe(
      SinkProbeErrorCode.ConnectionFailed,
    );
    expect(code(new errors.OperationTimedOutError('authentication timed out'))).toBe(
      SinkProbeErrorCode.ConnectionFailed,
    );
  });

  it('calls hosts that cannot be reached a connection failure, one line per host', () => {
    const e = probeError(
      'scylla',
      new errors.NoHostAvailableError({
        '127.0.0.1:1': withCode('connect ECONNREFUSED 127.0.0.1:1\n    at TCPConnectWrap', 'ECONNREFUSED'),
      }),
    );
    expect(e.code).toBe(SinkProbeErrorCode.ConnectionFailed);
    expect(e.message).toBe(
      'cassandra unreachable: no host could be reached (127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1)',
    );
  });

  it('calls a failed certificate check a TLS failure, even wrapped in the host errors', () => {
    const untrusted = withCode('unable to verify the first certificate', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    const e = probeError('scylla', new errors.NoHostAvailableError({ '127.0.0.1:9142': untrusted }));
    expect(e.code).toBe(SinkProbeErrorCode.TlsFailed);
    expect(e.message).toMatch(/TLS certificate problem: .*spec\.scylla\.tls\.caSecretRef/);
  });

  it('keeps a SinkProbeError the probe raised itself', () => {
    const own = new SinkProbeError(SinkProbeErrorCode.SchemaMismatch, 'column amount is text, want double');
    expect(probeError('scylla', own)).toBe(own);
  });
});

describe('probeError for ClickHouse', () => {
  const code = (err: unknown) => probeError('clickhouse', err).code;

  it('maps the server error codes the client parsed', () => {
    expect(code(chError('516', 'AUTHENTICATION_FAILED', 'default: Authentication failed'))).toBe(
      SinkProbeErrorCode.AuthenticationFailed,
    );
    expect(code(chError('192', 'UNKNOWN_USER', 'Unknown user nobody'))).toBe(
      SinkProbeErrorCode.AuthenticationFailed,
    );
    expect(code(chError('497', 'ACCESS_DENIED', 'nobody: Not enough privileges'))).toBe(
      SinkProbeErrorCode.AuthenticationFailed,
    );
    expect(code(chError('60', 'UNKNOWN_TABLE', 'Table shop.orders does not exist'))).toBe(
      SinkProbeErrorCode.TableNotFound,
    );
    expect(code(chError('81', 'UNKNOWN_DATABASE', 'Database shop does not exist'))).toBe(
      SinkProbeErrorCode.TableNotFound,
    );
    expect(code(chError('16', 'NO_SUCH_COLUMN_IN_TABLE', 'There is no column amount in table'))).toBe(
      SinkProbeErrorCode.SchemaMismatch,
    );
    expect(code(chError('241', 'MEMORY_LIMIT_EXCEEDED', 'Memory limit exceeded: password'))).toBe(
      SinkProbeErrorCode.ConnectionFailed,
    );
  });

  it("reads the code from an old server's error text the client does not parse", () => {
    // ClickHouse 18.16 answers this way, without X-ClickHouse-Exception-Code; the client passes it
    // on as a plain Error with the body as message.
    const wrongPassword = new Error(
      'Code: 193, e.displayText() = DB::Exception: Wrong password for user default, e.what() = DB::Exception\n',
    );
    expect(code(wrongPassword)).toBe(SinkProbeErrorCode.AuthenticationFailed);
    const unknownUser = new Error(
      'Code: 192, e.displayText() = DB::Exception: Unknown user nobody, e.what() = DB::Exception\n',
    );
    expect(code(unknownUser)).toBe(SinkProbeErrorCode.AuthenticationFailed);
    // Only the code counts: words in the text decide nothing.
    expect(code(new Error('Authentication failed: password is incorrect'))).toBe(
      SinkProbeErrorCode.ConnectionFailed,
    );
  });

  it('calls refused connections and TLS problems what they are', () => {
    expect(code(withCode('connect ECONNREFUSED 127.0.0.1:1', 'ECONNREFUSED'))).toBe(
      SinkProbeErrorCode.ConnectionFailed,
    );
    expect(code(withCode('self-signed certificate in certificate chain', 'SELF_SIGNED_CERT_IN_CHAIN'))).toBe(
      SinkProbeErrorCode.TlsFailed,
    );
    expect(code(withCode('wrong version number', 'ERR_SSL_WRONG_VERSION_NUMBER'))).toBe(
      SinkProbeErrorCode.TlsFailed,
    );
  });
});
