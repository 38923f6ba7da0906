import { describe, expect, it } from 'vitest';
import { rewriteDocument, rewritePath } from '../../../hack/kubelet/materialize.js';

describe('local kubelet rewrites', () => {
  const rw = {
    paths: [
      ['/etc/eventrunner/tokens', '/tmp/pod/tokens'],
      ['/etc/eventrunner', '/tmp/pod/config'],
    ] as [string, string][],
    ports: new Map([
      [8080, 41001],
      [8081, 41002],
    ]),
  };

  it('maps mount paths to the local directories, longest mount first', () => {
    expect(rewritePath('/etc/eventrunner/config.yaml', rw)).toBe('/tmp/pod/config/config.yaml');
    expect(rewritePath('/etc/eventrunner/tokens/tokens', rw)).toBe('/tmp/pod/tokens/tokens');
    expect(rewritePath('/etc/eventrunnerx', rw)).toBe('/etc/eventrunnerx');
  });

  it('rewrites container ports and paths inside a config document, nothing else', () => {
    expect(
      rewriteDocument(
        {
          http: { port: 8080 },
          ops: { port: 8081 },
          limits: { maxBatchEvents: 8080 },
          auth: { tokensFile: '/etc/eventrunner/tokens/tokens' },
          nats: { url: 'nats://127.0.0.1:4222' },
        },
        rw,
      ),
    ).toEqual({
      http: { port: 41001 },
      ops: { port: 41002 },
      limits: { maxBatchEvents: 8080 },
      auth: { tokensFile: '/tmp/pod/tokens/tokens' },
      nats: { url: 'nats://127.0.0.1:4222' },
    });
  });
});
