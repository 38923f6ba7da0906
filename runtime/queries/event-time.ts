// Event time. A CloudEvent's `time` is RFC 3339 text; queries work in integer milliseconds since
// the Unix epoch (digits below the millisecond are dropped). This parser is strict — the date must
// exist, the offset is Z or ±HH:MM — and reads the digits directly, which is several times faster
// than Date.parse on the hot path. Formatting always gives `YYYY-MM-DDTHH:MM:SS.mmmZ`.

/** Value of the two digits at `i`, or -1. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Days from 1970-01-01 to the given civil date (proleptic Gregorian). */
function daysFromCivil(y: number, m: number, day: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(y: number, m: number): number {
  if (m === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)) return 29;
  return MONTH_DAYS[m - 1]!;
}

const DASH = 45;
const COLON = 58;
const DOT = 46;

/** Milliseconds of an RFC 3339 timestamp, or undefined when it is not one. */
export function parseEventTime(s: string): number | undefined {
  const n = s.length;
  if (n < 20) return undefined;
  const y1 = two(s, 0);
  const y2 = two(s, 2);
  if (y1 < 0 || y2 < 0) return undefined;
  const year = y1 * 100 + y2;
  const sep = s.charCodeAt(10);
  if (s.charCodeAt(4) !== DASH || s.charCodeAt(7) !== DASH || (sep !== 84 && sep !== 116 && sep !== 32))
    return undefined;
  if (s.charCodeAt(13) !== COLON || s.charCodeAt(16) !== COLON) return undefined;
  const month = two(s, 5);
  const day = two(s, 8);
  const hour = two(s, 11);
  const minute = two(s, 14);
  const second = two(s, 17);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === DOT) {
    i++;
    const start = i;
    for (let c = s.charCodeAt(i) - 48; c >= 0 && c <= 9; c = s.charCodeAt(++i) - 48) {
      if (i - start < 3) ms = ms * 10 + c;
    }
    if (i === start) return undefined;
    for (let k = i - start; k < 3; k++) ms *= 10;
  }
  let offset = 0;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    i++;
  } else if (z === 43 || z === DASH) {
    const oh = two(s, i + 1);
    const om = two(s, i + 4);
    if (s.charCodeAt(i + 3) !== COLON || oh < 0 || oh > 23 || om < 0 || om > 59) return undefined;
    offset = (z === 43 ? 1 : -1) * (oh * 60 + om) * 60_000;
    i += 6;
  } else return undefined;
  if (i !== n) return undefined;
  return ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + ms - offset;
}

/** Largest distance from the epoch a JavaScript Date can show (±100,000,000 days). */
const MAX_TIME = 8.64e15;

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** The last day formatted, as `YYYY-MM-DDT`: results of a run mostly fall on a few days. */
let dayStart = NaN;
let dayText = '';
/** Texts of 0–999 in three digits and of 0–59 in two. */
const DIGITS3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const DIGITS2 = DIGITS3.slice(0, 60).map((d) => d.slice(1));
/** `mmmZ` for each millisecond. */
const MILLIS = DIGITS3.map((d) => `${d}Z`);
/**
 * Minutes formatted lately, as `YYYY-MM-DDTHH:MM:`, each in the slot of its minute number modulo
 * 4: results of a run mostly fall in a few minutes, and a window's start is often a minute or
 * three before its end.
 */
const minuteStart = [NaN, NaN, NaN, NaN];
const minuteText = ['', '', '', ''];
/**
 * The last second formatted, as `YYYY-MM-DDTHH:MM:SS.`: consecutive times of one kind (a row per
 * event of a SLIDING window) mostly fall in the same second as the one before.
 */
let secondStart = NaN;
let secondText = '';

/**
 * RFC 3339 in UTC with milliseconds, exactly as Date#toISOString writes it. Formatted by hand for
 * whole milliseconds between 1970 and 9999 (every result carries one to three of these, and a
 * Date per result is a large share of a run's garbage); anything else goes through Date.
 */
export function formatTime(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= 253_402_300_800_000) return new Date(ms).toISOString();
  const milli = ms % 1000;
  const second = ms - milli;
  if (second !== secondStart) {
    const minute = second - (second % MINUTE_MS);
    // Minute numbers pass 2^31; `&` takes them modulo 2^32, which keeps their value modulo 4.
    const slot = (minute / MINUTE_MS) & 3;
    let prefix = minuteText[slot]!;
    if (minuteStart[slot] !== minute) {
      prefix = minutePrefix(minute);
      minuteStart[slot] = minute;
      minuteText[slot] = prefix;
    }
    secondText = `${prefix}${DIGITS2[(second - minute) / 1000]!}.`;
    secondStart = second;
  }
  return secondText + MILLIS[milli]!;
}

/** `YYYY-MM-DDTHH:MM:` of a whole minute between 1970 and 9999. */
function minutePrefix(minute: number): string {
  const day = minute - (minute % DAY_MS);
  if (day !== dayStart) {
    dayText = new Date(day).toISOString().slice(0, 11);
    dayStart = day;
  }
  const minutes = (minute - day) / MINUTE_MS;
  const min = minutes % 60;
  return `${dayText}${DIGITS2[(minutes - min) / 60]!}:${DIGITS2[min]!}:`;
}

/**
 * An input's event time: its `time` attribute, else the stream timestamp; undefined when neither
 * is usable. Remembers the last text it parsed, since events in a batch often share a timestamp.
 */
export class EventClock {
  private lastText = '';
  private lastTime: number | undefined;

  timeOf(event: Record<string, unknown>, streamTime: number | undefined): number | undefined {
    // `time` is not the name of any prototype member, so a plain read is an own-property read.
    const time = event.time;
    if (typeof time === 'string') {
      if (time !== this.lastText) {
        this.lastText = time;
        this.lastTime = parseEventTime(time);
      }
      if (this.lastTime !== undefined) return this.lastTime;
    }
    return typeof streamTime === 'number' && Math.abs(streamTime) <= MAX_TIME
      ? Math.trunc(streamTime)
      : undefined;
  }
}
