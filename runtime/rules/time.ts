// Time values for Grule's time functions. A time is a JavaScript Date, always read and formatted
// in UTC (the pods run in UTC; a rule must not depend on the machine's zone). Time arguments also
// accept RFC 3339 strings, which is how CloudEvents carry `time`.
import { fail } from './errors.js';
import { typeName, type Value } from './values.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function toTime(v: Value, fn: string): Date {
  if (v instanceof Date) return v;
  if (typeof v === 'string' && RFC3339.test(v)) {
    const ms = Date.parse(v);
    if (!Number.isNaN(ms)) return new Date(ms);
  }
  return fail(`${fn} needs a time (or an RFC 3339 string), got ${typeName(v)}`);
}

export function makeTime(y: number, mo: number, d: number, h: number, mi: number, s: number): Date {
  // Date.UTC would read years 0-99 as 1900-1999; setUTCFullYear does not. Overflowing fields
  // (month 13, second 61) roll over as in Go's time.Date.
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, 0);
  return t;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

// Go's reference-time layout elements, longest first so "2006" wins over "2" and "January" over "Jan".
const ELEMENT =
  /January|Monday|2006|-07:00:00|-070000|Z07:00:00|Z070000|-07:00|-0700|Z07:00|Z0700|Jan|Mon|MST|002|-07|Z07|[.,](?:0+|9+)|01|02|03|04|05|06|15|_2|PM|pm|1|2|3|4|5/g;

/** Formats `t` with a Go layout such as "2006-01-02T15:04:05Z07:00", in UTC. */
export function formatGoLayout(t: Date, layout: string): string {
  const ms = t.getUTCMilliseconds();
  const h = t.getUTCHours();
  return layout.replace(ELEMENT, (el) => {
    switch (el) {
      case 'January':
        return MONTHS[t.getUTCMonth()]!;
      case 'Jan':
        return MONTHS[t.getUTCMonth()]!.slice(0, 3);
      case 'Monday':
        return DAYS[t.getUTCDay()]!;
      case 'Mon':
        return DAYS[t.getUTCDay()]!.slice(0, 3);
      case 'MST':
        return 'UTC';
      case '2006':
        return pad(t.getUTCFullYear(), 4);
      case '06':
        return pad(t.getUTCFullYear() % 100, 2);
      case '01':
        return pad(t.getUTCMonth() + 1, 2);
      case '1':
        return String(t.getUTCMonth() + 1);
      case '02':
        return pad(t.getUTCDate(), 2);
      case '2':
        return String(t.getUTCDate());
      case '_2':
        return String(t.getUTCDate()).padStart(2, ' ');
      case '002': {
        const start = Date.UTC(t.getUTCFullYear(), 0, 1);
        return pad(Math.floor((t.getTime() - start) / 86_400_000) + 1, 3);
      }
      case '15':
        return pad(h, 2);
      case '03':
        return pad(h % 12 || 12, 2);
      case '3':
        return String(h % 12 || 12);
      case '04':
        return pad(t.getUTCMinutes(), 2);
      case '4':
        return String(t.getUTCMinutes());
      case '05':
        return pad(t.getUTCSeconds(), 2);
      case '5':
        return String(t.getUTCSeconds());
      case 'PM':
        return h >= 12 ? 'PM' : 'AM';
      case 'pm':
        return h >= 12 ? 'pm' : 'am';
      case '-07:00:00':
        return '+00:00:00';
      case '-070000':
        return '+000000';
      case '-07:00':
        return '+00:00';
      case '-0700':
        return '+0000';
      case '-07':
        return '+00';
      case 'Z07:00:00':
      case 'Z070000':
      case 'Z07:00':
      case 'Z0700':
      case 'Z07':
        return 'Z';
      default: {
        // Fractional seconds: ".000" always prints its digits, ".999" drops trailing zeros.
        const digits = el.length - 1;
        const frac = pad(ms, 3).padEnd(9, '0').slice(0, digits);
        if (el[1] === '0') return el[0] + frac;
        const trimmed = frac.replace(/0+$/, '');
        return trimmed ? el[0] + trimmed : '';
      }
    }
  });
}
