import { describe, expect, it } from 'vitest';
import {
  httpRetryAfter,
  parseHttpDate,
  parseRetryAfter,
  retryAfterFromHeaders,
} from './retry-after.js';

const NOW = Date.UTC(1994, 10, 6, 8, 49, 0); // Sun, 06 Nov 1994 08:49:00 GMT

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  it('delay-seconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter(' 5 ', NOW)).toBe(5_000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
  });
  it('HTTP-date in all three formats of §5.6.7', () => {
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', NOW)).toBe(37_000); // IMF-fixdate
    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(37_000); // RFC 850
    expect(parseRetryAfter('Sun Nov  6 08:49:37 1994', NOW)).toBe(37_000); // asctime
  });
  it('a date in the past gives 0', () => {
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:48:00 GMT', NOW)).toBe(0);
  });
  it('invalid values give undefined', () => {
    for (const value of [
      '',
      '  ',
      '-1',
      '1.5',
      '1e3',
      'soon',
      'Sun, 06 Nov 1994 08:49:37 UTC',
      'Sun, 06 Nov 1994 08:49:37 gmt',
      'Sun, 31 Feb 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 25:49:37 GMT',
      '2026-11-26T10:00:00Z',
      null,
      undefined,
    ]) {
      expect(parseRetryAfter(value as string, NOW), String(value)).toBeUndefined();
    }
  });
  it('four-digit years below 100 are not taken as 19xx (Date.UTC would)', () => {
    expect(parseHttpDate('Sat, 01 Jan 0050 00:00:00 GMT')).toBe(-60_589_296_000_000);
    expect(new Date(parseHttpDate('Sun Nov  6 08:49:37 0094')!).getUTCFullYear()).toBe(94);
  });
  it('a delay-seconds too large for a double is Infinity, not garbage', () => {
    expect(parseRetryAfter('9'.repeat(400), NOW)).toBe(Number.POSITIVE_INFINITY);
  });
  it('RFC 850 two-digit years: more than 50 years ahead means the previous century', () => {
    const now2026 = Date.UTC(2026, 10, 26);
    expect(
      new Date(parseHttpDate('Friday, 01-Jan-76 00:00:00 GMT', now2026)!).getUTCFullYear(),
    ).toBe(2076);
    expect(
      new Date(parseHttpDate('Friday, 01-Jan-77 00:00:00 GMT', now2026)!).getUTCFullYear(),
    ).toBe(1977);
  });
});

describe('retryAfterFromHeaders / httpRetryAfter', () => {
  it('prefers retry-after-ms, then x-ms-retry-after-ms, then Retry-After', () => {
    expect(
      retryAfterFromHeaders(new Headers({ 'retry-after-ms': '1500', 'retry-after': '9' }), NOW),
    ).toBe(1500);
    expect(retryAfterFromHeaders(new Headers({ 'x-ms-retry-after-ms': '250.5' }), NOW)).toBe(250.5);
    expect(retryAfterFromHeaders(new Headers({ 'retry-after': '2' }), NOW)).toBe(2000);
    expect(
      retryAfterFromHeaders(new Headers({ 'retry-after-ms': 'x', 'retry-after': '2' }), NOW),
    ).toBe(2000);
    expect(retryAfterFromHeaders(new Headers(), NOW)).toBeUndefined();
  });
  it("measures an HTTP-date against the response's Date header (immune to client clock skew)", () => {
    const headers = new Headers({
      date: 'Wed, 26 Nov 2026 10:00:00 GMT',
      'retry-after': 'Wed, 26 Nov 2026 10:00:07 GMT',
    });
    // The client's clock is an hour off: the server's Date still gives 7 s.
    expect(retryAfterFromHeaders(headers, Date.UTC(2026, 10, 26, 11))).toBe(7000);
    // Without a Date header, `now` is used.
    headers.delete('date');
    expect(retryAfterFromHeaders(headers, Date.UTC(2026, 10, 26, 10, 0, 4))).toBe(3000);
  });
  it('reads plain-object headers (axios) case-insensitively', () => {
    expect(retryAfterFromHeaders({ 'Retry-After': '3' }, NOW)).toBe(3000);
    expect(retryAfterFromHeaders({ 'retry-after': ['4'] }, NOW)).toBe(4000);
  });
  it('httpRetryAfter reads a Response result or an error carrying a response', () => {
    const response = new Response(null, { status: 503, headers: { 'retry-after': '1' } });
    expect(httpRetryAfter({ ok: true, value: response })).toBe(1000);
    expect(
      httpRetryAfter({ ok: false, error: { response: { headers: { 'retry-after': '2' } } } }),
    ).toBe(2000);
    expect(httpRetryAfter({ ok: false, error: new Error('x') })).toBeUndefined();
    expect(httpRetryAfter({ ok: false, error: null })).toBeUndefined();
    expect(httpRetryAfter({ ok: true, value: 42 })).toBeUndefined();
  });
});
