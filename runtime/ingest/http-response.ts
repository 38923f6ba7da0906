// The JSON answers of HTTP ingest: one event (202 or the reason's status), or a batch (200 when all
// were stored, 207 when some were, otherwise the worst reason's status), with Retry-After when a
// retry later can succeed. See README.md for the status codes.
import type { ServerResponse } from 'node:http';
import { httpStatusOf, retryAfterOf, worstReason, type EventOutcome, type Rejected } from './outcome.js';

/** A schema refusal's type, pointer (into `data`), keyword and schema version, as answer fields. */
function violationFields(o: Rejected): Record<string, string> {
  const v = o.violation;
  if (v === undefined) return {};
  return {
    type: v.type,
    pointer: v.pointer,
    keyword: v.keyword,
    ...(v.dataschema !== undefined ? { dataschema: v.dataschema } : {}),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, retryAfter?: number): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  };
  if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
  res.writeHead(status, headers);
  res.end(text);
}

export function singleResponse(res: ServerResponse, o: EventOutcome): number {
  if (o.ok) {
    sendJson(res, 202, { id: o.id, duplicate: o.duplicate });
    return 202;
  }
  const status = httpStatusOf[o.reason];
  sendJson(
    res,
    status,
    { error: o.reason, message: o.message, ...(o.id ? { id: o.id } : {}), ...violationFields(o) },
    retryAfterOf([o]),
  );
  return status;
}

export function batchResponse(res: ServerResponse, outcomes: EventOutcome[]): number {
  let accepted = 0;
  const results = outcomes.map((o, index) => {
    if (o.ok) {
      accepted++;
      return { index, id: o.id, status: 202, duplicate: o.duplicate };
    }
    return {
      index,
      ...(o.id ? { id: o.id } : {}),
      status: httpStatusOf[o.reason],
      error: o.reason,
      message: o.message,
      ...violationFields(o),
    };
  });
  const worst = worstReason(outcomes);
  // 200: all stored. 207: some stored, retry only the failed ones. Otherwise the batch failed as a
  // whole and the status says why (503/429 retry later, 400 fix the events).
  const status = worst === undefined ? 200 : accepted > 0 ? 207 : httpStatusOf[worst.reason];
  sendJson(res, status, { accepted, rejected: outcomes.length - accepted, results }, retryAfterOf(outcomes));
  return status;
}
