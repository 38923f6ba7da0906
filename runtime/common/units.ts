// Durations and quantities as Kubernetes users write them: Go durations ("72h", "1h30m", "500ms")
// and resource quantities ("10Gi", "1Mi", "500M", "1024").

const durationUnits: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

export class UnitError extends Error {
  readonly code = 'UNIT';
  constructor(message: string) {
    super(message);
    this.name = 'UnitError';
  }
}

/** Parses a Go duration into milliseconds; "0" is zero. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * durationUnits[m[2]!]!;
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== s.length) {
    throw new UnitError(`"${text}" is not a duration; write it like 30s, 2m, 72h or 1h30m`);
  }
  return total;
}

const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };
const decimal: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };

/** Parses a Kubernetes quantity (bytes) into a number: 10Gi, 1Mi, 500M, 1024. */
export function parseQuantity(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.exec(value.trim());
  if (!m) throw new UnitError(`"${value}" is not a quantity; write it like 1024, 512Ki, 1Mi or 10Gi`);
  const unit = m[2];
  const factor = unit ? (binary[unit] ?? decimal[unit]!) : 1;
  return Math.round(Number(m[1]) * factor);
}
