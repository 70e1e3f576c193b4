import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BrokenCircuitError } from '@faultline/breaker';
import { VirtualClock } from '@faultline/clock';
import { watchSettled } from '@faultline/test-support';
import { Agent, interceptors, request, fetch as undiciFetch } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { resilience } from './interceptor.js';
import { standardHttpPipeline } from './standard-http-pipeline.js';

// Real sockets on loopback; time on a VirtualClock, so the default 2 s backoff and a Retry-After
// of 2 s cost no real time. `drive` advances virtual time while real I/O completes.

type Reply = (req: IncomingMessage, res: ServerResponse) => void;

const seen: Array<{ method: string; at: number }> = [];
let script: Reply[] = [];
let fallback: Reply = (_req, res) => res.writeHead(200).end('ok');
let clock = new VirtualClock();
let server: Server;
let base: string;

function status(
  code: number,
  headers: Record<string, string> = {},
  body = `status ${code}`,
): Reply {
  return (_req, res) => res.writeHead(code, headers).end(body);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ method: req.method ?? '', at: clock.now() });
      const reply = script.shift() ?? fallback;
      reply(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  seen.length = 0;
  script = [];
  fallback = (_req, res) => res.writeHead(200).end('ok');
  clock = new VirtualClock();
});

/** Settles `promise`, advancing virtual time in 50 ms steps while letting real I/O run. */
async function drive<T>(promise: Promise<T>, limitMs = 120_000): Promise<T> {
  const call = watchSettled(promise);
  for (let elapsed = 0; !call.done && elapsed <= limitMs; elapsed += 50) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    if (!call.done) await clock.advance(50);
  }
  return promise;
}

describe('standardHttpPipeline around the global fetch', () => {
  it('503, 503, 200: three requests for a GET, one for a POST', async () => {
    const http = standardHttpPipeline({ clock });
    script = [status(503), status(503)];
    const get = await drive(http.fetch(`${base}/items`));
    expect(get.status).toBe(200);
    expect(await get.text()).toBe('ok');
    expect(seen.map((s) => s.method)).toEqual(['GET', 'GET', 'GET']);

    seen.length = 0;
    script = [status(503), status(503)];
    const post = await drive(http.fetch(`${base}/items`, { method: 'POST', body: '{}' }));
    expect(post.status).toBe(503);
    expect(seen.map((s) => s.method)).toEqual(['POST']);
  });

  it('a POST with an Idempotency-Key is retried', async () => {
    const http = standardHttpPipeline({ clock });
    script = [status(503)];
    const post = await drive(
      http.fetch(`${base}/pay`, {
        method: 'POST',
        body: '{}',
        headers: { 'Idempotency-Key': 'k1' },
      }),
    );
    expect(post.status).toBe(200);
    expect(seen.length).toBe(2);
  });

  it('honours a Retry-After of 2 s', async () => {
    const http = standardHttpPipeline({ clock });
    const delays: number[] = [];
    http.retry?.onRetry((event) => delays.push(event.delay));
    script = [status(503, { 'Retry-After': '2' })];
    const res = await drive(http.fetch(`${base}/slow-down`));
    expect(res.status).toBe(200);
    expect(seen.length).toBe(2);
    expect(delays).toEqual([2_000]);
    // drive() moves time in 50 ms steps, so the answer may reach the client one step late.
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(2_000);
    expect(seen[1]!.at - seen[0]!.at).toBeLessThanOrEqual(2_050);
  });

  it('against an always-503 server its breaker opens and requests stop', async () => {
    const http = standardHttpPipeline({ clock });
    fallback = status(503);
    let broken: unknown;
    let calls = 0;
    for (; calls < 400 && broken === undefined; calls++) {
      try {
        await drive(http.fetch(`${base}/down`));
      } catch (error) {
        broken = error;
      }
    }
    expect(broken).toBeInstanceOf(BrokenCircuitError);
    expect(http.circuitBreaker?.state).toBe('open');
    // Microsoft's default needs 100 calls in the window; the retry budget kept retries few.
    const requests = seen.length;
    expect(requests).toBeGreaterThanOrEqual(100);
    expect(requests).toBeLessThan(120);
    await expect(drive(http.fetch(`${base}/down`))).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(seen.length).toBe(requests);
  });

  it('a plain fetch inside execute() is not retried, and it says so once', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const http = standardHttpPipeline({ clock });
      script = [status(503), status(503)];
      const res = await drive(http.execute(({ signal }) => fetch(`${base}/x`, { signal })));
      expect(res.status).toBe(503);
      expect(seen.length).toBe(1);
      await drive(http.execute(({ signal }) => fetch(`${base}/x`, { signal })));
      const ours = warn.mock.calls.filter((call) =>
        String(call[0]).includes('standardHttpPipeline'),
      );
      expect(ours.length).toBe(1);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('the guide’s pipeline through outage → recovery and fast → slow (docs/guides/http.md)', () => {
  it('after an outage it serves again within one break duration of the recovery', async () => {
    const http = standardHttpPipeline({ clock });
    fallback = status(503);
    for (let calls = 0; calls < 400 && http.circuitBreaker?.state !== 'open'; calls++) {
      await drive(http.fetch(`${base}/outage`)).catch(() => {});
    }
    expect(http.circuitBreaker?.state).toBe('open');
    fallback = (_req, res) => res.writeHead(200).end('ok');
    const recoveredAt = clock.now();
    let served: Response | undefined;
    while (served === undefined && clock.now() - recoveredAt < 60_000) {
      try {
        served = await drive(http.fetch(`${base}/outage`));
      } catch (error) {
        expect(error).toBeInstanceOf(BrokenCircuitError);
        await clock.advance(100);
      }
    }
    expect(served?.status).toBe(200);
    // Bound: the break (5 s) plus one 100 ms polling step.
    expect(clock.now() - recoveredAt).toBeLessThanOrEqual(5_100);
    expect(http.circuitBreaker?.state).toBe('closed');
  });

  it('a server that stops answering fails the call at the total timeout, then serves again', async () => {
    const http = standardHttpPipeline({ clock });
    fallback = () => {}; // never answers
    const start = clock.now();
    const error = await drive(http.fetch(`${base}/slow`)).catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
    // Attempts are cut at 10 s; the whole call at 30 s (plus one 50 ms driving step).
    expect(clock.now() - start).toBeLessThanOrEqual(30_050);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    fallback = (_req, res) => res.writeHead(200).end('ok');
    const res = await drive(http.fetch(`${base}/slow`));
    expect(res.status).toBe(200);
    server.closeAllConnections();
  });
});

describe('resilience(): the undici interceptor', () => {
  it('503, 503, 200: three requests for a GET, one for a POST (undici.request)', async () => {
    const agent = new Agent().compose(resilience({ policy: standardHttpPipeline({ clock }) }));
    script = [status(503), status(503)];
    const get = await drive(request(`${base}/a`, { dispatcher: agent }));
    expect(get.statusCode).toBe(200);
    expect(await get.body.text()).toBe('ok');
    expect(seen.map((s) => s.method)).toEqual(['GET', 'GET', 'GET']);

    seen.length = 0;
    script = [status(503), status(503)];
    const post = await drive(
      request(`${base}/a`, { method: 'POST', body: '{}', dispatcher: agent }),
    );
    expect(post.statusCode).toBe(503);
    await post.body.text();
    expect(seen.map((s) => s.method)).toEqual(['POST']);
    await agent.close();
  });

  it('its default per-origin pipelines run on the given clock', async () => {
    const agent = new Agent().compose(resilience({ clock }));
    script = [status(503, { 'Retry-After': '2' })];
    const res = await drive(request(`${base}/default`, { dispatcher: agent }));
    expect(res.statusCode).toBe(200);
    await res.body.text();
    expect(seen.length).toBe(2);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(2_000);
    expect(() => resilience({ clock: {} as never })).toThrow(/"clock"/);
    expect(() => resilience({ random: 1 as never })).toThrow(/"random"/);
    expect(() => resilience({ policy: 5 as never })).toThrow(/"policy"/);
    await agent.close();
  });

  it('works for fetch through the dispatcher (Node 20 fetch and undici fetch)', async () => {
    const agent = new Agent().compose(resilience({ policy: standardHttpPipeline({ clock }) }));
    script = [status(503), status(503)];
    const res = await drive(undiciFetch(`${base}/b`, { dispatcher: agent }));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok');
    expect(seen.length).toBe(3);

    seen.length = 0;
    script = [status(503)];
    const global = await drive(
      fetch(`${base}/b`, { dispatcher: agent } as RequestInit & { dispatcher: unknown }),
    );
    expect(global.status).toBe(200);
    expect(seen.length).toBe(2);
    await agent.close();
  });

  it('honours a Retry-After of 2 s', async () => {
    const http = standardHttpPipeline({ clock });
    const delays: number[] = [];
    http.retry?.onRetry((event) => delays.push(event.delay));
    const agent = new Agent().compose(resilience({ policy: http }));
    script = [status(429, { 'Retry-After': '2' })];
    const res = await drive(request(`${base}/c`, { dispatcher: agent }));
    expect(res.statusCode).toBe(200);
    await res.body.text();
    expect(delays).toEqual([2_000]);
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(2_000);
    expect(seen[1]!.at - seen[0]!.at).toBeLessThanOrEqual(2_050);
    await agent.close();
  });

  it('against an always-503 server its breaker opens', async () => {
    const pipeline = standardHttpPipeline({ clock });
    const agent = new Agent().compose(resilience({ policy: pipeline }));
    fallback = status(503);
    let broken: unknown;
    for (let calls = 0; calls < 400 && broken === undefined; calls++) {
      try {
        const res = await drive(request(`${base}/down`, { dispatcher: agent }));
        await res.body.text();
      } catch (error) {
        broken = error;
      }
    }
    expect(broken).toBeInstanceOf(BrokenCircuitError);
    expect(pipeline.circuitBreaker?.state).toBe('open');
    await agent.close();
  });

  it.each([
    ['undici retry inside faultline', 'inside', 4],
    ['undici retry outside faultline', 'outside', 6],
  ])('never stacks with undici’s retry interceptor (%s)', async (_label, where, expected) => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const ours = resilience({ policy: standardHttpPipeline({ clock }) });
      const theirs = interceptors.retry({ minTimeout: 1, maxTimeout: 1, maxRetries: 5 });
      // compose(a, b): b wraps a, so the later one is outermost.
      const agent =
        where === 'inside' ? new Agent().compose(theirs, ours) : new Agent().compose(ours, theirs);
      // Always 503: stacked, 4 faultline attempts × 6 undici attempts would make 24 requests.
      fallback = status(503);
      const res = await drive(request(`${base}/d`, { dispatcher: agent })).then(
        async (r) => {
          await r.body.text();
          return r.statusCode;
        },
        (error: unknown) => error,
      );
      expect(res === 503 || res instanceof Error).toBe(true);
      // Inside: faultline's 4 attempts, undici's retry off. Outside: undici's 1 + 5, ours off.
      expect(seen.length).toBe(expected);
      await agent.close();
    } finally {
      warn.mockRestore();
    }
  });

  it('cancels the body of a response it retries, and streams the one it keeps', async () => {
    const agent = new Agent().compose(resilience({ policy: standardHttpPipeline({ clock }) }));
    const big = 'x'.repeat(256 * 1024);
    script = [status(503, {}, big)];
    fallback = (_req, res) => {
      res.writeHead(200);
      let i = 0;
      const write = (): void => {
        if (i++ < 20) res.write(`${i},`, () => setImmediate(write));
        else res.end('done');
      };
      write();
    };
    const res = await drive(request(`${base}/e`, { dispatcher: agent }));
    const text = await res.body.text();
    expect(text.endsWith('done')).toBe(true);
    expect(text.startsWith('1,2,3,')).toBe(true);
    expect(seen.length).toBe(2);
    await agent.close();
  });
});

describe('resilience(): the caller goes away', () => {
  it('before the first attempt is answered, during backoff, and mid body: no crash, no leak', async () => {
    const agent = new Agent().compose(resilience({ policy: standardHttpPipeline({ clock }) }));

    // While waiting for the head.
    fallback = () => {};
    const early = new AbortController();
    const first = request(`${base}/hang`, { dispatcher: agent, signal: early.signal });
    await new Promise((resolve) => setTimeout(resolve, 20));
    early.abort(new Error('caller left'));
    await expect(first).rejects.toThrow();

    // During the backoff after a 503.
    fallback = (_req, res) => res.writeHead(200).end('ok');
    script = [status(503)];
    const backoff = new AbortController();
    const second = request(`${base}/backoff`, { dispatcher: agent, signal: backoff.signal });
    for (let i = 0; i < 50 && seen.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    backoff.abort(new Error('caller left'));
    await expect(second).rejects.toThrow();
    await clock.runAll();
    expect(seen.length).toBe(1);

    // Mid body.
    fallback = (_req, res) => {
      res.writeHead(200);
      res.write('partial');
    };
    const mid = new AbortController();
    const third = await drive(request(`${base}/mid`, { dispatcher: agent, signal: mid.signal }));
    const reading = third.body.text();
    await new Promise((resolve) => setTimeout(resolve, 10));
    mid.abort(new Error('caller left'));
    await expect(reading).rejects.toThrow();
    server.closeAllConnections();
    await agent.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it('the server cuts the connection mid body: the caller sees the error once', async () => {
    const agent = new Agent().compose(resilience({ policy: standardHttpPipeline({ clock }) }));
    fallback = (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('short', () => res.socket?.destroy());
    };
    const res = await drive(request(`${base}/cut`, { dispatcher: agent }));
    await expect(res.body.text()).rejects.toThrow();
    await agent.close();
  });
});
