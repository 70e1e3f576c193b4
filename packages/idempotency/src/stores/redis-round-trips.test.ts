import type { RedisClientLike } from '@faultline/core/redis';
import {
  type CommandLog,
  commandLog,
  requireBinary,
  startRedisServer,
  type ThrowawayRedis,
} from '@faultline/test-support';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdempotency } from '../idempotency.js';
import { redisStore } from './redis.js';

// Round trips per request, counted twice: by MONITOR on a throwaway redis-server (every command
// a client sent; commands run inside Lua are tagged "lua" and are not round trips) and by
// instrumenting the client. Figures are printed for the report.

const hasRedisServer = requireBinary('redis-server');
const encoder = new TextEncoder();

function request(key: string) {
  return {
    method: 'POST',
    path: '/orders',
    headers: { 'idempotency-key': key, 'content-type': 'application/json' },
    body: encoder.encode('{"item":1}'),
  };
}

describe.skipIf(!hasRedisServer)('redisStore round trips (MONITOR)', () => {
  let server: ThrowawayRedis;
  let admin: Redis;
  let monitor: Awaited<ReturnType<Redis['monitor']>>;
  let log: CommandLog;
  const figures: string[] = [];

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
    monitor = await new Redis(server.url).monitor();
    log = commandLog(monitor, admin);
  }, 30_000);

  afterAll(async () => {
    monitor?.disconnect();
    admin?.disconnect();
    await server?.stop();
    console.info(`[redis round trips] ${figures.join('; ')}`);
  });

  const clients: [string, () => Promise<{ client: RedisClientLike; close(): void }>][] = [
    [
      'ioredis',
      async () => {
        const client = new Redis(server.url);
        await client.ping();
        return { client, close: () => client.disconnect() };
      },
    ],
    [
      'node-redis',
      async () => {
        const client = createClient({ url: server.url });
        client.on('error', () => {});
        await client.connect();
        return { client, close: () => void client.destroy() };
      },
    ],
  ];

  for (const [kind, connect] of clients) {
    it(`${kind}: one round trip to claim and one to complete a new request; one to replay`, async () => {
      const { client, close } = await connect();
      try {
        const idempotency = createIdempotency({ store: redisStore({ client }), scope: () => 's' });
        // Warm the script cache (a fresh server answers NOSCRIPT once per script).
        const warm = await idempotency.begin(request(`warm-up-${kind}`));
        if (warm.kind === 'execute') {
          await idempotency.complete(warm.token!, {
            status: 201,
            headers: {},
            body: new Uint8Array(),
          });
        }

        let token: Parameters<typeof idempotency.complete>[0] | undefined;
        const claim = await log.roundTrips(async () => {
          const result = await idempotency.begin(request(`new-${kind}`));
          expect(result.kind).toBe('execute');
          if (result.kind === 'execute') token = result.token;
        });
        const complete = await log.roundTrips(() =>
          idempotency.complete(token!, {
            status: 201,
            headers: { 'content-type': 'application/json' },
            body: encoder.encode('{"id":1}'),
          }),
        );
        const replay = await log.roundTrips(async () => {
          expect((await idempotency.begin(request(`new-${kind}`))).kind).toBe('replay');
        });
        const conflictKey = `busy-${kind}`;
        const busy = await idempotency.begin(request(conflictKey));
        const conflict = await log.roundTrips(async () => {
          expect((await idempotency.begin(request(conflictKey))).kind).toBe('reject');
        });
        if (busy.kind === 'execute') await idempotency.release(busy.token!);

        expect(claim).toEqual(['EVALSHA']);
        expect(complete).toEqual(['EVALSHA']);
        expect(replay).toEqual(['EVALSHA']);
        expect(conflict).toEqual(['EVALSHA']);

        // Cold script cache (restart, SCRIPT FLUSH): NOSCRIPT, then EVAL, which caches it.
        await admin.script('FLUSH');
        const cold = await log.roundTrips(async () => {
          expect((await idempotency.begin(request(`cold-${kind}`))).kind).toBe('execute');
        });
        expect(cold).toEqual(['EVALSHA', 'EVAL']);
        figures.push(
          `${kind}: claim ${claim.length} (${claim}), complete ${complete.length}, replay ${replay.length}, conflict ${conflict.length}, cold claim ${cold.length} (${cold})`,
        );
      } finally {
        close();
      }
    }, 20_000);
  }

  it('ioredis: the claims and the completions of one turn go as one EVALSHA each', async () => {
    const client = new Redis(server.url);
    try {
      await client.ping();
      const store = redisStore({ client, prefix: 'batch:' });
      const response = {
        status: 201,
        headers: [],
        body: encoder.encode('{"id":1}'),
        bodyOmitted: false,
      } as const;
      const claim = (key: string, owner: string) =>
        store.claim(key, { owner, fingerprint: 'f', lockTtl: 5_000 });
      await claim('warm-up', 'w'); // a fresh server answers NOSCRIPT once per script
      await store.complete('warm-up', 'w', response, 5_000);

      let claims: Awaited<ReturnType<typeof claim>>[] = [];
      const claimed = await log.roundTrips(async () => {
        claims = await Promise.all([claim('a', 'o1'), claim('b', 'o2'), claim('a', 'o3')]);
      });
      expect(claimed).toEqual(['EVALSHA']);
      // Handled in order, as separate calls would be: the second claim of `a` finds the first.
      expect(claims.map((result) => result.claimed)).toEqual([true, true, false]);
      expect(claims[2]).toMatchObject({ claimed: false, record: { status: 'IN_PROGRESS' } });

      let completed: boolean[] = [];
      const completions = await log.roundTrips(async () => {
        completed = await Promise.all([
          store.complete('a', 'o1', response, 5_000),
          store.complete('b', 'o3', response, 5_000), // not b's owner: fenced
          store.complete('b', 'o2', response, 5_000),
        ]);
      });
      expect(completions).toEqual(['EVALSHA']);
      expect(completed).toEqual([true, false, true]);
      const replays = await Promise.all([claim('a', 'o4'), claim('b', 'o5')]);
      expect(replays.map((result) => !result.claimed && result.record.status)).toEqual([
        'COMPLETED',
        'COMPLETED',
      ]);

      // At most 64 keys per call.
      const many = await log.roundTrips(() =>
        Promise.all(Array.from({ length: 70 }, (_, i) => claim(`m${i}`, 'o'))),
      );
      expect(many).toEqual(['EVALSHA', 'EVALSHA']);
      figures.push(
        `ioredis batches: 3 claims ${claimed.length}, 3 completions ${completions.length}, 70 claims ${many.length}`,
      );
    } finally {
      client.disconnect();
    }
  });

  it('client instrumentation agrees: one command per claim and per completion', async () => {
    const inner = new Redis(server.url);
    const sent: string[] = [];
    const client = {
      callBuffer: (command: string, ...args: (string | Buffer | number)[]) => {
        sent.push(command);
        return inner.callBuffer(command, ...args);
      },
    };
    try {
      const store = redisStore({ client });
      await store.claim('warm', { owner: 'o', fingerprint: 'f', lockTtl: 1_000 });
      await store.complete(
        'warm',
        'o',
        { status: 200, headers: [], body: new Uint8Array(), bodyOmitted: false },
        1_000,
      );
      sent.length = 0;
      await store.claim('k', { owner: 'o', fingerprint: 'f', lockTtl: 5_000 });
      expect(sent).toEqual(['EVALSHA']);
      sent.length = 0;
      await store.complete(
        'k',
        'o',
        { status: 200, headers: [], body: new Uint8Array(), bodyOmitted: false },
        5_000,
      );
      expect(sent).toEqual(['EVALSHA']);
    } finally {
      inner.disconnect();
    }
  });
});
