/**
 * A deliberately flaky orders service on 127.0.0.1, deduplicating POSTs by `Idempotency-Key`
 * with `@faultline/idempotency` (memory store: one process). Flakiness is scripted, so every run
 * tells the same story:
 * - `GET /stock`: the 1st and 2nd requests answer 503, then 200;
 * - `POST /orders` with `{ item: 'slow-widget' }`: the first execution takes `slowMs` (longer
 *   than the client's per-attempt timeout), so the client gives up on it and retries the same key
 *   while the first execution is still running;
 * - `POST /orders` with `{ item: 'flaky-gadget' }`: the first execution answers 503 (the key is
 *   released, so the retry executes again);
 * - every other order is created at once.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createIdempotency, memoryStore } from '@faultline/idempotency';
import { withIdempotency } from '@faultline/idempotency/node';

export interface FlakyServer {
  readonly url: string;
  /** Orders created, by idempotency key (a key created twice would be a double charge). */
  readonly created: Map<string, number>;
  /** Handler executions of POST /orders (including the ones that answered 503). */
  readonly executions: () => number;
  /** Requests the server received in all (every attempt). */
  readonly requests: () => number;
  close(): Promise<void>;
}

export async function startFlakyServer(options: { slowMs: number }): Promise<FlakyServer> {
  const created = new Map<string, number>();
  let executions = 0;
  let requests = 0;
  let stockCalls = 0;
  const seenItems = new Set<string>();
  const idempotency = createIdempotency({
    store: memoryStore(),
    scope: () => 'demo-tenant', // one principal in this demo; use the caller's identity
    // A retry that arrives while the first execution still runs waits for it, then gets the
    // stored response (instead of an immediate 409).
    concurrent: { wait: '10s' },
  });

  const orders = withIdempotency(async (req, res) => {
    executions++;
    const key = String(req.headers['idempotency-key']);
    const { item } = JSON.parse((req as IncomingMessage & { body: Buffer }).body.toString()) as {
      item: string;
    };
    const first = !seenItems.has(item);
    seenItems.add(item);
    if (item === 'flaky-gadget' && first) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('overloaded, try again');
      return;
    }
    if (item === 'slow-widget' && first) {
      await new Promise((resolve) => setTimeout(resolve, options.slowMs));
    }
    created.set(key, (created.get(key) ?? 0) + 1);
    const id = `ord_${created.size}`;
    res.writeHead(201, { 'content-type': 'application/json', location: `/orders/${id}` });
    res.end(JSON.stringify({ id, item }));
  }, idempotency);

  const server: Server = createServer((req, res) => {
    requests++;
    if (req.method === 'GET' && req.url === '/stock') {
      stockCalls++;
      if (stockCalls <= 2) res.writeHead(503, { 'retry-after': '0' }).end('warming up');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"widgets":7}');
      return;
    }
    if (req.method === 'POST' && req.url === '/orders') {
      orders(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    created,
    executions: () => executions,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
