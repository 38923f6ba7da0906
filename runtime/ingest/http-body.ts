// Reads a request body up to a byte limit. A declared Content-Length over the limit is refused
// before reading; a chunked body is cut off as soon as it passes the limit.
import type { IncomingMessage } from 'node:http';
import { IngestRejection, Reason } from './outcome.js';

export function tooLarge(limit: number, size?: number): IngestRejection {
  return new IngestRejection(
    Reason.TooLarge,
    `request body ${size === undefined ? 'exceeds' : `is ${size} bytes, over`} the limit of ${limit} bytes (limits.maxBodyBytes); send fewer or smaller events`,
  );
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit)
    return Promise.reject(tooLarge(limit, Number(declared)));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (done) return;
      done = true;
      reject(err);
    });
  });
}
