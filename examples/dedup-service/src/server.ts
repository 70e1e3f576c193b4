/**
 * `pnpm start`: the payments service on 127.0.0.1:$PORT (default 3000), deduplicating POSTs with
 * the Redis store at $REDIS_URL (`STORE=memory` to run without Redis). Stops on SIGINT/SIGTERM.
 */
import type { AddressInfo } from 'node:net';
import { createPaymentsApp } from './app.js';
import { openStore, redisUrl, storeKind } from './stores.js';

const kind = storeKind();
const { store, close } = await openStore(kind);
const { app } = createPaymentsApp({ store, ledger: { charges: new Map() }, instance: 'api-1' });
const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  const where =
    kind === 'redis' ? `redis store at ${redisUrl}` : 'memory store (this process only)';
  console.log(`payments service listening on http://127.0.0.1:${port} (${where})`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.closeAllConnections();
    server.close(() => {
      void close().then(() => console.log('payments service stopped'));
    });
  });
}
