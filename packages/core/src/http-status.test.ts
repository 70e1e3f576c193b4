import { describe, expect, it } from 'vitest';
import { rootContext } from './context.js';
import {
  handleHttpFailures,
  httpStatusOf,
  isHttpFailureStatus,
  isRetryableHttpStatus,
  RETRYABLE_HTTP_STATUSES,
} from './http-status.js';

describe('HTTP status classification', () => {
  it('one list of retryable statuses: 408, 425 Too Early, 429 and the transient 5xx', () => {
    expect(RETRYABLE_HTTP_STATUSES).toEqual([408, 425, 429, 500, 502, 503, 504]);
    expect(Object.isFrozen(RETRYABLE_HTTP_STATUSES)).toBe(true);
    for (const status of [425, 503]) expect(isRetryableHttpStatus(status)).toBe(true);
    // The request itself is wrong, or the server will not change its mind.
    for (const status of [400, 409, 422, 501, 505])
      expect(isRetryableHttpStatus(status)).toBe(false);
  });

  it('reads the status of fetch, node:http/undici and HTTP client error shapes', () => {
    expect(httpStatusOf(new Response('x', { status: 503 }))).toBe(503);
    expect(httpStatusOf({ statusCode: 429 })).toBe(429);
    expect(httpStatusOf({ response: { status: 404 } })).toBe(404);
    expect(httpStatusOf({ response: { statusCode: 502 } })).toBe(502);
    for (const value of [undefined, null, 503, 'x', {}, { status: '503' }, { status: 5030 }]) {
      expect(httpStatusOf(value)).toBeUndefined();
    }
  });

  it('a failure status is any 5xx, 408 or 429 (Polly HandleTransientHttpError)', () => {
    expect([500, 501, 502, 503, 504, 599, 408, 429].every(isHttpFailureStatus)).toBe(true);
    expect([200, 201, 204, 301, 400, 401, 403, 404, 409, 422].some(isHttpFailureStatus)).toBe(
      false,
    );
  });

  it('handleHttpFailures: failure results, and errors unless they carry a healthy status', () => {
    const ctx = rootContext;
    const handled = (outcome: Parameters<typeof handleHttpFailures>[0]) =>
      handleHttpFailures(outcome, ctx);
    expect(handled({ ok: true, value: new Response(null, { status: 503 }) })).toBe(true);
    expect(handled({ ok: true, value: new Response(null, { status: 200 }) })).toBe(false);
    expect(handled({ ok: true, value: new Response(null, { status: 404 }) })).toBe(false);
    expect(handled({ ok: true, value: 'plain value' })).toBe(false);
    expect(handled({ ok: false, error: new TypeError('fetch failed') })).toBe(true);
    expect(handled({ ok: false, error: Object.assign(new Error('x'), { status: 500 }) })).toBe(
      true,
    );
    // axios/ky throw on 404: the server answered, it is not failing.
    const notFound = Object.assign(new Error('Not Found'), { response: { status: 404 } });
    expect(handled({ ok: false, error: notFound })).toBe(false);
  });
});
