import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisClientLike } from '@faultline/core/redis';
import {
  cleanUpRedis,
  commandLog,
  requireBinary,
  serviceUrl,
  startRedisServer,
  type ThrowawayRedis,
} from '@faultline/test-support';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FencedOutError } from '../lease-errors.js';
import { checkLeaseStoreConformance } from '../testing/store-conformance.js';
import { redisLeaseStore } from './redis.js';
import { fencedEval, fencedGet, fencedScript, fencedSet } from './redis-fence.js';

const url = await serviceUrl('redis');
const hasRedisServer = requireBinary('redis-server');
// Unique per run: other test files and engineers share this Redis.
const runPrefix = `faultline:test:lease:${process.pid}:${Math.random().toString(36).slice(2, 10)}:`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('redisLeaseStore options', () => {
  const client = { evalshaBuffer: async () => 0, evalBuffer: async () => 0 };
  it('rejects a missing or wrong client', () => {
    expect(() => redisLeaseStore(undefined as never)).toThrow(TypeError);
    expect(() => redisLeaseStore({ client: {} as never })).toThrow(
      /redisLeaseStore: option "client" must be an ioredis client/,
    );
  });
  it('rejects a bad prefix', () => {
    expect(() => redisLeaseStore({ client, prefix: 1 as never })).toThrow(TypeError);
    expect(() => redisLeaseStore({ client, prefix: '' })).toThrow(RangeError);
    expect(() => redisLeaseStore({ client, prefix: 'a{b}:' })).toThrow(
      /option "prefix" must be a non-empty string of at most 256 characters without "\{" or "\}", received "a\{b\}:"/,
    );
    expect(() => redisLeaseStore({ client, prefix: 'x'.repeat(257) })).toThrow(RangeError);
  });
  it('puts both keys of a resource in one hash tag', () => {
    const store = redisLeaseStore({ client });
    expect(store.prefix).toBe('faultline:lease:');
    expect(store.keys('jobs')).toEqual({
      lease: 'faultline:lease:{jobs}',
      token: 'faultline:lease:{jobs}:token',
    });
  });
  it('fences validate their options', async () => {
    await expect(fencedSet(client, { key: 'k', value: 'v', token: 1 as never })).rejects.toThrow(
      /fencedSet: option "token" must be a bigint/,
    );
    await expect(fencedSet(client, { key: 'k', value: 'v', token: 2n ** 53n })).rejects.toThrow(
      RangeError,
    );
    await expect(fencedSet(client, { key: 'k', value: 3 as never, token: 1n })).rejects.toThrow(
      /option "value" must be a string or a Uint8Array/,
    );
    await expect(
      fencedEval(client, { key: 'k', token: 1n, script: { sha: 'x' } as never }),
    ).rejects.toThrow(/option "script" must be made by fencedScript/);
  });
});

type Client = { kind: string; client: RedisClientLike };

describe.skipIf(url === undefined)('redisLeaseStore (real Redis)', () => {
  let io: Redis;
  let pipelined: Redis;
  let node: ReturnType<typeof createClient>;
  let admin: Redis;
  const clients: Client[] = [];

  beforeAll(async () => {
    io = new Redis(url!);
    pipelined = new Redis(url!, { enableAutoPipelining: true });
    node = createClient({ url: url! });
    node.on('error', () => {});
    await node.connect();
    admin = new Redis(url!);
    clients.push(
      { kind: 'ioredis', client: io },
      { kind: 'ioredis (auto-pipelining)', client: pipelined },
      { kind: 'node-redis', client: node },
    );
  });

  afterAll(async () => {
    await cleanUpRedis(admin, [`${runPrefix}*`], [io, pipelined, node, admin]);
  });

  it('grants, refuses while held, renews and releases for the owner only (each client)', async () => {
    for (const { kind, client } of clients) {
      const store = redisLeaseStore({ client, prefix: `${runPrefix}basic:` });
      const resource = `r-${kind}`;
      const grant = await store.acquire(resource, 'a', 5_000);
      expect('token' in grant, kind).toBe(true);
      const token = (grant as { token: bigint }).token;
      expect(typeof token).toBe('bigint');
      const held = await store.acquire(resource, 'b', 5_000);
      expect(held).toMatchObject({ held: true });
      expect((held as { retryAfter: number }).retryAfter).toBeGreaterThan(4_000);
      expect((held as { retryAfter: number }).retryAfter).toBeLessThanOrEqual(5_000);
      expect(await store.acquire(resource, 'a', 5_000)).toMatchObject({ held: true });
      expect(await store.renew(resource, 'b', token, 5_000)).toBe(false);
      expect(await store.renew(resource, 'a', token - 1n, 5_000)).toBe(false);
      expect(await store.renew(resource, 'a', token, 5_000)).toBe(true);
      expect(await store.release(resource, 'b', token)).toBe(false);
      expect(await store.release(resource, 'a', token + 1n)).toBe(false);
      expect(await store.release(resource, 'a', token)).toBe(true);
      expect(await store.release(resource, 'a', token)).toBe(false);
      const next = await store.acquire(resource, 'b', 5_000);
      expect((next as { token: bigint }).token).toBeGreaterThan(token);
      expect(store.clientKind).toBe(kind.startsWith('ioredis') ? 'ioredis' : 'node-redis');
    }
  });

  it('tokens are never below the server time in µs and the counter never expires', async () => {
    const store = redisLeaseStore({ client: io, prefix: `${runPrefix}time:` });
    const [seconds, micros] = await admin.time();
    const before = BigInt(seconds!) * 1_000_000n + BigInt(micros!);
    const grant = (await store.acquire('t', 'a', 50)) as { token: bigint };
    expect(grant.token).toBeGreaterThanOrEqual(before);
    const keys = store.keys('t');
    expect(await admin.pttl(keys.token)).toBe(-1);
    const pttl = await admin.pttl(keys.lease);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(50);
    // A counter ahead of the clock (many grants within one µs) still increases by one.
    await admin.set(keys.token, String(before + 10_000_000_000n));
    await sleep(60);
    const ahead = (await store.acquire('t', 'a', 50)) as { token: bigint };
    expect(ahead.token).toBe(before + 10_000_000_001n);
  });

  it('refuses to take over a key without expiry (not a lease of this store)', async () => {
    const store = redisLeaseStore({ client: io, prefix: `${runPrefix}foreign:` });
    await admin.set(store.keys('x').lease, 'someone else');
    await expect(store.acquire('x', 'a', 1_000)).rejects.toThrow(/has no expiry/);
  });

  it('resources with any characters, braces included, keep their two keys together', async () => {
    const store = redisLeaseStore({ client: node, prefix: `${runPrefix}chars:` });
    for (const resource of ['a}b', '{x}', 'ünï cödé', '']) {
      const grant = (await store.acquire(resource, 'o', 1_000)) as { token: bigint };
      expect(grant.token).toBeTypeOf('bigint');
      expect(await store.release(resource, 'o', grant.token)).toBe(true);
    }
  });

  for (const kind of ['ioredis', 'node-redis'] as const) {
    it(`conformance property: random acquire/renew/release/expire (${kind})`, async () => {
      const store = redisLeaseStore({
        client: kind === 'ioredis' ? io : node,
        prefix: `${runPrefix}conformance:`,
      });
      await checkLeaseStoreConformance({
        store,
        ttl: 400,
        // A run's round trips on a loaded machine, as the helper advises (ttl / 4).
        slack: 100,
        numRuns: 20,
        maxSteps: 25,
        elapse: sleep,
        resourcePrefix: `${kind}:`,
      });
    }, 120_000);
  }

  it('fencedSet: a lower token is rejected, equal and higher ones are accepted', async () => {
    for (const { kind, client } of clients) {
      const key = `${runPrefix}fence:set:${kind}`;
      await fencedSet(client, { key, value: 'from 33', token: 33n });
      await fencedSet(client, { key, value: 'from 33 again', token: 33n });
      await fencedSet(client, { key, value: 'from 34', token: 34n });
      const error = await fencedSet(client, { key, value: 'stale', token: 33n }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(FencedOutError);
      expect(error).toMatchObject({ token: 33n, highest: 34n, code: 'FENCED_OUT' });
      expect(await admin.hget(key, 'value')).toBe('from 34');
      expect(await admin.hget(key, 'fence')).toBe('34');
    }
  });

  it('fencedGet records its token: a later write with a lower token is rejected', async () => {
    const key = `${runPrefix}fence:get`;
    await fencedSet(io, { key, value: '10', token: 33n });
    // The new holder (34) reads; the paused old holder (33) then tries its write.
    expect(await fencedGet(node, { key, token: 34n })).toBe('10');
    await expect(fencedSet(io, { key, value: '11', token: 33n })).rejects.toBeInstanceOf(
      FencedOutError,
    );
    await expect(fencedGet(io, { key, token: 33n })).rejects.toBeInstanceOf(FencedOutError);
    expect(await fencedGet(io, { key: `${key}:none`, token: 1n })).toBeUndefined();
  });

  it('fencedEval runs a custom script under the fence, tokens as large as the store makes', async () => {
    const key = `${runPrefix}{fence:eval}`;
    const list = `${runPrefix}{fence:eval}:log`;
    const push = fencedScript(`return redis.call('RPUSH', KEYS[2], ARGV[2])`);
    const big = 1_764_000_000_000_000n;
    expect(
      await fencedEval(pipelined, { key, token: big, script: push, keys: [list], args: ['a'] }),
    ).toBe(1);
    expect(
      await fencedEval(node, { key, token: big + 1n, script: push, keys: [list], args: ['b'] }),
    ).toBe(2);
    await expect(
      fencedEval(io, { key, token: big, script: push, keys: [list], args: ['stale'] }),
    ).rejects.toMatchObject({ highest: big + 1n });
    expect(await admin.lrange(list, 0, -1)).toEqual(['a', 'b']);
  });
});

describe.skipIf(!hasRedisServer)('redisLeaseStore on a throwaway redis-server', () => {
  let server: ThrowawayRedis;
  let admin: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url, { maxRetriesPerRequest: null });
    admin.on('error', () => {});
  }, 30_000);

  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  it('a restart without persistence never hands out an old token again', async () => {
    const client = new Redis(server.url, { maxRetriesPerRequest: null });
    client.on('error', () => {});
    try {
      const store = redisLeaseStore({ client });
      const tokens: bigint[] = [];
      for (let i = 0; i < 3; i++) {
        const grant = (await store.acquire('job', 'a', 1_000)) as { token: bigint };
        tokens.push(grant.token);
        await store.release('job', 'a', grant.token);
      }
      await server.stop();
      await server.restart(); // --save '' --appendonly no: every key is gone
      expect(await admin.exists(store.keys('job').token)).toBe(0);
      const after = (await store.acquire('job', 'b', 1_000)) as { token: bigint };
      expect(after.token).toBeGreaterThan(tokens[2]!);
      console.info(
        `[redis restart] tokens before: ${tokens.join(', ')}; first token after: ${after.token}`,
      );
    } finally {
      client.disconnect();
    }
  }, 30_000);

  it('a failover to a replica that missed the last grants never hands out an old token', async () => {
    // Its own directory: a replica writes the primary's snapshot (dump.rdb) to disk on sync.
    const dir = mkdtempSync(join(tmpdir(), 'fl-lease-replica-'));
    const replica = await startRedisServer([
      '--replicaof',
      '127.0.0.1',
      String(server.port),
      '--dir',
      dir,
    ]);
    const primary = new Redis(server.url, { maxRetriesPerRequest: null });
    const promoted = new Redis(replica.url, { maxRetriesPerRequest: null });
    try {
      for (
        let i = 0;
        !(await promoted.info('replication')).includes('master_link_status:up');
        i++
      ) {
        if (i > 400) throw new Error('the replica never synced');
        await sleep(25);
      }
      const onPrimary = redisLeaseStore({ client: primary, prefix: 'failover:' });
      const first = (await onPrimary.acquire('job', 'a', 1_000)) as { token: bigint };
      await onPrimary.release('job', 'a', first.token);
      expect(await primary.wait(1, 5_000)).toBe(1); // the replica has the counter so far
      // The replica is promoted; the grants the primary makes from here on never reach it, as
      // with an asynchronous failover that loses the primary's last writes.
      await promoted.replicaof('NO', 'ONE');
      const lost: bigint[] = [];
      for (let i = 0; i < 5; i++) {
        const grant = (await onPrimary.acquire('job', 'a', 1_000)) as { token: bigint };
        lost.push(grant.token);
        await onPrimary.release('job', 'a', grant.token);
      }
      const onReplica = redisLeaseStore({ client: promoted, prefix: 'failover:' });
      const counter = await promoted.get(onReplica.keys('job').token);
      expect(BigInt(counter!)).toBeLessThan(lost[4]!); // the replica's counter is behind
      const after = (await onReplica.acquire('job', 'b', 1_000)) as { token: bigint };
      expect(after.token).toBeGreaterThan(lost[4]!);
      console.info(
        `[redis failover] replica's counter ${counter}; tokens lost with the primary up to ${lost[4]}; first token on the promoted replica ${after.token}`,
      );
    } finally {
      primary.disconnect();
      promoted.disconnect();
      await replica.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('acquire + release is 2 round trips (MONITOR)', async () => {
    const monitor = await new Redis(server.url).monitor();
    const log = commandLog(monitor, admin);
    const io = new Redis(server.url);
    const node = createClient({ url: server.url });
    await node.connect();
    try {
      const figures: string[] = [];
      for (const [kind, client] of [
        ['ioredis', io],
        ['node-redis', node],
      ] as const) {
        const store = redisLeaseStore({ client });
        const warm = (await store.acquire('rt', kind, 1_000)) as { token: bigint };
        await store.release('rt', kind, warm.token); // scripts cached: EVALSHA from now on
        const sent = await log.roundTrips(async () => {
          const grant = (await store.acquire('rt', kind, 1_000)) as { token: bigint };
          await store.release('rt', kind, grant.token);
        });
        figures.push(`${kind}: ${sent.join(', ')}`);
        expect(sent).toEqual(['EVALSHA', 'EVALSHA']);
      }
      console.info(`[redis round trips] acquire + release: ${figures.join('; ')}`);
    } finally {
      monitor.disconnect();
      io.disconnect();
      await node.close();
    }
  }, 30_000);
});
