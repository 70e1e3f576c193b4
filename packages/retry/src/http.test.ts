import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VirtualClock } from '@faultline/clock';
import { ExecutionRejectedError, RETRYABLE_HTTP_STATUSES } from '@faultline/core';
import { watchSettled } from '@faultline/test-support';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { constant } from './backoff.js';
import { fetchTask, isNetworkError, RETRYABLE_STATUSES, retryableHttp } from './http.js';
import { retry } from './retry.js';
import { httpRetryAfter } from './retry-after.js';

type Handler = (req: IncomingMessage, res: ServerResponse, hit: number) => void;

let server: Server;
let base: string;
const handlers = new Map<string, Handler>();
const hits = new Map<string, number[]>(); // path → virtual times of each hit
let currentClock: VirtualClock | undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    const list = hits.get(path) ?? [];
    list.push(currentClock?.now() ?? -1);
    hits.set(path, list);
    const handler = handlers.get(path);
    if (handler === undefined) {
      res.statusCode = 404;
      res.end();
      return;
    }
    handler(req, res, list.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/**
 * One retried fetch of `path` on a fresh VirtualClock that the server reads for its arrival log
 * (`hits`), so the log shows the virtual times of the attempts.
 */
async function retriedOnLoggedClock(path: string): Promise<Response> {
  const clock = new VirtualClock();
  currentClock = clock;
  try {
    return await drive(clock, policy(clock).execute(fetchTask(base + path)));
  } finally {
    currentClock = undefined;
  }
}

/** Moves virtual time whenever the policy sleeps, while real sockets do their work. */
async function drive<T>(clock: VirtualClock, promise: Promise<T>): Promise<T> {
  const call = watchSettled(promise);
  const giveUpAt = Date.now() + 15_000; // generous: a loaded machine
  while (!call.done) {
    if (clock.pendingTimers > 0) await clock.runAll();
    else await new Promise((resolve) => setTimeout(resolve, 1));
    if (Date.now() > giveUpAt) throw new Error('drive: the call did not settle in 15 s');
  }
  return promise;
}

function policy(clock: VirtualClock, options: Parameters<typeof retryableHttp>[0] = {}) {
  return retry({
    maxAttempts: 3,
    backoff: constant(100),
    shouldHandle: retryableHttp(options),
    retryAfter: httpRetryAfter,
    clock,
  });
}

function statusThenOk(status: number): Handler {
  return (_req, res, hit) => {
    res.statusCode = hit === 1 ? status : 200;
    res.end(hit === 1 ? 'no' : 'yes');
  };
}

/** The first hit answers `status` with `headers()` and no body; later hits 200 `ok`. */
function headThenOk(status: number, headers: () => Record<string, string>): Handler {
  return (_req, res, hit) => {
    if (hit === 1) {
      res.writeHead(status, headers());
      res.end();
      return;
    }
    res.end('ok');
  };
}

let unique = 0;
function route(handler: Handler): string {
  const path = `/r${unique++}`;
  handlers.set(path, handler);
  return path;
}

describe('retryableHttp against a real HTTP server (global fetch)', () => {
  for (const status of [408, 429, 500, 502, 503, 504]) {
    it(`retries a GET answered ${status}`, async () => {
      const clock = new VirtualClock();
      const path = route(statusThenOk(status));
      const res = await drive(clock, policy(clock).execute(fetchTask(base + path)));
      expect(res.status).toBe(200);
      expect(hits.get(path)).toHaveLength(2);
    });
  }

  for (const status of [400, 401, 404, 501]) {
    it(`does not retry ${status}`, async () => {
      const clock = new VirtualClock();
      const path = route(statusThenOk(status));
      const res = await drive(clock, policy(clock).execute(fetchTask(base + path)));
      expect(res.status).toBe(status);
      expect(hits.get(path)).toHaveLength(1);
    });
  }

  it('gives up with the last 503 Response (resolved, readable)', async () => {
    const clock = new VirtualClock();
    const path = route((_req, res) => {
      res.statusCode = 503;
      res.end('still down');
    });
    const res = await drive(clock, policy(clock).execute(fetchTask(base + path)));
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('still down');
    expect(hits.get(path)).toHaveLength(3);
  });

  it('does not retry a POST, unless it carries an Idempotency-Key', async () => {
    const clock = new VirtualClock();
    const plain = route(statusThenOk(503));
    const res = await drive(
      clock,
      policy(clock).execute(fetchTask(base + plain, { method: 'POST', body: 'x' })),
    );
    expect(res.status).toBe(503);
    expect(hits.get(plain)).toHaveLength(1);

    const keyed = route(statusThenOk(503));
    const init = { method: 'POST', body: 'x', headers: { 'Idempotency-Key': 'k-1' } };
    const ok = await drive(clock, policy(clock).execute(fetchTask(base + keyed, init)));
    expect(ok.status).toBe(200);
    expect(hits.get(keyed)).toHaveLength(2);
  });

  it('honours the methods option (a Request object works too)', async () => {
    const clock = new VirtualClock();
    const path = route(statusThenOk(503));
    const request = new Request(base + path, { method: 'POST', body: 'x' });
    const res = await drive(
      clock,
      policy(clock, { methods: ['post'] }).execute(fetchTask(request)),
    );
    expect(res.status).toBe(200);
  });

  it('a call it cannot see (plain fetch) is not retried unless assumeIdempotent, and it warns once', async () => {
    // Issue 14 item 19: retryableHttp() around a plain fetch closure (as the docs wrote it) never
    // retried, silently. It still cannot know the method (a Response does not carry it), so it
    // does not guess; but it says so once, with the two ways out.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const clock = new VirtualClock();
    const path = route(statusThenOk(503));
    const p = policy(clock);
    let res: Response;
    let calls: unknown[][] = [];
    try {
      res = await drive(
        clock,
        p.execute(({ signal }) => fetch(base + path, { signal })),
      );
      const second = route(statusThenOk(503));
      await drive(
        clock,
        p.execute(({ signal }) => fetch(base + second, { signal })),
      );
      calls = [...warn.mock.calls];
    } finally {
      warn.mockRestore();
    }
    expect(calls).toHaveLength(1);
    expect(String(calls[0]![0])).toMatch(
      /^retryableHttp: a 503 response was not retried because its request method is unknown .*fetchTask\(url, init\).*assumeIdempotent: true/s,
    );
    expect(res.status).toBe(503);
    const again = route(statusThenOk(503));
    const ok = await drive(
      clock,
      policy(clock, { assumeIdempotent: true }).execute(({ signal }) =>
        fetch(base + again, { signal }),
      ),
    );
    expect(ok.status).toBe(200);
  });

  it("fetchTask(url, (ctx) => init) builds each attempt's init (per-attempt headers) and sees the method", async () => {
    const clock = new VirtualClock();
    const seen: Array<string | undefined> = [];
    const path = route((req, res, hit) => {
      seen.push(req.headers['x-attempt'] as string | undefined);
      res.statusCode = hit === 1 ? 503 : 200;
      res.end();
    });
    const res = await drive(
      clock,
      policy(clock).execute(
        fetchTask(base + path, (ctx) => ({
          method: 'PUT',
          headers: { 'x-attempt': `${ctx.attempt}` },
        })),
      ),
    );
    expect(res.status).toBe(200);
    expect(seen).toEqual(['1', '2']);
    const post = route(statusThenOk(503));
    const refused = await drive(
      clock,
      policy(clock).execute(fetchTask(base + post, () => ({ method: 'POST', body: 'x' }))),
    );
    expect(refused.status).toBe(503);
    expect(hits.get(post)).toHaveLength(1);
  });

  it('retries a connection reset (the server destroys the socket)', async () => {
    const clock = new VirtualClock();
    const path = route((req, res, hit) => {
      if (hit === 1) {
        req.socket.destroy();
        return;
      }
      res.end('ok');
    });
    const res = await drive(clock, policy(clock).execute(fetchTask(base + path)));
    expect(await res.text()).toBe('ok');
    expect(hits.get(path)).toHaveLength(2);
  });

  it('retries a refused connection (closed port), then rethrows fetch’s error unchanged', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const clock = new VirtualClock();
    const errors: unknown[] = [];
    const p = policy(clock);
    p.onRetry((e) => errors.push(e.outcome.ok ? undefined : e.outcome.error));
    const thrown = await drive(
      clock,
      p.execute(fetchTask(`http://127.0.0.1:${port}/`)).catch((e: unknown) => e),
    );
    expect(thrown).toBeInstanceOf(TypeError);
    expect(isNetworkError(thrown)).toBe(true);
    expect(((thrown as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
    expect(errors).toHaveLength(2); // 3 attempts
  });

  it('honours Retry-After in seconds (virtual time)', async () => {
    const path = route(headThenOk(503, () => ({ 'Retry-After': '3' })));
    const res = await retriedOnLoggedClock(path);
    expect(res.status).toBe(200);
    expect(hits.get(path)).toEqual([0, 3000]);
  });

  it('honours Retry-After as an HTTP-date (virtual time)', async () => {
    const path = route(
      headThenOk(429, () => {
        const second = Math.floor(Date.now() / 1000) * 1000;
        return {
          Date: new Date(second).toUTCString(),
          'Retry-After': new Date(second + 5000).toUTCString(),
        };
      }),
    );
    const res = await retriedOnLoggedClock(path);
    expect(res.status).toBe(200);
    expect(hits.get(path)).toEqual([0, 5000]);
  });
});

describe('retryableHttp: classification', () => {
  const handles = retryableHttp({ assumeIdempotent: true });
  const ctx = { attempt: 1 } as never;
  it("retries core's one list of statuses by default, 425 Too Early included", () => {
    expect(RETRYABLE_STATUSES).toBe(RETRYABLE_HTTP_STATUSES);
    const tooEarly = new Response(null, { status: 425 });
    expect(handles({ ok: true, value: tooEarly }, ctx)).toBe(true);
    expect(handles({ ok: true, value: new Response(null, { status: 501 }) }, ctx)).toBe(false);
  });

  it('handles network errors, timeouts and retryable statuses on errors', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(handles({ ok: false, error: reset }, ctx)).toBe(true);
    expect(handles({ ok: false, error: new TypeError('Failed to fetch') }, ctx)).toBe(true);
    expect(
      handles(
        { ok: false, error: new TypeError('fetch failed', { cause: { code: 'EAI_AGAIN' } }) },
        ctx,
      ),
    ).toBe(true);
    expect(
      handles({ ok: false, error: Object.assign(new Error('t'), { name: 'TimeoutError' }) }, ctx),
    ).toBe(true);
    expect(handles({ ok: false, error: { status: 503 } }, ctx)).toBe(true);
    expect(handles({ ok: false, error: { response: { status: 502 } } }, ctx)).toBe(true);
  });
  it('does not handle permanent errors or other policies’ rejections', () => {
    expect(
      handles(
        { ok: false, error: new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } }) },
        ctx,
      ),
    ).toBe(false);
    expect(handles({ ok: false, error: new TypeError('x is not a function') }, ctx)).toBe(false);
    expect(
      handles(
        { ok: false, error: new ExecutionRejectedError('open', { code: 'BROKEN_CIRCUIT' }) },
        ctx,
      ),
    ).toBe(false);
    expect(handles({ ok: false, error: { status: 400 } }, ctx)).toBe(false);
    expect(handles({ ok: false, error: 'string' }, ctx)).toBe(false);
    expect(handles({ ok: true, value: { status: 200 } }, ctx)).toBe(false);
  });
  it('sees the method on outcomes that carry their request (axios, node:http, ky, got)', () => {
    const strict = retryableHttp();
    const handled = (outcome: Parameters<typeof strict>[0]) => strict(outcome, ctx);
    // axios: response.config and error.config (lower-case method, plain or AxiosHeaders headers)
    expect(handled({ ok: true, value: { status: 503, config: { method: 'get' } } })).toBe(true);
    expect(handled({ ok: true, value: { status: 503, config: { method: 'post' } } })).toBe(false);
    const keyed = { method: 'post', headers: { 'Idempotency-Key': 'k' } };
    expect(handled({ ok: true, value: { status: 503, config: keyed } })).toBe(true);
    const axiosError = { response: { status: 502 }, config: { method: 'put' } };
    expect(handled({ ok: false, error: axiosError })).toBe(true);
    // node:http: an IncomingMessage's req is the ClientRequest
    const clientRequest = { method: 'GET', getHeader: () => undefined };
    expect(handled({ ok: true, value: { statusCode: 503, req: clientRequest } })).toBe(true);
    const postRequest = {
      method: 'POST',
      getHeader: (name: string) => (name === 'idempotency-key' ? 'k' : undefined),
    };
    expect(handled({ ok: true, value: { statusCode: 503, req: postRequest } })).toBe(true);
    // ky: HTTPError has request (a fetch Request) and response
    const kyError = {
      response: { status: 503 },
      request: new Request('http://127.0.0.1/', { method: 'DELETE' }),
    };
    expect(handled({ ok: false, error: kyError })).toBe(true);
    const kyPost = {
      response: { status: 503 },
      request: new Request('http://127.0.0.1/', { method: 'POST' }),
    };
    expect(handled({ ok: false, error: kyPost })).toBe(false);
    // got: error.options.method
    expect(
      handled({ ok: false, error: { response: { statusCode: 504 }, options: { method: 'HEAD' } } }),
    ).toBe(true);
  });

  it('validates its options', () => {
    const bad: Array<[unknown, ErrorConstructor, RegExp]> = [
      [{ methods: 'GET' }, TypeError, /"methods"/],
      [{ methods: [1] }, TypeError, /"methods"/],
      [{ methods: ['GE T'] }, RangeError, /"methods"/],
      [{ statuses: [503, '504'] }, TypeError, /"statuses"/],
      [{ statuses: [99] }, RangeError, /"statuses"/],
      [{ statuses: [600] }, RangeError, /"statuses"/],
      [{ assumeIdempotent: 'yes' }, TypeError, /"assumeIdempotent"/],
      [5, TypeError, /retryableHttp: options/],
    ];
    for (const [options, Kind, message] of bad) {
      expect(() => retryableHttp(options as never)).toThrow(Kind);
      expect(() => retryableHttp(options as never)).toThrow(message);
    }
    // fetchTask's arguments: both are objects or functions, so a wrong shape is their only misuse.
    expect(() => fetchTask('http://127.0.0.1/', undefined, 'fetch' as never)).toThrow(
      /"fetchImpl"/,
    );
    expect(() => fetchTask('http://127.0.0.1/', 5 as never)).toThrow(/"init"/);
  });
});
