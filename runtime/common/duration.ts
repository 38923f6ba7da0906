// Go-style durations (`500ms`, `30s`, `1m30s`, `72h`, `0`) as the API writes them, in milliseconds.
const unitMs: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const whole = /^([0-9]*\.?[0-9]+(ns|us|µs|ms|s|m|h))+$/;

/** Milliseconds of a Go duration; throws RangeError naming the bad text. */
export function durationMs(text: string): number {
  if (text === '0') return 0;
  if (!whole.test(text))
    throw new RangeError(`invalid duration ${JSON.stringify(text)}: use e.g. 500ms, 30s or 72h`);
  let total = 0;
  for (const m of text.matchAll(/([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/g))
    total += Number(m[1]) * unitMs[m[2]!]!;
  return total;
}
