// Go-style durations ('10s', '1m30s', '500ms', '1.5h'), as Kubernetes manifests write them, in
// whole milliseconds. Returns a message instead of a number when the text is not one.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

export function parseGoDuration(text: string): number | string {
  const bad = `${JSON.stringify(text)} is not a duration: write it like 10s, 1m30s or 500ms`;
  if (text === '0') return 0;
  let rest = text;
  let total = 0;
  if (rest === '') return bad;
  while (rest !== '') {
    const m = PART.exec(rest);
    if (!m) return bad;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}
