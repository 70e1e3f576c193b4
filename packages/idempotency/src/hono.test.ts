import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { honoIdempotency } from './hono.js';
import { createIdempotency } from './idempotency.js';
import { memoryStore } from './stores/memory.js';
import { postAgain, postAndCut } from './testing/abort-matrix.js';
import { closeServer, describeHttpScenarios } from './testing/http-scenarios.js';

describeHttpScenarios(
  'Hono',
  async (idempotency, routes) => {
    const app = new Hono();
    app.use('*', honoIdempotency(idempotency));
    app.all('/:route', async (c) => {
      const isJson = c.req.header('content-type')?.includes('json') === true;
      const body = isJson ? await c.req.json().catch(() => undefined) : undefined;
      const answer = await routes.handle(
        c.req.param('route'),
        body,
        new URL(c.req.url).searchParams,
      );
      const headers = new Headers();
      for (const [name, value] of Object.entries(answer.headers)) {
        for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
      }
      if ('stream' in answer) {
        let index = 0;
        const stream = new ReadableStream<Uint8Array>({
          async pull(controller) {
            await new Promise((resolve) => setImmediate(resolve));
            const chunk = answer.stream[index++];
            if (chunk === undefined) controller.close();
            else controller.enqueue(chunk);
          },
        });
        return new Response(stream, { status: answer.status, headers });
      }
      return new Response(answer.body as BodyInit, { status: answer.status, headers });
    });
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
        resolve(s as Server),
      );
    });
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
  },
  { describe, it },
);

/** A streamed 200 text response: `part-1;` … `part-<count>;`, `gap` ms between parts. */
function partsResponse(count: number, gap = 0): Response {
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (gap > 0 && i > 0) await new Promise((resolve) => setTimeout(resolve, gap));
      if (i++ < count) controller.enqueue(new TextEncoder().encode(`part-${i};`));
      else controller.close();
    },
  });
  return new Response(stream, { status: 200, headers: { 'content-type': 'text/plain' } });
}

describe('honoIdempotency specifics', () => {
  it('validates its argument', () => {
    expect(() => honoIdempotency({} as never)).toThrow(TypeError);
  });

  it('completes the record even when the client cancels a streamed body', async () => {
    const idempotency = createIdempotency({ store: memoryStore(), scope: () => 'u' });
    const app = new Hono();
    app.use('*', honoIdempotency(idempotency));
    let calls = 0;
    app.post('/stream', () => {
      calls++;
      return partsResponse(20);
    });
    const request = () =>
      app.request('/stream', { method: 'POST', headers: { 'idempotency-key': 'k' }, body: 'x' });
    const first = await request();
    await first.body?.cancel();
    let replay: Response | undefined;
    for (let i = 0; i < 500; i++) {
      replay = await request();
      if (replay.headers.get('idempotent-replayed') === 'true') break;
      await replay.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(replay?.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay?.text()).toBe(
      Array.from({ length: 20 }, (_, i) => `part-${i + 1};`).join(''),
    );
    expect(calls).toBe(1);
  });
});

describe('honoIdempotency: a client that goes away (issue 14)', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  async function serveHono(app: Hono): Promise<{ url: string; close: () => Promise<void> }> {
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
        resolve(s as Server),
      );
    });
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
  }
  it('item 2: a client that leaves during a streamed response: the retry never executes the handler again', async () => {
    const idempotency = createIdempotency({
      store: memoryStore(),
      scope: () => 'u',
      lockTtl: 3_000,
    });
    const app = new Hono();
    app.use('*', honoIdempotency(idempotency));
    let calls = 0;
    app.post('/stream', () => {
      calls++;
      return partsResponse(6, 20);
    });
    const { url, close } = await serveHono(app);
    try {
      await postAndCut(url, '/stream', 'k');
      let reply = await postAgain(url, '/stream', 'k');
      for (let i = 0; i < 200 && reply.status === 409; i++) {
        await reply.arrayBuffer();
        await sleep(20);
        reply = await postAgain(url, '/stream', 'k');
      }
      expect(calls).toBe(1);
      expect(reply.headers.get('idempotent-replayed')).toBe('true');
      expect(await reply.text()).toBe('part-1;part-2;part-3;part-4;part-5;part-6;');
    } finally {
      await close();
    }
  });

  it('item 4: a hung handler whose client left: a retry takes over after lockTtl, as on the other adapters', async () => {
    const idempotency = createIdempotency({ store: memoryStore(), scope: () => 'u', lockTtl: 600 });
    const app = new Hono();
    app.use('*', honoIdempotency(idempotency));
    let calls = 0;
    app.post('/hang', async (c) => {
      calls++;
      if (calls === 1) await new Promise(() => {});
      return c.json({ ok: true }, 201);
    });
    const { url, close } = await serveHono(app);
    try {
      await postAndCut(url, '/hang', 'k', { until: () => calls === 1 });
      await sleep(1_000);
      const reply = await postAgain(url, '/hang', 'k');
      expect(reply.status).toBe(201);
      expect(calls).toBe(2);
    } finally {
      await close();
    }
  });
});
