import type { Outcome } from '@faultline/core';

const MONTHS: Readonly<Record<string, number>> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms recipients must accept.
const IMF_FIXDATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850_DATE =
  /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME_DATE =
  /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

function utc(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number | undefined {
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  // Date.UTC maps years 0-99 to 1900-1999, so the year is set on its own. A leap second (60)
  // counts as 59.
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  date.setUTCHours(hour, minute, second > 59 ? 59 : second);
  const time = date.getTime();
  // Reject dates like 31 Feb that Date.UTC would roll over into March.
  if (new Date(time).getUTCDate() !== day) return undefined;
  return time;
}

/**
 * Parses an HTTP-date (RFC 9110 §5.6.7) to epoch ms, strictly: IMF-fixdate
 * (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
 * (`Sun Nov  6 08:49:37 1994`). `Date.parse` is not used: it accepts far more and differs
 * between engines.
 */
export function parseHttpDate(value: string, now: number = Date.now()): number | undefined {
  let m = IMF_FIXDATE.exec(value);
  if (m !== null) {
    return utc(
      Number(m[3]),
      MONTHS[m[2]!]!,
      Number(m[1]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6]),
    );
  }
  m = RFC850_DATE.exec(value);
  if (m !== null) {
    // RFC 9110 §5.6.7: a two-digit year more than 50 years in the future is the most recent
    // past year with the same last two digits.
    const current = new Date(now).getUTCFullYear();
    let year = Math.floor(current / 100) * 100 + Number(m[3]);
    if (year > current + 50) year -= 100;
    return utc(year, MONTHS[m[2]!]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  m = ASCTIME_DATE.exec(value);
  if (m !== null) {
    return utc(
      Number(m[6]),
      MONTHS[m[1]!]!,
      Number(m[2]!.trim()),
      Number(m[3]),
      Number(m[4]),
      Number(m[5]),
    );
  }
  return undefined;
}

/**
 * Parses a `Retry-After` value (RFC 9110 §10.2.3) to a delay in ms: delay-seconds (`120`) or an
 * HTTP-date, compared with `now` (epoch ms, wall clock: the only place faultline reads it, since
 * the date comes from another machine). A date in the past gives 0; delay-seconds too large for
 * a double (over 308 digits) gives `Infinity`, which `maxRetryAfter` caps; anything else invalid
 * (negative, fractional, empty, garbage) gives `undefined`.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  // delay-seconds = 1*DIGIT
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = parseHttpDate(text, now);
  if (date === undefined) return undefined;
  const delay = date - now;
  return delay > 0 ? delay : 0;
}

/** Anything with a `get(name)` like `Headers`, or a plain object of header values (axios). */
export type HeadersLike =
  | { get(name: string): string | null | undefined }
  | Readonly<Record<string, string | readonly string[] | number | undefined>>;

function header(headers: HeadersLike, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const value = (headers as { get(name: string): string | null | undefined }).get(name);
    return typeof value === 'string' ? value : undefined;
  }
  const record = headers as Readonly<Record<string, unknown>>;
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() === name) {
      const value = record[key];
      if (typeof value === 'string') return value;
      if (typeof value === 'number') return String(value);
      if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
    }
  }
  return undefined;
}

function parseMilliseconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (!/^\d+(?:\.\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/**
 * The pushback a response's headers ask for, in ms: `retry-after-ms` or `x-ms-retry-after-ms`
 * (milliseconds, Azure), else `Retry-After`. An HTTP-date is measured against the response's own
 * `Date` header when it has a valid one (so a client whose wall clock is off still waits the
 * intended time), else against `now`.
 */
export function retryAfterFromHeaders(
  headers: HeadersLike,
  now: number = Date.now(),
): number | undefined {
  const ms =
    parseMilliseconds(header(headers, 'retry-after-ms')) ??
    parseMilliseconds(header(headers, 'x-ms-retry-after-ms'));
  if (ms !== undefined) return ms;
  const value = header(headers, 'retry-after');
  if (value === undefined) return undefined;
  const date = header(headers, 'date');
  const serverNow = date === undefined ? undefined : parseHttpDate(date.trim(), now);
  return parseRetryAfter(value, serverNow ?? now);
}

function headersOf(value: unknown): HeadersLike | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const headers = (value as { headers?: unknown }).headers;
  if (headers === null || typeof headers !== 'object') return undefined;
  return headers as HeadersLike;
}

/**
 * The `retryAfter` option for fetch-style calls: reads the pushback from a `Response` outcome,
 * or from an error carrying one on `response` (ky's `HTTPError`, axios' errors).
 */
export function httpRetryAfter(outcome: Outcome<unknown>): number | undefined {
  const source = outcome.ok
    ? outcome.value
    : (outcome.error as { response?: unknown } | null)?.response;
  const headers = headersOf(source);
  return headers === undefined ? undefined : retryAfterFromHeaders(headers);
}
