/**
 * `idempotentFetch` under a hedge: every attempt of one logical call carries the same
 * Idempotency-Key, so a server that deduplicates executes a hedged POST once.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createIdempotency, idempotentFetch, memoryStore } from '@faultline/idempotency';
import { withIdempotency } from '@faultline/idempotency/node';
import { afterEach, describe, expect, it } from 'vitest';
import { hedge } from './hedge.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => unknown,
): Promise<string> {
  const server = createServer((req, res) => void handler(req, res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/orders`;
}

describe('idempotentFetch with a hedge', () => {
  it('every hedged attempt of one POST carries the same key; the slow first one is cancelled', async () => {
    const keys: string[] = [];
    let firstCancelled = false;
    const url = await listen((req, res) => {
      keys.push(req.headers['idempotency-key'] as string);
      if (keys.length === 1) {
        // The first copy is slow (a GC pause, a busy replica): the hedge answers first.
        const timer = setTimeout(() => res.end('first'), 2_000);
        res.on('close', () => {
          clearTimeout(timer);
          firstCancelled = !res.writableFinished;
        });
      } else res.end('hedge');
    });
    const post = idempotentFetch(fetch, { policy: hedge({ delay: 50 }) });
    const response = await post(url, { method: 'POST', body: '{"item":42}' });
    expect(await response.text()).toBe('hedge');
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBeDefined();
    expect(keys[1]).toBe(keys[0]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(firstCancelled).toBe(true);
  });

  it('with request dedup on the server, a hedged POST executes once', async () => {
    let executions = 0;
    const idempotency = createIdempotency({
      store: memoryStore(),
      scope: () => 'tenant-1',
    });
    const url = await listen(
      withIdempotency(async (_req, res) => {
        executions++;
        // The handler is slow: the hedge arrives while it runs and is answered 409 (in
        // progress, Retry-After: 1), which the hedge treats as a handled failure.
        await new Promise((resolve) => setTimeout(resolve, 300));
        res.writeHead(201, { 'content-type': 'text/plain' }).end(`order ${executions}`);
      }, idempotency),
    );
    const statuses: number[] = [];
    const policy = hedge({ delay: 50 });
    const post = idempotentFetch(
      async (input, init) => {
        const response = await fetch(input, init);
        statuses.push(response.status);
        return response;
      },
      { policy },
    );
    const response = await post(url, { method: 'POST', body: '{"item":42}' });
    expect(response.status).toBe(201);
    expect(await response.text()).toBe('order 1');
    expect(executions).toBe(1);
    expect(statuses).toEqual([409, 201]);
  });
});
