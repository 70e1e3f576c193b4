import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { cleanUpRedis } from '@faultline/test-support';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clThrottleReply, readmeExample, redisCellTable, tableDecision } from '../gcra.cases.js';
import { gcra } from '../gcra.js';
import { memoryRateLimitStore } from '../memory-store.js';
import type { RateLimitStore } from '../rate-limit-algorithm.js';
import { rateLimiter } from '../rate-limiter.js';
import { slidingWindow } from '../sliding-window.js';
import { tokenBucket } from '../token-bucket.js';
import { createRedisRateLimitStore, redisRateLimitStore } from './redis-rate-limit-store.js';

/** The shared Redis at REDIS_URL, or undefined after a loud warning (a failure under CI=true). */
async function redisUrl(): Promise<string | undefined> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const { hostname, port } = new URL(url);
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
  if (reachable) return url;
  const message = `redis is not reachable at ${url} (set REDIS_URL or start redis-server)`;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`CI=true: ${message}`);
  console.warn(`\n!!! SKIPPING limits Redis integration tests: ${message}\n`);
  return undefined;
}

const url = await redisUrl();
// Unique per run: the Redis is shared with other test files and engineers. Never FLUSH.
const runPrefix = `faultline:test:limits:${process.pid}:${Math.random().toString(36).slice(2, 10)}:`;
const dist = new URL('../../dist/redis.js', import.meta.url);
const distMain = new URL('../../dist/index.js', import.meta.url);

describe.skipIf(url === undefined)('redisRateLimitStore (real Redis)', () => {
  let io: Redis;
  let node: ReturnType<typeof createClient>;

  beforeAll(async () => {
    io = new Redis(url!);
    node = createClient({ url: url! });
    node.on('error', () => {});
    await node.connect();
  });

  afterAll(async () => {
    await cleanUpRedis(io, [`${runPrefix}*`], [io, node]);
  });

  const clients = [
    ['ioredis', () => io],
    ['node-redis', () => node],
  ] as const;

  for (const [name, client] of clients) {
    describe(name, () => {
      it("runs redis-cell's it_rate_limits table in the Lua script (times injected)", async () => {
        let now = 0;
        const start = Date.now();
        const store = createRedisRateLimitStore(
          { client: client(), prefix: `${runPrefix}${name}:table:` },
          () => now,
        );
        const algorithm = gcra(redisCellTable.options);
        for (const c of redisCellTable.cases) {
          now = start + c.at;
          const decision = await store.consume('foo', algorithm, c.quantity, 0);
          expect({ num: c.num, ...decision }).toEqual(tableDecision(c));
        }
      });

      it('README example on Redis TIME: allowed, limit 16, remaining 15, reset 2 s', async () => {
        const store = redisRateLimitStore({
          client: client(),
          prefix: `${runPrefix}${name}:readme:`,
        });
        expect(store.clientKind).toBe(name);
        const limiter = rateLimiter({ limit: gcra(readmeExample.options), store });
        const decision = await limiter.tryAcquire('user123');
        expect(decision).toEqual(readmeExample.decision);
        expect(clThrottleReply(decision)).toEqual([...readmeExample.reply]);
        // The key lives until its TAT (2 s), by Redis's own clock.
        const pttl = await io.pttl(store.redisKey('user123', gcra(readmeExample.options)));
        expect(pttl).toBeGreaterThan(1900);
        expect(pttl).toBeLessThanOrEqual(2000);
      });

      it('decides like the memory store for all three algorithms (same times)', async () => {
        const algorithms = [
          gcra({ rate: 7, per: 1000, burst: 3 }),
          tokenBucket({ rate: 3, per: 700, burst: 4 }),
          slidingWindow({ limit: 5, window: 1000, segments: 4 }),
        ];
        let now = 0;
        const base = 1_700_000_000_000; // epoch ms, as Redis TIME gives
        const redis = createRedisRateLimitStore(
          { client: client(), prefix: `${runPrefix}${name}:model:` },
          () => base + now,
        );
        const memory = memoryRateLimitStore();
        let seed = 7;
        const next = () => {
          seed = (seed * 1103515245 + 12345) % 2 ** 31;
          return seed / 2 ** 31;
        };
        for (let i = 0; i < 150; i++) {
          now += Math.floor(next() * 400);
          const permits = Math.floor(next() * 4);
          for (const algorithm of algorithms) {
            const a = await redis.consume('k', algorithm, permits, 0);
            const b = memory.consume('k', algorithm, permits, base + now);
            expect(a.allowed, `${algorithm.kind} #${i}`).toBe(b.allowed);
            expect(a.remaining, `${algorithm.kind} #${i}`).toBe(b.remaining);
            expect(a.retryAfter, `${algorithm.kind} #${i}`).toBeCloseTo(b.retryAfter, 2);
            expect(a.resetAfter, `${algorithm.kind} #${i}`).toBeCloseTo(b.resetAfter, 2);
          }
        }
      });

      it('ignores the caller clock: decisions follow Redis TIME', async () => {
        const store = redisRateLimitStore({
          client: client(),
          prefix: `${runPrefix}${name}:time:`,
        });
        const algorithm = gcra({ rate: 1, per: 60_000, burst: 0 });
        expect((await store.consume('k', algorithm, 1, -1e12)).allowed).toBe(true);
        // A caller clock a year ahead changes nothing: the permit comes back in ~60 s.
        const refused = await store.consume('k', algorithm, 1, 1e12 + 3.2e10);
        expect(refused.allowed).toBe(false);
        expect(refused.retryAfter).toBeGreaterThan(59_000);
      });
    });
  }

  it('recovers from SCRIPT FLUSH-like cache loss (NOSCRIPT → EVAL)', async () => {
    const calls: string[] = [];
    const fake = {
      callBuffer: () => Promise.reject(new Error('unused')),
      call: async (command: string, ...args: (string | number)[]) => {
        calls.push(command);
        if (command === 'EVALSHA') throw new Error('NOSCRIPT No matching script.');
        return io.call(command, ...args);
      },
    };
    const store = redisRateLimitStore({ client: fake, prefix: `${runPrefix}noscript:` });
    expect((await store.consume('k', gcra({ rate: 1 }), 1, 0)).allowed).toBe(true);
    expect(calls).toEqual(['EVALSHA', 'EVAL']);
  });

  it('two processes share one limit exactly', async () => {
    expect(existsSync(fileURLToPath(dist)), 'build first: npx tsc -b packages/limits').toBe(true);
    const prefix = `${runPrefix}shared:`;
    // burst 29 → limit 30; one permit per hour comes back, so nothing refills during the test.
    const child = `
      const { Redis } = await import('ioredis');
      const { redisRateLimitStore } = await import(${JSON.stringify(dist.href)});
      const { rateLimiter, gcra } = await import(${JSON.stringify(distMain.href)});
      const client = new Redis(${JSON.stringify(url)});
      const limiter = rateLimiter({
        limit: gcra({ rate: 1, per: 3_600_000, burst: 29 }),
        store: redisRateLimitStore({ client, prefix: ${JSON.stringify(prefix)} }),
      });
      await client.ping();
      process.stdout.write('ready\\n');
      await new Promise((resolve) => process.stdin.once('data', resolve));
      const decisions = [];
      for (let i = 0; i < 40; i++) decisions.push(await limiter.tryAcquire('shared'));
      client.disconnect();
      process.stdout.write(String(decisions.filter((d) => d.allowed).length));
    `;
    const start = () => {
      const proc = spawn(process.execPath, ['--input-type=module', '-e', child], {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      let onReady: () => void = () => {};
      const ready = new Promise<void>((resolve) => {
        onReady = resolve;
      });
      proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (out.startsWith('ready\n')) onReady();
      });
      proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        err += chunk;
      });
      const granted = new Promise<number>((resolve, reject) => {
        proc.on('exit', (code) =>
          code === 0 ? resolve(Number(out.slice('ready\n'.length))) : reject(new Error(err)),
        );
      });
      return { ready, go: () => proc.stdin.end('go\n'), granted };
    };
    // A barrier: both processes connect, say "ready", and start together on "go".
    const children = [start(), start()];
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const [a = 0, b = 0] = await Promise.all(children.map((c) => c.granted));
    expect(a + b).toBe(30);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
  }, 30_000);

  it('validates its options', () => {
    expect(() => redisRateLimitStore(undefined as never)).toThrow(TypeError);
    expect(() => redisRateLimitStore({ client: {} as never })).toThrow(
      /option "client" must be an ioredis client/,
    );
    expect(() => redisRateLimitStore({ client: io, prefix: 5 as never })).toThrow(
      new TypeError('redisRateLimitStore: option "prefix" must be a string, received 5'),
    );
    expect(() => redisRateLimitStore({ client: io, prefix: '' })).toThrow(RangeError);
    const store: RateLimitStore = redisRateLimitStore({ client: io });
    expect(store.kind).toBe('redis');
  });
});
