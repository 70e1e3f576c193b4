import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createIdempotency } from '../idempotency.js';
import { withIdempotency } from '../node.js';
import type { Store } from '../store.js';

/**
 * The app the store-outage tests (`stores/redis-outage.test.ts`, `stores/postgres-outage.test.ts`)
 * run their outages under: a node:http server behind `withIdempotency` on the store, whose
 * handler counts its executions per key. Requests must get the fail-closed 503 within the core's
 * storeTimeout (no hang), and after recovery every key executes exactly once.
 */

export const STORE_TIMEOUT = 300;
/** A request blocked on the store answers by STORE_TIMEOUT; the slack covers a loaded machine. */
export const FAST = STORE_TIMEOUT + 1_500;

export interface Reply {
  readonly status: number;
  readonly replayed: boolean;
  readonly elapsed: number;
}

export interface OutageApp {
  readonly url: string;
  /** Handler executions per idempotency key. */
  readonly executions: Map<string, number>;
  close(): Promise<void>;
}

/** Starts the app on 127.0.0.1 (ephemeral port) over `store`. */
export async function startOutageApp(store: Store): Promise<OutageApp> {
  const idempotency = createIdempotency({
    store,
    scope: () => 'outage',
    storeTimeout: STORE_TIMEOUT,
    lockTtl: 2_000,
  });
  const executions = new Map<string, number>();
  const handler = withIdempotency((req, res) => {
    const key = String(req.headers['idempotency-key']);
    executions.set(key, (executions.get(key) ?? 0) + 1);
    res.writeHead(201, { 'content-type': 'text/plain' });
    res.end(key);
  }, idempotency);
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    executions,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** One keyed POST, timed. */
export async function post(app: OutageApp, key: string): Promise<Reply> {
  const started = performance.now();
  const response = await fetch(`${app.url}/pay`, {
    method: 'POST',
    headers: { 'idempotency-key': key, 'content-type': 'text/plain' },
    body: 'amount=10',
    signal: AbortSignal.timeout(10_000), // never hang the test, whatever the server does
  });
  await response.arrayBuffer();
  return {
    status: response.status,
    replayed: response.headers.get('idempotent-replayed') === 'true',
    elapsed: performance.now() - started,
  };
}

/**
 * After recovery: retries (a late claim may hold the key until released) until not 409/503,
 * at most `tries` times 25 ms apart.
 */
export async function settle(app: OutageApp, key: string, tries: number): Promise<Reply> {
  for (let i = 0; i < tries; i++) {
    const reply = await post(app, key);
    if (reply.status !== 409 && reply.status !== 503) return reply;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${key} did not recover`);
}

/**
 * POSTs `keys` at once during an outage: every one is a 503 within {@link FAST}. Each latency is
 * added to `latencies` (the tests print them).
 */
export async function assertFailClosed(
  app: OutageApp,
  keys: readonly string[],
  latencies: number[],
): Promise<void> {
  const replies = await Promise.all(keys.map((key) => post(app, key)));
  for (const reply of replies) {
    assert.equal(reply.status, 503);
    assert.ok(reply.elapsed < FAST, `${reply.elapsed} ms, expected < ${FAST}`);
    latencies.push(Math.round(reply.elapsed));
  }
}

/**
 * After an outage: `fresh` (refused during it) had not run; now it executes once, then replays,
 * and `done` (completed before it) replays: each ran exactly once. Each POST {@link settle}s
 * within `tries`.
 */
export async function assertExactlyOnce(
  app: OutageApp,
  done: string,
  fresh: string,
  tries: number,
): Promise<void> {
  assert.equal(app.executions.get(fresh), undefined, `${fresh} ran during the outage`);
  assertReply(await settle(app, fresh, tries), fresh, false);
  assertReply(await settle(app, fresh, tries), fresh, true);
  assertReply(await settle(app, done, tries), done, true);
  assert.equal(app.executions.get(done), 1, `${done} executions`);
  assert.equal(app.executions.get(fresh), 1, `${fresh} executions`);
}

function assertReply(reply: Reply, key: string, replayed: boolean): void {
  assert.equal(reply.status, 201, `${key}: status`);
  assert.equal(reply.replayed, replayed, `${key}: replayed`);
}
