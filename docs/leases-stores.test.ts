/**
 * The PostgreSQL, Redis and leader-election blocks of docs/guides/leases.md, run against real
 * servers (REDIS_URL / DATABASE_URL; skipped loudly without them, failing under CI=true). The
 * blocks run as written except for names: the shared database and Redis serve several test files
 * and engineers at once, so every table, key prefix and key gets this run's unique suffix (the
 * substitutions are listed with each case), and the one-statement SQL is run as the page shows it.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { VirtualClock } from '@faultline/clock';
import { serviceUrl } from '@faultline/test-support';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { codeBlock, codeBlocks, loadBlock, root } from './pipelines/harness.js';

const page = 'docs/guides/leases.md';
// pg and ioredis are the lease package's dev dependencies, not the root's.
const require = createRequire(join(root, 'packages', 'lease', 'package.json'));

const postgresUrl = await serviceUrl('postgres');
const redisUrl = await serviceUrl('redis');
const run = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

interface PgPool {
  query(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
  end(): Promise<void>;
}

/** `code` with each `[from, to]` replaced, every one of them required to occur. */
function renamed(code: string, pairs: ReadonlyArray<readonly [string, string]>): string {
  let out = code;
  for (const [from, to] of pairs) {
    expect(out, `the block contains ${from}`).toContain(from);
    out = out.replaceAll(from, to);
  }
  return out;
}

const globals = globalThis as { pool?: unknown; redis?: unknown };

// The leader-election block logs its demotion (stop() releases the lease): keep the output clean.
let spies: Array<{ mockRestore(): void }> = [];
beforeEach(() => {
  spies = (['warn', 'error'] as const).map((m) =>
    vi.spyOn(console, m).mockImplementation(() => {}),
  );
});
afterEach(() => {
  for (const spy of spies) spy.mockRestore();
});

describe.skipIf(postgresUrl === undefined)('docs/guides/leases.md on PostgreSQL', () => {
  let pool: PgPool;
  const orders = `fl_doc_orders_${run}`;
  const leases = `fl_doc_lease_${run}`;
  const fences = `fl_doc_fence_${run}`;

  beforeAll(async () => {
    const pg = require('pg') as { Pool: new (options: object) => PgPool };
    pool = new pg.Pool({ connectionString: postgresUrl, max: 4 });
    await pool.query(`CREATE TABLE ${orders} (id int PRIMARY KEY, total bigint NOT NULL)`);
    await pool.query(`INSERT INTO ${orders} (id, total) VALUES (1, 0)`);
    globals.pool = pool;
  });
  afterAll(async () => {
    delete globals.pool;
    for (const table of [orders, leases, fences]) await pool.query(`DROP TABLE IF EXISTS ${table}`);
    await pool.end();
  });

  it('fencedTransaction: each holder increments under its token; a lower token is refused', async () => {
    // Substitutions: the store's and the fence's tables, and the orders table.
    const block = codeBlock(page, 'fencedTransaction(pool,');
    const code = renamed(block.code, [
      ['postgresLeaseStore({ pool })', `postgresLeaseStore({ pool, table: '${leases}' })`],
      [
        "{ resource: 'orders-summary', token: held.token }",
        `{ resource: 'orders-summary', token: held.token, table: '${fences}' }`,
      ],
      ['orders_summary', orders],
    ]);
    await loadBlock({ ...block, code }, [], new VirtualClock());
    await loadBlock({ ...block, code }, [], new VirtualClock());
    const { rows } = await pool.query(`SELECT total::int AS total FROM ${orders} WHERE id = 1`);
    expect(rows[0]?.total).toBe(2);
    // The fence recorded the second grant's token: the first grant's is refused now.
    const recorded = await pool.query(`SELECT fence::text AS fence FROM ${fences}`);
    const highest = BigInt(String(recorded.rows[0]?.fence));
    const { fencedTransaction } = await import('@faultline/lease/postgres');
    const { FencedOutError } = await import('@faultline/lease');
    const late = fencedTransaction(
      pool as never,
      { resource: 'orders-summary', token: highest - 1n, table: fences },
      async (db) => db.query(`UPDATE ${orders} SET total = 99 WHERE id = 1`),
    );
    await expect(late).rejects.toBeInstanceOf(FencedOutError);
    expect((await pool.query(`SELECT total::int AS total FROM ${orders}`)).rows[0]?.total).toBe(2);
  });

  it('the one-statement form: 0 rows updated for a lower token', async () => {
    const sql = codeBlocks(page).find((b) => b.lang === 'sql')!.code;
    const [alter, update] = sql
      .split('\n')
      .filter((line) => !line.startsWith('--'))
      .map((line) => line.replaceAll('orders_summary', orders).replace(/;$/, ''));
    expect(alter).toMatch(/^ALTER TABLE/);
    expect(update).toMatch(/^UPDATE .* WHERE id = \$1 AND fence <= \$2$/);
    await pool.query(alter!);
    const before = Number((await pool.query(`SELECT total FROM ${orders}`)).rows[0]?.total);
    expect((await pool.query(update!, [1, '34'])).rowCount).toBe(1);
    expect((await pool.query(update!, [1, '33'])).rowCount).toBe(0); // the paused holder
    expect((await pool.query(update!, [1, '34'])).rowCount).toBe(1); // the holder, again
    const after = await pool.query(
      `SELECT total::int AS total, fence::int AS fence FROM ${orders}`,
    );
    expect(after.rows[0]).toEqual({ total: before + 2, fence: 34 });
  });
});

describe.skipIf(redisUrl === undefined)('docs/guides/leases.md on Redis', () => {
  let redis: {
    keys(p: string): Promise<string[]>;
    del(...k: string[]): Promise<number>;
    hget(k: string, f: string): Promise<string | null>;
    disconnect(): void;
  };
  const prefix = `faultline:test:docs-leases:${run}:`;
  const tag = `docs-leases-${run}`;

  beforeAll(() => {
    const { Redis } = require('ioredis') as { Redis: new (url: string) => typeof redis };
    redis = new Redis(redisUrl!);
    globals.redis = redis;
  });
  afterAll(async () => {
    delete globals.redis;
    const keys = [...(await redis.keys(`${prefix}*`)), ...(await redis.keys(`{${tag}}*`))];
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  /**
   * The page's block that contains `anchor`, on this run's keys: the store's key prefix, and the
   * fenced key `key` ('{report}:daily') in this run's hash tag ('{<tag>}:daily').
   */
  const onThisRun = (anchor: string, key: string) => {
    const block = codeBlock(page, anchor);
    const fenced = key.replace(/^\{[^}]*\}/, `{${tag}}`);
    const code = renamed(block.code, [
      [
        'redisLeaseStore({ client: redis })',
        `redisLeaseStore({ client: redis, prefix: '${prefix}' })`,
      ],
      [key, fenced],
    ]);
    return { ...block, code };
  };

  it('fencedGet + fencedSet under the lease: two holders count to 2', async () => {
    const block = onThisRun("key: '{report}:daily'", '{report}:daily');
    await loadBlock(block, [], new VirtualClock());
    await loadBlock(block, [], new VirtualClock());
    expect(await redis.hget(`{${tag}}:daily`, 'value')).toBe('2');
  });

  it('leader election: the elected leader writes its plan under its token, stop() releases', async () => {
    // The block's SIGTERM hook is removed afterwards.
    const block = onThisRun('const election = leaderElection({', '{scheduler}:plan');
    const hooks = new Set(process.listeners('SIGTERM'));
    const module = await loadBlock(block, ['election'], new VirtualClock());
    const election = module.election as { isLeader: boolean; stop(): Promise<void> };
    try {
      const deadline = Date.now() + 10_000;
      let plan: string | null = null;
      while (plan === null && Date.now() < deadline) {
        plan = await redis.hget(`{${tag}}:plan`, 'value');
        if (plan === null) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(election.isLeader).toBe(true);
      expect(JSON.parse(plan!)).toMatchObject({ leader: expect.stringMatching(/^[0-9]+$/) });
    } finally {
      await election.stop();
      for (const hook of process.listeners('SIGTERM')) {
        if (!hooks.has(hook)) process.removeListener('SIGTERM', hook);
      }
    }
    expect(election.isLeader).toBe(false);
  });
});
