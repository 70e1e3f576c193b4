/**
 * The one switch between stores. `STORE=redis` (the default) shares dedup between every instance
 * connected to the same Redis; `STORE=memory` keeps records in this process only (fine for one
 * instance, or for trying the example without Redis).
 */
import { memoryStore, type Store } from '@faultline/idempotency';
import { redisStore } from '@faultline/idempotency/redis';
import { Redis } from 'ioredis';

export type StoreKind = 'redis' | 'memory';

export function storeKind(): StoreKind {
  const kind = process.env.STORE ?? 'redis';
  if (kind !== 'redis' && kind !== 'memory') {
    throw new Error(`STORE must be "redis" or "memory", received ${JSON.stringify(kind)}`);
  }
  return kind;
}

export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A store and the function that releases its connection. */
export async function openStore(
  kind: StoreKind,
): Promise<{ store: Store; close: () => Promise<void> }> {
  if (kind === 'memory') return { store: memoryStore(), close: async () => {} };
  // Fail fast when Redis is down instead of queueing commands forever.
  const client = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    retryStrategy: (times) => (times > 3 ? null : 200 * times),
  });
  await client.connect();
  return {
    store: redisStore({ client, prefix: 'faultline:example:' }),
    close: async () => {
      await client.quit();
    },
  };
}
