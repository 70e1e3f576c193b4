import { connect, createServer, type Server, type Socket } from 'node:net';
import { serviceUrl } from '@faultline/test-support';
import pg, { type Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdempotency } from '../idempotency.js';
import { postgresStore } from './postgres.js';

// A claim that stalls on the network (issue 14, item 6): the core gives up after storeTimeout
// and answers 503 "not executed, retry", and cleans up on another pool connection at once. The
// stalled claim can land after that clean-up. It must not then hold the key for a whole lockTtl
// (every retry 409). The stall is a TCP proxy of our own between the pool and PostgreSQL that
// holds back one connection's bytes: nothing of the shared server is paused.

const url = await serviceUrl('postgres');
const run = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const table = `fl_stall_${run}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A loopback TCP proxy whose connections can be stalled (client → server bytes held back). */
class StallingProxy {
  readonly #server: Server;
  readonly #links = new Set<{ client: Socket; upstream: Socket; held: Buffer[] | undefined }>();

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(target: URL): Promise<{ proxy: StallingProxy; port: number }> {
    let proxy!: StallingProxy;
    const server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      const link = { client, upstream, held: undefined as Buffer[] | undefined };
      proxy.#links.add(link);
      client.on('data', (chunk: Buffer) => {
        if (link.held === undefined) upstream.write(chunk);
        else link.held.push(chunk);
      });
      upstream.on('data', (chunk: Buffer) => client.write(chunk));
      const close = (): void => {
        proxy.#links.delete(link);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', close);
      upstream.on('close', close);
      client.on('error', close);
      upstream.on('error', close);
    });
    proxy = new StallingProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    return { proxy, port: typeof address === 'object' && address !== null ? address.port : 0 };
  }

  /** Holds back what the connections open now send; new connections are not stalled. */
  stallExisting(): void {
    for (const link of this.#links) link.held ??= [];
  }

  /** Forwards everything held back, in order. */
  resume(): void {
    for (const link of this.#links) {
      const held = link.held;
      link.held = undefined;
      for (const chunk of held ?? []) link.upstream.write(chunk);
    }
  }

  get connections(): number {
    return this.#links.size;
  }

  async close(): Promise<void> {
    for (const link of this.#links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    await new Promise((resolve) => this.#server.close(resolve));
  }
}

describe.skipIf(url === undefined)(
  'postgresStore: a stalled claim that lands late (issue 14, item 6)',
  () => {
    let admin: Pool;
    let pool: Pool;
    let proxy: StallingProxy;

    beforeAll(async () => {
      admin = new pg.Pool({ connectionString: url!, max: 2 });
      admin.on('error', () => {});
      await postgresStore({ pool: admin, table }).ensureTable();
      const started = await StallingProxy.start(new URL(url!));
      proxy = started.proxy;
      const proxied = new URL(url!);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(started.port);
      pool = new pg.Pool({ connectionString: proxied.href, max: 4 });
      pool.on('error', () => {});
    });

    afterAll(async () => {
      proxy?.resume();
      await pool?.end().catch(() => {});
      await proxy?.close();
      await admin.query(`DROP TABLE IF EXISTS "${table}"`);
      await admin.end();
    });

    it('item 6: a claim that landed after its clean-up does not lock the key: the retry executes', async () => {
      const store = postgresStore({ pool, table, createTable: false });
      const idempotency = createIdempotency({
        store,
        scope: () => 'stall',
        storeTimeout: 300,
        lockTtl: 30_000, // a stuck lock would outlive the test
        logger: false,
      });
      const request = (key: string) => ({
        method: 'POST',
        path: '/pay',
        headers: { 'idempotency-key': key },
        body: 'amount=10',
      });
      const keys = ['a', 'b', 'c'];
      for (const key of keys) {
        // One idle pooled connection; stall it, so the claim's bytes wait in the proxy.
        await pool.query('SELECT 1');
        proxy.stallExisting();
        const first = await idempotency.begin(request(key));
        expect(first.kind === 'reject' ? first.response.status : first.kind).toBe(503);
        // The clean-up went over a fresh, unstalled connection; let it land, then the claim.
        await sleep(300);
        proxy.resume();
        await sleep(300);
        const retry = await idempotency.begin(request(key));
        expect(retry.kind === 'reject' ? retry.problem.code : retry.kind).toBe('execute');
      }
      expect(proxy.connections).toBeGreaterThan(1);
    }, 30_000);
  },
);
