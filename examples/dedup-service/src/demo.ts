/**
 * `pnpm demo`: two instances of the payments service share one store (Redis by default,
 * `STORE=memory` shares one in-process memory store instead), and a client does what clients do
 * under failure: sends the same payment twice at once to two instances, retries it later, reuses
 * a key for a different payment, and forgets the key. Prints each answer and exits 0 when the
 * payment was charged exactly once.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { idempotencyKey, idempotentFetch } from '@faultline/idempotency';
import { constant, httpRetryAfter, retry } from '@faultline/retry';
import { createPaymentsApp, type Ledger } from './app.js';
import { openStore, storeKind } from './stores.js';

const kind = storeKind();
const { store, close } = await openStore(kind);
const ledger: Ledger = { charges: new Map() };

async function start(instance: string): Promise<{ url: string; server: Server }> {
  const { app } = createPaymentsApp({ store, ledger, instance });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
const a = await start('api-1');
const b = await start('api-2');
console.log(`two instances (${a.url}, ${b.url}) sharing the ${kind} store`);

/** One payment request with `send` (plain `fetch` unless a retrying client is passed). */
async function pay(
  url: string,
  key: string | undefined,
  amount: number,
  send: typeof fetch = fetch,
): Promise<string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    authorization: 'Bearer demo-token-acme',
  };
  if (key !== undefined) headers['idempotency-key'] = key;
  const response = await send(`${url}/payments`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ amount, currency: 'EUR' }),
    signal: AbortSignal.timeout(10_000),
  });
  const replayed = response.headers.get('idempotent-replayed') === 'true' ? ' [replayed]' : '';
  const retryAfter = response.headers.get('retry-after');
  const body = (await response.json()) as { id?: string; code?: string; title?: string };
  const what = body.id !== undefined ? `payment ${body.id}` : `${body.code}: ${body.title}`;
  return `${response.status} ${what}${replayed}${retryAfter === null ? '' : ` (Retry-After: ${retryAfter})`}`;
}

// A client's retries, made as clients should make them: idempotentFetch keeps the key and turns
// a 409 with Retry-After (the first execution not recorded yet) into a retry, which waits what
// Retry-After says. The service answers the first request before it writes the record (the
// client never waits for the store), so a retry sent the moment that answer arrives can still
// find the request in progress. Attempts are counted to show when that happened.
let attempts = 0;
const retrying = idempotentFetch(
  (input, init) => {
    attempts++;
    return fetch(input, init);
  },
  { policy: retry({ maxAttempts: 6, backoff: constant(100), retryAfter: httpRetryAfter }) },
);

async function retryPay(url: string, key: string, amount: number): Promise<string> {
  attempts = 0;
  const answer = await pay(url, key, amount, retrying);
  const retries = attempts - 1;
  return retries === 0 ? answer : `${answer} (retried ${retries}×, waiting Retry-After)`;
}

const key = idempotencyKey();
console.log(`key ${key}`);
// 1. The same request reaches two instances at once (a client retry after a timeout, routed
//    elsewhere by the load balancer): one executes, the other is told the first is in progress.
const [first, concurrent] = await Promise.all([pay(a.url, key, 1000), pay(b.url, key, 1000)]);
console.log(`1. api-1 and api-2 at once → ${first} | ${concurrent}`);
// 2. The client retries, on either instance: the stored response, no second charge.
console.log(`2. retry on api-2          → ${await retryPay(b.url, key, 1000)}`);
console.log(`   retry on api-1          → ${await retryPay(a.url, key, 1000)}`);
// 3. The same key for a different payment is a client bug: refused, nothing charged.
console.log(`3. same key, amount 2000   → ${await pay(a.url, key, 2000)}`);
// 4. No key: refused (the service requires one for payments).
console.log(`4. no key                  → ${await pay(a.url, undefined, 1000)}`);

const charged = ledger.charges.get(key) ?? 0;
console.log(`charged ${charged} time(s) for key ${key}; total charges: ${ledger.charges.size}`);
for (const { server } of [a, b]) {
  server.closeAllConnections();
  server.close();
}
await close();
if (charged !== 1 || ledger.charges.size !== 1) process.exitCode = 1;
