/**
 * `pnpm start`: starts the flaky orders service on 127.0.0.1, calls it through the outbound
 * client, and prints what each layer did. Exits 0 when every order was created exactly once.
 */
import { ordersClient } from './client.js';
import { startFlakyServer } from './server.js';

const attemptTimeout = Number(process.env.ATTEMPT_TIMEOUT_MS ?? 1_000);
const server = await startFlakyServer({ slowMs: attemptTimeout * 1.5 });
const client = ordersClient(server.url, { attemptTimeout });
console.log(`orders service on ${server.url} (per-attempt timeout ${attemptTimeout} ms)`);

for (const [kind, policy] of Object.entries(client.retries)) {
  policy.onRetry(({ attempt, delay, outcome }) => {
    const what = outcome.ok
      ? `HTTP ${(outcome.value as Response).status}`
      : outcome.error instanceof Error
        ? `${outcome.error.name}: ${outcome.error.message}`
        : String(outcome.error);
    console.log(
      `  [${kind}] attempt ${attempt} failed (${what}), retry in ${Math.round(delay)} ms`,
    );
  });
}

const stock = await client.stock();
console.log(`GET /stock → ${stock.status} ${await stock.text()}`);

let failed = 0;
for (const item of ['plain-bolt', 'slow-widget', 'flaky-gadget']) {
  const response = await client.order(item);
  const replayed = response.headers.get('idempotent-replayed') === 'true';
  console.log(
    `POST /orders ${item} → ${response.status} ${await response.text()}${replayed ? ' (replayed: the stored response of the first execution)' : ''}`,
  );
  if (response.status !== 201) failed++;
}

const duplicates = [...server.created.values()].filter((count) => count > 1).length;
console.log(
  `summary: ${server.requests()} requests reached the server; ${server.executions()} order executions; ` +
    `${server.created.size} orders created for 3 POSTs; keys created twice: ${duplicates}; ` +
    `budget tokens left: ${client.budget.tokens}`,
);
await server.close();
if (failed > 0 || duplicates > 0 || server.created.size !== 3) process.exitCode = 1;
