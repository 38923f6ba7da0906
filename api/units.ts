// Parsers for the two unit formats the API uses, matching what the schema's patterns accept:
// Go durations (`1.5s`, `2m`, `72h`, `0`) and byte sizes (`1048576`, `512Ki`, `1Mi`, `10G`).
import { BYTES_PATTERN, DURATION_PATTERN } from './schema/dsl.js';

const durationRe = new RegExp(DURATION_PATTERN);
const bytesRe = new RegExp(BYTES_PATTERN);

const unitMs: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Milliseconds of a Go duration string; throws on anything the schema would reject. */
export function parseDuration(text: string): number {
  if (!durationRe.test(text))
    throw new RangeError(`invalid duration ${JSON.stringify(text)}: use e.g. 30s, 2m or 72h`);
  if (text === '0') return 0;
  let total = 0;
  for (const m of text.matchAll(/([0-9]*\.?[0-9]*)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(m[1]) * unitMs[m[2]!]!;
  }
  return total;
}

const suffixBytes: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Bytes of a byte size (integer or quantity string), rounded up to a whole byte. */
export function parseBytes(value: number | string): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`invalid byte size ${value}`);
    return value;
  }
  const m = bytesRe.exec(value);
  if (!m) throw new RangeError(`invalid byte size ${JSON.stringify(value)}: use e.g. 512Ki, 1Mi or 10Gi`);
  return Math.ceil(Number(m[1]) * suffixBytes[m[3] ?? '']!);
}
