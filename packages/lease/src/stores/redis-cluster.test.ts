import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary, startRedisServer, type ThrowawayRedis } from '@faultline/test-support';
import { Cluster, Redis } from 'ioredis';
import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FencedOutError } from '../lease-errors.js';
import { redisLeaseStore } from './redis.js';
import { fencedEval, fencedScript, fencedSet } from './redis-fence.js';

// Redis Cluster: a single-node cluster of this file's own (all 16 384 slots on one throwaway
// redis-server). Redis refuses a script whose keys hash to different slots (CROSSSLOT) even when
// one node serves them all, so this checks that a resource's two keys share a slot (the hash tag
// `{resource}`), and that the cluster clients (ioredis Cluster, node-redis createCluster) work.

const hasRedisServer = requireBinary('redis-server');

describe.skipIf(!hasRedisServer)('redisLeaseStore on Redis Cluster', () => {
  let server: ThrowawayRedis;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fl-lease-cluster-'));
    server = await startRedisServer([
      '--cluster-enabled',
      'yes',
      '--cluster-announce-ip', // else CLUSTER SLOTS names the node "" and ioredis cannot reach it
      '127.0.0.1',
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      '--dir',
      dir,
    ]);
    const admin = new Redis(server.url);
    await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    for (let i = 0; ; i++) {
      if (String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) break;
      if (i > 200) throw new Error('the cluster never became ok');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    admin.disconnect();
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('a plain multi-key script without a shared hash tag is refused (the check is real)', async () => {
    const client = new Redis(server.url);
    try {
      await expect(client.eval('return 1', 2, 'a', 'b')).rejects.toThrow(/CROSSSLOT/);
    } finally {
      client.disconnect();
    }
  });

  const kinds = [
    {
      kind: 'ioredis Cluster',
      async make() {
        const client = new Cluster([{ host: '127.0.0.1', port: server.port }]);
        client.on('error', () => {});
        await client.ping();
        return { client, close: () => client.disconnect() };
      },
    },
    {
      kind: 'node-redis createCluster',
      async make() {
        const client = createCluster({ rootNodes: [{ url: server.url }] });
        client.on('error', () => {});
        await client.connect();
        return { client, close: () => void client.destroy() };
      },
    },
  ] as const;

  for (const { kind, make } of kinds) {
    it(`acquire, renew, release and the fences work (${kind})`, async () => {
      const { client, close } = await make();
      try {
        const store = redisLeaseStore({ client, prefix: 'cluster:' });
        expect(store.clientKind).toBe(
          kind.startsWith('ioredis') ? 'ioredis' : 'node-redis-cluster',
        );
        for (const resource of ['jobs', 'a}b', '{x}y']) {
          const grant = (await store.acquire(resource, 'o', 1_000)) as { token: bigint };
          expect(grant.token).toBeTypeOf('bigint');
          expect(await store.acquire(resource, 'p', 1_000)).toMatchObject({ held: true });
          expect(await store.renew(resource, 'o', grant.token, 1_000)).toBe(true);
          expect(await store.release(resource, 'o', grant.token)).toBe(true);
        }
        await fencedSet(client, { key: `fence:${kind}`, value: 'v', token: 5n });
        await expect(
          fencedSet(client, { key: `fence:${kind}`, value: 'old', token: 4n }),
        ).rejects.toBeInstanceOf(FencedOutError);
        const push = fencedScript(`return redis.call('RPUSH', KEYS[2], ARGV[2])`);
        const tag = `{log-${kind}}`;
        expect(
          Number(
            await fencedEval(client, {
              key: `${tag}:fence`,
              token: 1n,
              script: push,
              keys: [`${tag}:entries`],
              args: ['x'],
            }),
          ),
        ).toBe(1);
      } finally {
        close();
      }
    }, 20_000);
  }
});
