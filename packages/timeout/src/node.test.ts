import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Deadline, VirtualClock } from '@faultline/clock';
import { afterEach, describe, expect, it } from 'vitest';
import { deadlineToHeaders } from './headers.js';
import { currentDeadline, withDeadline, withRequestDeadline } from './node.js';
import { timeout } from './timeout.js';
import { TimeoutError } from './timeout-errors.js';

interface Reply {
  readonly status: number;
  readonly body: string;
}

/** A GET over a fresh connection (no keep-alive pool left behind), honouring `signal`. */
function get(
  url: string,
  options: { signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = http.get(
      url,
      {
        agent: false,
        headers: options.headers ?? {},
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          body += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
  });
}

async function listen(server: http.Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('@faultline/timeout/node: ambient deadline', () => {
  it('withDeadline scopes the deadline through async calls; inner scopes only shorten it', async () => {
    const clock = new VirtualClock();
    expect(currentDeadline()).toBe(Deadline.never);
    const outer = Deadline.after(1000, clock);
    await withDeadline(outer, async () => {
      await Promise.resolve();
      expect(currentDeadline()).toBe(outer);
      withDeadline(Deadline.after(5000, clock), () => expect(currentDeadline()).toBe(outer));
      const inner = Deadline.after(200, clock);
      withDeadline(inner, () => expect(currentDeadline()).toBe(inner));
    });
    expect(currentDeadline()).toBe(Deadline.never);
    expect(() => withDeadline(100 as never, () => 1)).toThrow(TypeError);
    expect(() => withDeadline(outer, 'fn' as never)).toThrow(TypeError);
  });

  it('a timeout policy joins the ambient deadline', async () => {
    const clock = new VirtualClock();
    const policy = timeout(10_000, { clock });
    let remaining = Number.NaN;
    await withDeadline(Deadline.after(300, clock), () =>
      policy.execute(async (ctx) => {
        remaining = ctx.deadline.remaining();
      }),
    );
    expect(remaining).toBe(300);
    const late = withDeadline(Deadline.after(300, clock), () =>
      policy.execute(() => new Promise(() => {})),
    ).catch((e: unknown) => e);
    await clock.advance(300);
    expect(await late).toBeInstanceOf(TimeoutError);
    expect(((await late) as TimeoutError).timeout).toBe(300);
    // The message names the deadline that fired (issue 14 item 24).
    expect(((await late) as TimeoutError).source).toBe('ambient');
    expect(((await late) as TimeoutError).message).toBe(
      'timed out after 300 ms: the ambient deadline (withDeadline) expired before this timeout (10000 ms)',
    );
  });

  it('over real sockets: a 300 ms request deadline fails a slow downstream call at ~300 ms', async () => {
    // The slow downstream: answers after 5 s unless the caller goes away first.
    const downstreamSeen: { grpcTimeout?: string | undefined; closedEarly: boolean } = {
      closedEarly: false,
    };
    const downstreamDone = new Promise<void>((resolveDone) => {
      const downstream = http.createServer((req, res) => {
        downstreamSeen.grpcTimeout = req.headers['grpc-timeout'] as string | undefined;
        const timer = setTimeout(() => res.end('finally'), 5000);
        res.on('close', () => {
          clearTimeout(timer);
          downstreamSeen.closedEarly = !res.writableFinished;
          resolveDone();
        });
      });
      servers.push(downstream);
    });
    const downstreamUrl = await listen(servers[0]!);

    // The service under test: applies the received deadline to everything it calls.
    const callDownstream = timeout(10_000);
    const front = http.createServer((req, res) => {
      withRequestDeadline(req.headers, async () => {
        const started = performance.now();
        try {
          const reply = await callDownstream.execute(({ signal, deadline }) =>
            get(downstreamUrl, { signal, headers: deadlineToHeaders(deadline) }),
          );
          res.end(JSON.stringify({ ok: true, body: reply.body }));
        } catch (error) {
          res.statusCode = 504;
          res.end(
            JSON.stringify({
              error: (error as Error).name,
              timeout: (error as TimeoutError).timeout,
              elapsed: performance.now() - started,
            }),
          );
        }
      });
    });
    servers.push(front);
    const frontUrl = await listen(front);

    const started = performance.now();
    const reply = await get(frontUrl, {
      headers: { 'grpc-timeout': '300m' },
      signal: AbortSignal.timeout(8000), // client-side guard on a loaded machine
    });
    const total = performance.now() - started;
    expect(reply.status).toBe(504);
    const body = JSON.parse(reply.body) as { error: string; timeout: number; elapsed: number };
    expect(body.error).toBe('TimeoutError');
    expect(body.timeout).toBeLessThanOrEqual(300);
    expect(body.elapsed).toBeGreaterThanOrEqual(250);
    expect(body.elapsed).toBeLessThan(1500);
    expect(total).toBeLessThan(1500);
    // The deadline crossed the second hop too (minus the time already spent), and the abandoned
    // downstream request was closed rather than left running for 5 s.
    expect(downstreamSeen.grpcTimeout).toMatch(/^\d{1,8}u$/);
    expect(Number.parseInt(downstreamSeen.grpcTimeout!, 10)).toBeLessThanOrEqual(300_000);
    await downstreamDone;
    expect(downstreamSeen.closedEarly).toBe(true);
  });
});
