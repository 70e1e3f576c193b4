import { VirtualClock } from '@faultline/clock';
import { serviceUrl } from '@faultline/test-support';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryFleetStore } from './memory-store.js';
import { type RedisFleetStore, redisFleetStore } from './redis.js';
import type { BreakerRequest, BudgetRequest } from './store.js';

// The Lua scripts and the memory store are two implementations of the same steps: random
// sequences of steps, on the same pinned time, must get the same replies from both.

const url = await serviceUrl('redis');
const run = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

type Step =
  | { kind: 'advance'; ms: number }
  | { kind: 'budget'; name: string; request: BudgetRequest }
  | { kind: 'breaker'; name: string; request: BreakerRequest };

const ratio = fc.record({
  kind: fc.constant('ratio' as const),
  ttl: fc.constant(1000),
  slices: fc.constant(10),
  reserve: fc.constantFrom(0, 10_000, 50_000),
  withdrawal: fc.constantFrom(1000, 5000, 10_000),
  deposit: fc.nat(20).map((n) => n * 1000),
  returned: fc.nat(3),
  returnSlice: fc.integer({ min: 999_990, max: 1_001_100 }),
  want: fc.nat(10),
});
const token = fc.record({
  kind: fc.constant('token' as const),
  max: fc.constant(10_000),
  threshold: fc.constant(5000),
  deposit: fc.nat(5).map((n) => n * 100),
  drained: fc.nat(3),
  returned: fc.constant(0),
  returnSlice: fc.constant(0),
  want: fc.nat(5),
});
const breaker = fc.record({
  op: fc.constantFrom('sync', 'sync', 'sync', 'probe', 'success', 'failure', 'close'),
  instance: fc.constantFrom('a', 'b', 'c'),
  seen: fc.nat(3),
  calls: fc.nat(10),
  failures: fc.nat(10),
  slow: fc.constant(0),
  rule: fc.constant({ minCalls: 5, failureRatio: 0.5, slowRatio: 2 }),
  quorum: fc.constantFrom(1, 2),
  stale: fc.constant(400),
  breaks: fc.constantFrom([300], [100, 200, 400]),
  token: fc.nat(3),
  holding: fc.constantFrom(false, false, false, true),
});
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('advance' as const), ms: fc.nat(400) }),
  fc.record({ kind: fc.constant('budget' as const), name: fc.constant('r'), request: ratio }),
  fc.record({ kind: fc.constant('budget' as const), name: fc.constant('t'), request: token }),
  fc.record({ kind: fc.constant('breaker' as const), name: fc.constant('c'), request: breaker }),
);

describe.skipIf(url === undefined)('redisFleetStore = memoryFleetStore, step by step', () => {
  const clients: Array<{ close(): Promise<unknown> }> = [];
  let io: Redis;
  let node: ReturnType<typeof createClient>;
  beforeAll(async () => {
    io = new Redis(url!);
    node = createClient({ url: url! });
    await node.connect();
    clients.push({ close: () => io.quit() }, { close: () => node.quit() });
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
  });

  for (const kind of ['ioredis', 'node-redis'] as const) {
    it(`${kind}: the same replies for random step sequences; every key expires`, async () => {
      let round = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
          const prefix = `faultline:test:fleet:${run}:${kind}:${round++}:`;
          const client = kind === 'ioredis' ? io : node;
          const redis: RedisFleetStore = redisFleetStore({ client, prefix });
          expect(redis.clientKind).toBe(kind);
          const clock = new VirtualClock(1_000_000);
          const memory = memoryFleetStore({ clock });
          for (const s of steps) {
            if (s.kind === 'advance') {
              await clock.advance(s.ms);
              continue;
            }
            redis.setTimeForTests(clock.now());
            if (s.kind === 'budget') {
              expect(await redis.budget(s.name, s.request)).toEqual(
                await memory.budget(s.name, s.request),
              );
            } else {
              expect(await redis.breaker(s.name, s.request)).toEqual(
                await memory.breaker(s.name, s.request),
              );
            }
          }
          for (const name of ['r', 't', 'c']) {
            for (const k of ['budget', 'breaker'] as const) {
              const key = redis.redisKey(k, name);
              const ttl = Number(await io.pttl(key));
              // -2: never written; otherwise it must expire.
              expect(ttl === -2 || ttl > 0, `${key} pttl ${ttl}`).toBe(true);
              await io.del(key);
            }
          }
        }),
        { numRuns: 40 },
      );
    }, 60_000);
  }

  it('runs on the server clock (TIME) by default', async () => {
    const redis = redisFleetStore({ client: io, prefix: `faultline:test:fleet:${run}:time:` });
    const request: BreakerRequest = {
      op: 'sync',
      instance: 'a',
      seen: 0,
      calls: 5,
      failures: 5,
      slow: 0,
      rule: { minCalls: 5, failureRatio: 1, slowRatio: 2 },
      quorum: 1,
      stale: 1000,
      breaks: [2000],
      token: 0,
      holding: false,
    };
    const reply = await redis.breaker('x', request);
    expect(reply.open).toBe(true);
    expect(reply.remaining).toBeGreaterThan(1900);
    expect(reply.remaining).toBeLessThanOrEqual(2000);
    await io.del(redis.redisKey('breaker', 'x'));
  });

  it('validates its options', () => {
    expect(() => redisFleetStore({ client: {} as never })).toThrow(TypeError);
    expect(() => redisFleetStore({ client: io, prefix: '' })).toThrow(RangeError);
    expect(() => redisFleetStore({ client: io, prefix: 5 as never })).toThrow(TypeError);
    expect(redisFleetStore({ client: io }).prefix).toBe('faultline:fleet:');
  });
});
