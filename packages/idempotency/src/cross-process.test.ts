import { fileURLToPath } from 'node:url';
import { type NodeChild, serviceUrl, startNode } from '@faultline/test-support';
import { Redis } from 'ioredis';
import pg, { type Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Two real server processes (node:http + withIdempotency over the built dist/, built by the Vitest
// global setup) share one store
// over real loopback sockets. Exactly-once is proven by a counter in the same store that the
// handler increments ("started" on entry, "done" before answering).

const redisUrl = await serviceUrl('redis');
const postgresUrl = await serviceUrl('postgres');
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const app = fileURLToPath(new URL('./testing/fixtures-stores/app.mjs', import.meta.url));
const run = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const LOCK_TTL = 1_500;
const CLIENT_TIMEOUT = 15_000;

interface App {
  readonly url: string;
  readonly child: NodeChild;
  readonly pid: number;
}

const apps: App[] = [];

async function startApp(env: Record<string, string>): Promise<App> {
  const child = startNode({
    file: app,
    cwd: repo,
    env: { LOCK_TTL: String(LOCK_TTL), STORE_TIMEOUT: '3000', ...env },
  });
  const [line] = await child.waitFor(/^.*\n/, 20_000);
  const { port } = JSON.parse(line) as { port: number };
  const started = { url: `http://127.0.0.1:${port}`, child, pid: child.process.pid ?? -1 };
  apps.push(started);
  return started;
}

async function stopApp(target: App): Promise<void> {
  await target.child.stop();
}

interface Reply {
  readonly status: number;
  readonly replayed: boolean;
  readonly pid: number | undefined;
}

async function post(target: App, key: string, delay = 0): Promise<Reply> {
  const response = await fetch(`${target.url}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key, 'x-delay': `${delay}` },
    body: JSON.stringify({ item: 'book', key }),
    signal: AbortSignal.timeout(CLIENT_TIMEOUT),
  });
  const text = await response.text();
  const pid = response.status === 201 ? (JSON.parse(text) as { pid: number }).pid : undefined;
  return {
    status: response.status,
    replayed: response.headers.get('idempotent-replayed') === 'true',
    pid,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Retries a key until it stops answering 409 (then it must be a replay or an execution). */
async function settle(target: App, key: string): Promise<Reply> {
  for (let i = 0; i < 200; i++) {
    const reply = await post(target, key);
    if (reply.status !== 409) return reply;
    await sleep(25);
  }
  throw new Error(`${key} still 409 after 200 retries`);
}

interface Counter {
  get(key: string, phase: 'started' | 'done'): Promise<number>;
}

function describeSharedStore(
  name: string,
  available: boolean,
  setup: () => Promise<{
    envA: Record<string, string>;
    envB: Record<string, string>;
    counter: Counter;
  }>,
): void {
  describe.skipIf(!available)(`cross-process: ${name}`, () => {
    let a: App;
    let b: App;
    let counter: Counter;

    beforeAll(async () => {
      const config = await setup();
      counter = config.counter;
      [a, b] = await Promise.all([startApp(config.envA), startApp(config.envB)]);
    }, 60_000);

    afterAll(async () => {
      await Promise.all(apps.splice(0).map(stopApp));
    });

    it('100 rounds of concurrent same-key requests split across two processes execute exactly once each', async () => {
      const rounds = 100;
      const executedBy = new Map<number, number>();
      const conflicts = { count: 0 };
      const round = async (i: number): Promise<void> => {
        const key = `${run}-race-${i}`;
        // Alternate who is asked first so that neither process is systematically ahead.
        const order = i % 2 === 0 ? [a, b, a, b] : [b, a, b, a];
        const replies = await Promise.all(order.map((target) => post(target, key, 30)));
        const executed = replies.filter((reply) => reply.status === 201 && !reply.replayed);
        for (const reply of replies) {
          expect([201, 409]).toContain(reply.status);
          if (reply.status === 409) conflicts.count++;
        }
        expect(executed.length, `round ${i}: exactly one execution`).toBe(1);
        // Whoever lost the race retries until it gets the stored response.
        const final = await settle(order[1]!, key);
        expect(final).toMatchObject({ status: 201, replayed: true });
        const winner = executed[0]!;
        executedBy.set(winner.pid!, (executedBy.get(winner.pid!) ?? 0) + 1);
        expect(await counter.get(key, 'started'), `round ${i} started`).toBe(1);
        expect(await counter.get(key, 'done'), `round ${i} done`).toBe(1);
      };
      // 10 rounds at a time: 40 requests in flight across both processes.
      for (let start = 0; start < rounds; start += 10) {
        await Promise.all(Array.from({ length: 10 }, (_, j) => round(start + j)));
      }
      const total = [...executedBy.values()].reduce((sum, n) => sum + n, 0);
      expect(total).toBe(rounds);
      console.info(
        `[${name}] executions per process: ${JSON.stringify(Object.fromEntries(executedBy))}, 409s: ${conflicts.count}`,
      );
    }, 120_000);

    it('SIGKILL of the owner mid-handler: the other instance answers 409 until the lock expires, then executes once', async () => {
      const key = `${run}-crash`;
      const sentAt = performance.now();
      const doomed = post(a, key, 60_000).catch((error: unknown) => error);
      // Wait until the handler is running on A (it holds the lock).
      for (let i = 0; (await counter.get(key, 'started')) === 0; i++) {
        if (i > 400) throw new Error('the handler never started on A');
        await sleep(10);
      }
      await stopApp(a);
      const killedAt = performance.now();
      expect(await doomed).toBeInstanceOf(Error); // A's client lost its connection.

      let conflicts = 0;
      let executedAt = 0;
      const outcomes: Reply[] = [];
      while (executedAt === 0) {
        // Three concurrent retries per tick on the surviving instance.
        const replies = await Promise.all([post(b, key), post(b, key), post(b, key)]);
        for (const reply of replies) {
          if (reply.status === 409) conflicts++;
          else outcomes.push(reply);
        }
        if (outcomes.length > 0) executedAt = performance.now();
        else await sleep(50);
        expect(performance.now() - killedAt).toBeLessThan(LOCK_TTL + 10_000);
      }
      expect(conflicts).toBeGreaterThan(0);
      // The lock (lockTtl, renewed every lockTtl/3 while A lived) expired on the store's clock:
      // no success before sentAt + LOCK_TTL, and not long after the kill + LOCK_TTL.
      expect(executedAt - sentAt).toBeGreaterThanOrEqual(LOCK_TTL - 20);
      expect(executedAt - killedAt).toBeLessThan(LOCK_TTL + 5_000);
      const executions = outcomes.filter((reply) => reply.status === 201 && !reply.replayed);
      expect(executions).toHaveLength(1);
      // The adapter answers before its completion write lands, so a retry right after may
      // still see IN_PROGRESS (409) for a moment: settle, then it must be a replay.
      for (const reply of await Promise.all([settle(b, key), settle(b, key)])) {
        expect(reply).toMatchObject({ status: 201, replayed: true });
      }
      expect(await counter.get(key, 'started')).toBe(2); // A (killed) and B
      expect(await counter.get(key, 'done')).toBe(1); // only B finished
    }, 60_000);
  });
}

let redisAdmin: Redis | undefined;
const redisPrefix = `faultline:test:xproc:${run}:`;
afterAll(async () => {
  if (redisAdmin !== undefined) {
    const keys = await redisAdmin.keys(`${redisPrefix}*`);
    if (keys.length > 0) await redisAdmin.del(...keys);
    redisAdmin.disconnect();
  }
});

describeSharedStore(
  'Redis (ioredis in one process, node-redis in the other)',
  redisUrl !== undefined,
  async () => {
    redisAdmin = new Redis(redisUrl!);
    const common = {
      STORE_URL: redisUrl!,
      PREFIX: `${redisPrefix}idem:`,
      COUNTER: `${redisPrefix}count:`,
    };
    return {
      envA: { ...common, STORE: 'ioredis' },
      envB: { ...common, STORE: 'node-redis' },
      counter: {
        get: async (key, phase) =>
          Number((await redisAdmin!.get(`${common.COUNTER}${key}:${phase}`)) ?? 0),
      },
    };
  },
);

let pgAdmin: Pool | undefined;
const table = `fl_xproc_${run}`;
afterAll(async () => {
  if (pgAdmin !== undefined) {
    await pgAdmin.query(`DROP TABLE IF EXISTS "${table}", "${table}_count"`);
    await pgAdmin.end();
  }
});

describeSharedStore('PostgreSQL', postgresUrl !== undefined, async () => {
  pgAdmin = new pg.Pool({ connectionString: postgresUrl!, max: 2 });
  pgAdmin.on('error', () => {});
  await pgAdmin.query(
    `CREATE TABLE "${table}_count" (key text, phase text, n integer NOT NULL, PRIMARY KEY (key, phase))`,
  );
  const env = {
    STORE: 'postgres',
    STORE_URL: postgresUrl!,
    TABLE: table,
    COUNTER: `${table}_count`,
  };
  return {
    envA: { ...env, APP_NAME: `fl_xproc_a_${run}` },
    envB: { ...env, APP_NAME: `fl_xproc_b_${run}` },
    counter: {
      get: async (key, phase) => {
        const { rows } = await pgAdmin!.query(
          `SELECT n FROM "${table}_count" WHERE key = $1 AND phase = $2`,
          [key, phase],
        );
        return Number(rows[0]?.n ?? 0);
      },
    },
  };
});
