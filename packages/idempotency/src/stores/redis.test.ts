import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import type { IoRedisClientLike } from '@faultline/core/redis';
import { cleanUpRedis, serviceUrl } from '@faultline/test-support';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createIdempotency } from '../idempotency.js';
import type { StoredResponse } from '../store.js';
import { describeStoreConformance, realTime } from '../testing.js';
import { redisStore } from './redis.js';

const url = await serviceUrl('redis');
// Unique per run: other test files and engineers share this Redis.
const runPrefix = `faultline:test:${process.pid}:${Math.random().toString(36).slice(2, 10)}:`;

type NodeRedis = ReturnType<typeof createClient>;

const ok: StoredResponse = {
  status: 200,
  headers: [['content-type', 'text/plain']],
  body: new Uint8Array([1, 2, 3]),
  bodyOmitted: false,
};

describe.skipIf(url === undefined)('redisStore (real Redis)', () => {
  let io: Redis;
  let pipelined: Redis;
  let node: NodeRedis;
  let admin: Redis;

  beforeAll(async () => {
    io = new Redis(url!, { lazyConnect: true });
    await io.connect();
    // A common production setting: commands of one tick share one write (issue 14, item 25).
    pipelined = new Redis(url!, { lazyConnect: true, enableAutoPipelining: true });
    await pipelined.connect();
    node = createClient({ url: url! });
    node.on('error', () => {});
    await node.connect();
    admin = new Redis(url!);
  });

  afterAll(async () => {
    await cleanUpRedis(admin, [`${runPrefix}*`], [io, pipelined, node, admin]);
  });

  // Writes garbage under the record's key (keeping its TTL), as a foreign writer might.
  const corrupt = async (prefix: string, key: string): Promise<void> => {
    await admin.set(Buffer.from(`${prefix}${key}`, 'utf8'), Buffer.from([0xde, 0xad]), 'KEEPTTL');
  };

  const clients = [
    ['ioredis', () => io],
    ['ioredis (enableAutoPipelining)', () => pipelined],
    ['node-redis', () => node],
  ] as const;
  for (const [name, client] of clients) {
    const prefix = `${runPrefix}${name}:`;
    describeStoreConformance(
      `redisStore (${name})`,
      () => redisStore({ client: client(), prefix }),
      {
        describe,
        it,
        ttl: 250,
        advance: realTime,
        corrupt: (_store, key) => corrupt(prefix, key),
      },
    );
  }

  it('a server on an ioredis client with enableAutoPipelining executes, then replays (issue 14, item 25)', async () => {
    const idempotency = createIdempotency({
      store: redisStore({ client: pipelined, prefix: `${runPrefix}autopipelining:` }),
      scope: () => 'u',
    });
    const request = {
      method: 'POST',
      path: '/orders',
      headers: { 'idempotency-key': 'k' },
      body: '{}',
    };
    const first = await idempotency.begin(request);
    expect(first.kind).toBe('execute');
    if (first.kind !== 'execute' || first.token === undefined) return;
    expect(
      await idempotency.complete(first.token, {
        status: 201,
        headers: [],
        body: new Uint8Array([1]),
      }),
    ).toBe('stored');
    // Several in one tick: they share one autopipelined write.
    const replays = await Promise.all([1, 2, 3].map(() => idempotency.begin(request)));
    expect(replays.map((replay) => replay.kind)).toEqual(['replay', 'replay', 'replay']);
  });

  it('sends the commands of one event-loop turn in one socket write on ioredis (coalesceWrites)', async () => {
    // Socket writes that reach the kernel: one `_write` or `_writev` each.
    const flushes = async (store: ReturnType<typeof redisStore>, client: Redis) => {
      const socket = (client as unknown as { stream: Socket }).stream;
      const write = vi.spyOn(socket, '_write');
      const writev = vi.spyOn(socket, '_writev');
      const claims = await Promise.all(
        ['a', 'b', 'c'].map((key) =>
          store.claim(key, { owner: 'o', fingerprint: 'f', lockTtl: 5_000 }),
        ),
      );
      expect(claims.map((claim) => claim.claimed)).toEqual([true, true, true]);
      const count = write.mock.calls.length + writev.mock.calls.length;
      write.mockRestore();
      writev.mockRestore();
      return count;
    };
    const client = new Redis(url!);
    try {
      await client.ping();
      expect(
        await flushes(redisStore({ client, prefix: `${runPrefix}coalesce:on:` }), client),
      ).toBe(1);
      const apart = redisStore({
        client,
        prefix: `${runPrefix}coalesce:off:`,
        coalesceWrites: false,
      });
      expect(await flushes(apart, client)).toBeGreaterThan(1);
    } finally {
      client.disconnect();
    }
    expect(() => redisStore({ client: io, coalesceWrites: 'yes' as never })).toThrow(
      /option "coalesceWrites" must be a boolean/,
    );
  });

  it('detects the client kind', () => {
    expect(redisStore({ client: io }).clientKind).toBe('ioredis');
    expect(redisStore({ client: node }).clientKind).toBe('node-redis');
  });

  it('ioredis and node-redis read each other’s records (mixed fleets)', async () => {
    const prefix = `${runPrefix}mixed:`;
    const a = redisStore({ client: io, prefix });
    const b = redisStore({ client: node, prefix });
    expect((await a.claim('k', { owner: 'o', fingerprint: 'f', lockTtl: 5_000 })).claimed).toBe(
      true,
    );
    expect(await b.complete('k', 'o', ok, 5_000)).toBe(true);
    const record = await a.get('k');
    expect(record?.status).toBe('COMPLETED');
    expect(Array.from(record?.response?.body ?? [])).toEqual([1, 2, 3]);
  });

  it('stores a UTF-8 body (sent as a string) and a binary one (sent as bytes) byte for byte', async () => {
    const prefix = `${runPrefix}bodies:`;
    const bodies = [
      new TextEncoder().encode('{"name":"Zoë","emoji":"🎉","nul":"\u0000"}'),
      new Uint8Array([0xe2, 0x82, 0xff, 0x00, 0x0d, 0x0a]),
    ];
    for (const [name, client] of clients) {
      const store = redisStore({ client: client(), prefix });
      for (const [i, body] of bodies.entries()) {
        const key = `${name}:${i}`;
        await store.claim(key, { owner: 'o', fingerprint: 'f', lockTtl: 5_000 });
        expect(await store.complete(key, 'o', { ...ok, body }, 5_000)).toBe(true);
        const raw = await admin.getBuffer(`${prefix}${key}`);
        expect(raw?.subarray(raw.length - body.length)).toEqual(Buffer.from(body));
        expect(Array.from((await store.get(key))?.response?.body ?? [])).toEqual(Array.from(body));
      }
    }
  });

  it('stores the record under prefix + key with Redis PX expiry', async () => {
    const prefix = `${runPrefix}layout:`;
    const store = redisStore({ client: io, prefix });
    await store.claim('k', { owner: 'o', fingerprint: 'f', lockTtl: 5_000 });
    const pttl = await admin.pttl(`${prefix}k`);
    expect(pttl).toBeGreaterThan(4_000);
    expect(pttl).toBeLessThanOrEqual(5_000);
    await store.complete('k', 'o', ok, 60_000);
    expect(await admin.pttl(`${prefix}k`)).toBeGreaterThan(55_000);
  });

  it('replaces a key of another Redis type or without expiry as unreadable', async () => {
    const prefix = `${runPrefix}types:`;
    const store = redisStore({ client: node, prefix });
    await admin.hset(`${prefix}hash`, 'a', '1');
    await admin.set(`${prefix}forever`, 'fl1P1:x1:f'); // a valid-looking record, no expiry
    for (const key of ['hash', 'forever']) {
      expect(await store.get(key)).toBeUndefined();
      expect(await store.complete(key, 'o', ok, 1000)).toBe(false);
      expect(await store.release(key, 'o')).toBe(false);
      const result = await store.claim(key, { owner: 'n', fingerprint: 'f', lockTtl: 5_000 });
      expect(result).toEqual({ claimed: true, previous: 'unreadable' });
      expect(await admin.pttl(`${prefix}${key}`)).toBeGreaterThan(0);
    }
  });

  it('claims with the pre-7.0 script once the server refuses SET … NX … GET', async () => {
    // Redis before 7.0 answers `ERR syntax error` to `SET key value NX PX ttl GET` (and runs
    // nothing): a client that refuses the first script it is sent stands in for such a server.
    const prefix = `${runPrefix}before7:`;
    const sent: string[] = [];
    let refused: string | undefined;
    // ioredis has both at run time; its types do not declare them.
    const real = io as unknown as Required<IoRedisClientLike>;
    const client = {
      evalshaBuffer: (sha: string, numKeys: number, ...args: (string | Buffer)[]) => {
        sent.push(sha);
        refused ??= sha;
        if (sha === refused) return Promise.reject(new Error('ERR syntax error'));
        return real.evalshaBuffer(sha, numKeys, ...args);
      },
      evalBuffer: (source: string, numKeys: number, ...args: (string | Buffer)[]) => {
        if (source.includes("'GET')")) return Promise.reject(new Error('ERR syntax error'));
        return real.evalBuffer(source, numKeys, ...args);
      },
    };
    const store = redisStore({ client, prefix });
    const claim = (key: string, owner: string) =>
      store.claim(key, { owner, fingerprint: 'f', lockTtl: 5_000 });
    // The first batch is refused as a whole; each of its claims is sent again, then settles.
    const first = await Promise.all([claim('a', 'o1'), claim('b', 'o2'), claim('a', 'o3')]);
    expect(first.map((result) => result.claimed)).toEqual([true, true, false]);
    expect(sent.filter((sha) => sha === refused)).toHaveLength(1);
    expect(await store.complete('a', 'o1', ok, 5_000)).toBe(true);
    const again = await claim('a', 'o4');
    expect(again).toMatchObject({ claimed: false, record: { status: 'COMPLETED' } });
    expect(await claim('c', 'o5')).toEqual({ claimed: true, previous: 'none' });
    // Never tried again on this store.
    expect(sent.filter((sha) => sha === refused)).toHaveLength(1);
    expect(await admin.pttl(`${prefix}c`)).toBeGreaterThan(4_000);
  });

  it('does not fall back on errors other than a refused SET … NX … GET', async () => {
    let calls = 0;
    const client = {
      evalshaBuffer: () => {
        calls++;
        return Promise.reject(new Error('OOM command not allowed when used memory > maxmemory'));
      },
      evalBuffer: () => Promise.reject(new Error('unexpected EVAL')),
    };
    const store = redisStore({ client });
    await expect(store.claim('k', { owner: 'o', fingerprint: 'f', lockTtl: 10 })).rejects.toThrow(
      /^OOM/,
    );
    expect(calls).toBe(1);
  });

  it('rejects when the server errors (not a silent false)', async () => {
    const broken = redisStore({
      client: { callBuffer: () => Promise.reject(new Error('ECONNRESET')) },
    });
    await expect(broken.claim('k', { owner: 'o', fingerprint: 'f', lockTtl: 10 })).rejects.toThrow(
      'ECONNRESET',
    );
    const weird = redisStore({ client: { callBuffer: async () => 'surprise' } });
    await expect(weird.release('k', 'o')).rejects.toThrow(/unexpected reply/);
    // A client that decodes bulk strings as text would corrupt bodies: refused loudly.
    const text = redisStore({ client: { callBuffer: async () => ['fl1C1:o1:f', 1000] } });
    await expect(text.get('k')).rejects.toThrow(/unexpected reply/);
  });
});

describe('redisStore: the calls of one turn in one script call (ioredis)', () => {
  const claim = (store: ReturnType<typeof redisStore>, key: string) =>
    store.claim(key, { owner: 'o', fingerprint: 'f', lockTtl: 1_000 });

  it('answers each call from its own part of the reply', async () => {
    const calls: unknown[][] = [];
    const client = {
      evalshaBuffer: async (...args: unknown[]) => {
        calls.push(args);
        return [0, 1, 0];
      },
      evalBuffer: async () => [],
    };
    const store = redisStore({ client, prefix: 'p:' });
    const results = await Promise.all(['a', 'b', 'c'].map((key) => claim(store, key)));
    expect(results.map((result) => result.claimed && result.previous)).toEqual([
      'none',
      'unreadable',
      'none',
    ]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.slice(1, 5)).toEqual([3, 'p:a', 'p:b', 'p:c']);
  });

  it('fails every call of a batch whose script call fails or answers the wrong shape', async () => {
    const failing = redisStore({
      client: {
        evalshaBuffer: () => Promise.reject(new Error('ECONNRESET')),
        evalBuffer: () => Promise.reject(new Error('ECONNRESET')),
      },
    });
    const failed = await Promise.allSettled(['a', 'b'].map((key) => claim(failing, key)));
    expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    const short = redisStore({
      client: { evalshaBuffer: async () => [0], evalBuffer: async () => [0] },
    });
    const wrong = await Promise.allSettled(['a', 'b'].map((key) => claim(short, key)));
    for (const result of wrong) {
      expect(result.status).toBe('rejected');
      expect(String((result as PromiseRejectedResult).reason)).toMatch(/unexpected reply/);
    }
  });

  it('sends one key per call with coalesceWrites: false, and on an ioredis Cluster', async () => {
    for (const [client, options] of [
      [
        { evalshaBuffer: vi.fn(async () => [0]), evalBuffer: async () => [0] },
        { coalesceWrites: false },
      ],
      [{ evalshaBuffer: vi.fn(async () => [0]), evalBuffer: async () => [0], isCluster: true }, {}],
    ] as const) {
      const store = redisStore({ client: client as IoRedisClientLike, ...options });
      await Promise.all(['a', 'b'].map((key) => claim(store, key)));
      expect(client.evalshaBuffer).toHaveBeenCalledTimes(2);
    }
  });
});

describe('redisStore: options', () => {
  const client = { callBuffer: async () => 0 };

  it('requires options with a client', () => {
    expect(() => redisStore(undefined as never)).toThrow(TypeError);
    expect(() => redisStore(null as never)).toThrow(TypeError);
    expect(() => redisStore({} as never)).toThrow(TypeError);
    expect(() => redisStore({ client: 'redis://x' as never })).toThrow(
      /redisStore: option "client" must be an ioredis client/,
    );
    expect(() => redisStore({ client: { sendCommand() {} } as never })).toThrow(TypeError);
  });

  it('validates prefix (type and range)', () => {
    expect(() => redisStore({ client, prefix: 1 as never })).toThrow(TypeError);
    expect(() => redisStore({ client, prefix: 1 as never })).toThrow(/option "prefix"/);
    expect(() => redisStore({ client, prefix: '' })).toThrow(RangeError);
    expect(() => redisStore({ client, prefix: 'x'.repeat(257) })).toThrow(RangeError);
    expect(redisStore({ client }).prefix).toBe('faultline:idem:');
  });

  it('routes a node-redis cluster by key to the master', async () => {
    const calls: unknown[][] = [];
    const cluster = {
      getSlotMaster: () => ({}),
      sendCommand: async (...args: unknown[]) => {
        calls.push(args);
        return 1;
      },
    };
    const store = redisStore({ client: cluster, prefix: 'p:' });
    expect(store.clientKind).toBe('node-redis-cluster');
    expect(await store.release('k', 'o')).toBe(true);
    const [firstKey, readonly, args] = calls[0] as [Buffer, boolean, unknown[]];
    expect(firstKey.toString()).toBe('p:k');
    expect(readonly).toBe(false);
    expect(args[0]).toBe('EVALSHA');
  });
});
