import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isRetryableHttpStatus } from '@faultline/core';
import { constant, httpRetryAfter, retry } from '@faultline/retry';
import { afterEach, describe, expect, it } from 'vitest';
import { idempotencyKey, idempotentFetch, isRetryableStatus } from './client.js';
import { closeServer, listen } from './testing/http-scenarios.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Seen {
  readonly method: string;
  readonly key: string | undefined;
  readonly body: string;
}

/** A loopback server answering with the next scripted status for each request. */
async function scripted(script: Array<number | [number, Record<string, string>]>) {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        key: req.headers['idempotency-key'] as string | undefined,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const step = script[Math.min(seen.length - 1, script.length - 1)]!;
      const [status, headers] = typeof step === 'number' ? [step, {}] : step;
      res.writeHead(status, { 'content-type': 'text/plain', ...headers });
      res.end(`status ${status}`);
    });
  });
  const url = await listen(server);
  servers.push(server);
  return { url, seen };
}

const servers: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await closeServer(server);
});

const policy = () =>
  retry({ maxAttempts: 3, backoff: constant(1), retryAfter: httpRetryAfter, maxRetryAfter: 5 });
const timeout = () => AbortSignal.timeout(10_000);

describe('idempotencyKey', () => {
  it('is a UUID v7, unique and time-ordered', () => {
    const keys = Array.from({ length: 1_000 }, () => idempotencyKey());
    for (const key of keys) expect(key).toMatch(UUID_V7);
    expect(new Set(keys).size).toBe(1_000);
    expect([...keys].sort()).toEqual(keys);
  });
});

describe('idempotentFetch with retry', () => {
  it('503, 503, 201: three attempts carry the same key; a second call gets a new key', async () => {
    const { url, seen } = await scripted([503, 503, 201, 201]);
    const post = idempotentFetch(fetch, { policy: policy() });
    const response = await post(url, { method: 'POST', body: '{"qty":1}', signal: timeout() });
    expect(response.status).toBe(201);
    expect(seen).toHaveLength(3);
    const key = seen[0]!.key;
    expect(key).toMatch(UUID_V7);
    expect(seen.map((s) => s.key)).toEqual([key, key, key]);
    expect(seen.map((s) => s.body)).toEqual(['{"qty":1}', '{"qty":1}', '{"qty":1}']);

    await post(url, { method: 'POST', body: '{"qty":2}', signal: timeout() });
    expect(seen).toHaveLength(4);
    expect(seen[3]!.key).toMatch(UUID_V7);
    expect(seen[3]!.key).not.toBe(key);
  });

  it('422 and 400 are never retried', async () => {
    for (const status of [422, 400]) {
      const { url, seen } = await scripted([status, 201]);
      const response = await idempotentFetch(fetch, { policy: policy() })(url, {
        method: 'POST',
        body: 'x',
        signal: timeout(),
      });
      expect(response.status).toBe(status);
      expect(seen).toHaveLength(1);
    }
  });

  it('409 with Retry-After is retried with the same key; 409 without it is not', async () => {
    const withHeader = await scripted([[409, { 'retry-after': '1' }], 201]);
    const ok = await idempotentFetch(fetch, { policy: policy() })(withHeader.url, {
      method: 'PATCH',
      body: 'x',
      signal: timeout(),
    });
    expect(ok.status).toBe(201);
    expect(withHeader.seen.map((s) => s.key)).toEqual([
      withHeader.seen[0]!.key,
      withHeader.seen[0]!.key,
    ]);

    const without = await scripted([409, 201]);
    const conflict = await idempotentFetch(fetch, { policy: policy() })(without.url, {
      method: 'POST',
      body: 'x',
      signal: timeout(),
    });
    expect(conflict.status).toBe(409);
    expect(without.seen).toHaveLength(1);
  });

  it('when the policy gives up, the last response is returned (not thrown)', async () => {
    const { url, seen } = await scripted([503]);
    const response = await idempotentFetch(fetch, { policy: policy() })(url, {
      method: 'POST',
      body: 'x',
      signal: timeout(),
    });
    expect(response.status).toBe(503);
    expect(await response.text()).toBe('status 503');
    expect(seen).toHaveLength(3);
  });

  it('keeps a key the caller set, adds none to GET, and reuses a Request body per attempt', async () => {
    const { url, seen } = await scripted([503, 201, 200]);
    const f = idempotentFetch(fetch, { policy: policy() });
    await f(
      new Request(url, { method: 'POST', body: 'payload', headers: { 'Idempotency-Key': 'mine' } }),
    );
    expect(seen.map((s) => [s.key, s.body])).toEqual([
      ['mine', 'payload'],
      ['mine', 'payload'],
    ]);
    await f(url, { signal: timeout() });
    expect(seen[2]).toMatchObject({ method: 'GET', key: undefined });
  });

  it('without a policy, calls once with a key', async () => {
    const { url, seen } = await scripted([503]);
    const response = await idempotentFetch(fetch)(url, {
      method: 'POST',
      body: 'x',
      signal: timeout(),
    });
    expect(response.status).toBe(503);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.key).toMatch(UUID_V7);
  });

  it('uses a custom header name and method list', async () => {
    const { url } = await scripted([201]);
    let sent: Headers | undefined;
    const spy = (input: RequestInfo | URL, init?: RequestInit) => {
      sent = new Headers(init?.headers);
      return fetch(input, init);
    };
    await idempotentFetch(spy, { header: 'X-Request-Key', methods: ['put'] })(url, {
      method: 'PUT',
      body: 'x',
    });
    expect(sent?.get('x-request-key')).toMatch(UUID_V7);
    expect(sent?.has('idempotency-key')).toBe(false);
  });

  it('classifies statuses', () => {
    const r = (status: number, headers: Record<string, string> = {}) =>
      new Response(null, { status, headers });
    for (const status of [408, 425, 429, 500, 502, 503, 504])
      expect(isRetryableStatus(r(status))).toBe(true);
    for (const status of [200, 201, 400, 401, 403, 404, 409, 422, 501])
      expect(isRetryableStatus(r(status))).toBe(false);
    expect(isRetryableStatus(r(409, { 'retry-after': '1' }))).toBe(true);
    // The same list as retry's retryableHttp: one transient set for every client-side retry.
    for (let status = 200; status <= 599; status++) {
      if (status === 409) continue;
      expect(isRetryableStatus(r(status)), String(status)).toBe(isRetryableHttpStatus(status));
    }
  });

  describe('options', () => {
    it.each([
      ['header', 5, TypeError],
      ['header', 'bad header', RangeError],
      ['methods', 'POST', TypeError],
      ['methods', [], RangeError],
      ['policy', 5, TypeError],
      ['policy', {}, TypeError],
    ])('%s = %j throws %o', (option, value, Kind) => {
      expect(() => idempotentFetch(fetch, { [option]: value } as never)).toThrow(Kind);
      expect(() => idempotentFetch(fetch, { [option]: value } as never)).toThrow(
        /idempotentFetch: option/,
      );
    });
    it('rejects a fetch that is not a function and non-object options', () => {
      expect(() => idempotentFetch('fetch' as never)).toThrow(TypeError);
      expect(() => idempotentFetch(fetch, 1 as never)).toThrow(TypeError);
    });
  });
});
