import { createServer } from 'node:http';
import { pipeline } from 'node:stream/promises';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { expressIdempotency } from './express.js';
import { createIdempotency } from './idempotency.js';
import type { Idempotency } from './server-types.js';
import type { Store } from './store.js';
import { memoryStore } from './stores/memory.js';
import { assertCutResponseUnavailable, slowParts } from './testing/abort-matrix.js';
import {
  assertBodyTooLarge,
  closeServer,
  describeHttpScenarios,
  listen,
  running,
  withServer,
  writeChunks,
} from './testing/http-scenarios.js';

/** Sends JSON bodies to `url` by POST, each with the same idempotency key `k`. */
function keyedJsonPost(url: string): (body: string) => Promise<Response> {
  return (body) =>
    fetch(url, {
      method: 'POST',
      headers: { 'idempotency-key': 'k', 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(10_000),
    });
}

/** An Express app with `express.json()`, then the adapter, ahead of the routes a test adds. */
function jsonApp(idempotency: Idempotency): express.Express {
  const app = express();
  app.use(express.json());
  app.use(expressIdempotency(idempotency));
  return app;
}

describeHttpScenarios(
  'Express 5',
  async (idempotency, routes) => {
    const app = express();
    // Above the adapter's 1 MiB, so that the body-limit scenario meets the adapter's limit.
    app.use(express.json({ limit: '5mb' }));
    app.use(expressIdempotency(idempotency));
    app.all('/:route', async (req, res) => {
      const query = new URLSearchParams(req.url.split('?')[1] ?? '');
      const answer = await routes.handle(String(req.params.route), req.body, query);
      res.status(answer.status);
      for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
      if ('stream' in answer) {
        await writeChunks(res, answer.stream);
      } else {
        res.send(Buffer.from(answer.body));
      }
    });
    const server = createServer(app);
    return running(server);
  },
  { describe, it },
);

describe('expressIdempotency without a body parser', () => {
  it('reads the body itself, sets req.body (parsed JSON) and fingerprints it', async () => {
    const idempotency = createIdempotency({ store: memoryStore(), scope: () => 'u' });
    const app = express();
    app.use(expressIdempotency(idempotency));
    let calls = 0;
    app.post('/echo', (req, res) => {
      calls++;
      res.status(201).json({ got: req.body, raw: (req as { rawBody?: Buffer }).rawBody?.length });
    });
    const server = createServer(app);
    const url = await listen(server);
    const post = keyedJsonPost(`${url}/echo`);
    try {
      const first = await post('{"a":1}');
      expect(await first.json()).toEqual({ got: { a: 1 }, raw: 7 });
      // The completion is written just after the response: retry until it is replayed.
      for (
        let i = 0;
        i < 500 && (await post('{ "a" : 1 }')).headers.get('idempotent-replayed') !== 'true';
        i++
      ) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(calls).toBe(1);
      expect((await post('{"a":2}')).status).toBe(422);
    } finally {
      await closeServer(server);
    }
  });

  it("fingerprints a parser's req.rawBody (its own bytes) over the parsed req.body", async () => {
    // A `verify` hook that keeps the raw bytes: duplicate members are told apart in the bytes
    // ({"a":1,"a":2} is not {"a":2}), though both parse to the same req.body.
    const idempotency = createIdempotency({ store: memoryStore(), scope: () => 'u' });
    const app = express();
    app.use(
      express.json({
        verify: (req, _res, buf) => {
          (req as { rawBody?: Buffer }).rawBody = buf;
        },
      }),
    );
    app.use(expressIdempotency(idempotency));
    let calls = 0;
    app.post('/echo', (req, res) => {
      calls++;
      res.status(201).json({ got: req.body });
    });
    const server = createServer(app);
    const url = await listen(server);
    const post = keyedJsonPost(`${url}/echo`);
    try {
      expect(await (await post('{"a":1,"a":2}')).json()).toEqual({ got: { a: 2 } });
      let retry = await post('{"a":1,"a":2}');
      for (let i = 0; i < 500 && retry.headers.get('idempotent-replayed') !== 'true'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        retry = await post('{"a":1,"a":2}');
      }
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect((await post('{"a":2}')).status).toBe(422);
      expect(calls).toBe(1);
    } finally {
      await closeServer(server);
    }
  });

  it('answers 413 BODY_TOO_LARGE past maxBodyBytes, handler not run', async () => {
    const idempotency = createIdempotency({ store: memoryStore(), scope: () => 'u' });
    const app = express();
    app.use(expressIdempotency(idempotency, { maxBodyBytes: 16 }));
    let calls = 0;
    app.post('/echo', (_req, res) => {
      calls++;
      res.status(201).end();
    });
    const server = createServer(app);
    await withServer(server, async (url) => {
      await assertBodyTooLarge(url, '/echo', () => calls);
    });
  });

  it('validates its arguments', () => {
    const idempotency = createIdempotency({ store: memoryStore(), scope: () => 'u' });
    expect(() => expressIdempotency({} as never)).toThrow(TypeError);
    expect(() => expressIdempotency(idempotency, { maxBodyBytes: 'big' as never })).toThrow(
      TypeError,
    );
    expect(() => expressIdempotency(idempotency, { maxBodyBytes: 2 ** 31 })).toThrow(RangeError);
  });
});

describe('expressIdempotency: a client that leaves mid-response (issue 14, item 3)', () => {
  it('item 3: a handler using stream.pipeline cut by the client: the retry gets 410 RESPONSE_UNAVAILABLE, never a second execution', async () => {
    const idempotency = createIdempotency({ store: memoryStore(), scope: () => 'u', lockTtl: 600 });
    const app = jsonApp(idempotency);
    let calls = 0;
    app.post('/stream', async (_req, res) => {
      calls++;
      res.setHeader('content-type', 'text/plain');
      await pipeline(slowParts(), res);
    });
    // The client's cut rejects pipeline: Express's error handler sees a sent response.
    app.use((_error: unknown, _req: unknown, res: { destroy(): void }, _next: unknown) => {
      res.destroy();
    });
    const server = createServer(app);
    await withServer(server, async (url) => {
      await assertCutResponseUnavailable(url, '/stream', () => calls);
    });
  });
});

describe('expressIdempotency with a middleware that wraps res.end before it', () => {
  it('captures through the other wrapper (own-property path) and replays what was sent', async () => {
    const idempotency = createIdempotency({ store: memoryStore(), scope: () => 'u' });
    const app = express();
    app.use(express.json());
    // Like compression(): an own-property wrapper on the response, mounted first.
    let wrapped = 0;
    app.use((_req, res, next) => {
      const end = res.end;
      res.end = function (this: typeof res, ...args: unknown[]) {
        wrapped++;
        return (end as (...a: unknown[]) => typeof res).apply(this, args);
      } as typeof res.end;
      next();
    });
    app.use(expressIdempotency(idempotency));
    let calls = 0;
    app.post('/orders', (_req, res) => {
      calls++;
      res.status(201).json({ id: calls });
    });
    const server = createServer(app);
    const url = await listen(server);
    const post = () =>
      fetch(`${url}/orders`, {
        method: 'POST',
        headers: { 'idempotency-key': 'k', 'content-type': 'application/json' },
        body: '{"a":1}',
        signal: AbortSignal.timeout(10_000),
      });
    try {
      const first = await post();
      expect(first.status).toBe(201);
      expect(await first.json()).toEqual({ id: 1 });
      let again = await post();
      for (let i = 0; i < 50 && again.headers.get('idempotent-replayed') === null; i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        again = await post();
      }
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await again.json()).toEqual({ id: 1 });
      expect(calls).toBe(1);
      expect(wrapped).toBeGreaterThanOrEqual(2);
    } finally {
      await closeServer(server);
    }
  });
});

/** POSTs `body` with an idempotency key to `url`. */
function postKeyed(url: string, key: string, body = '{"a":1}'): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'idempotency-key': key, 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(10_000),
  });
}

/** Retries until the stored response is replayed (completion lands after the response). */
async function replayOf(url: string, key: string): Promise<Response> {
  let again = await postKeyed(url, key);
  for (let i = 0; i < 50 && again.headers.get('idempotent-replayed') === null; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    again = await postKeyed(url, key);
  }
  return again;
}

/** Whether the middleware added any of the captured methods to `res` itself. */
function ownWrappers(res: object): string[] {
  return ['writeHead', 'write', 'end'].filter((name) => Object.hasOwn(res, name));
}

describe('expressIdempotency captures through the response prototype', () => {
  it('adds no own property to the response, and leaves responses it does not capture alone', async () => {
    const idempotency = createIdempotency({ store: memoryStore(), scope: () => 'u' });
    const app = jsonApp(idempotency);
    let calls = 0;
    const own: string[][] = [];
    app.post('/orders', (_req, res) => {
      calls++;
      own.push(ownWrappers(res));
      res.status(201).json({ id: calls });
    });
    app.get('/plain', (_req, res) => {
      res.type('text/plain').send('plain');
    });
    await withServer(createServer(app), async (url) => {
      const first = await postKeyed(`${url}/orders`, 'k');
      expect(first.status).toBe(201);
      expect(await first.json()).toEqual({ id: 1 });
      const again = await replayOf(`${url}/orders`, 'k');
      expect(await again.json()).toEqual({ id: 1 });
      // No key: not captured, the wrappers pass straight through.
      const unkeyed = await fetch(`${url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(await unkeyed.json()).toEqual({ id: 2 });
      const plain = await fetch(`${url}/plain`);
      expect(await plain.text()).toBe('plain');
      expect(own).toEqual([[], []]);
    });
  });

  it('captures a handler in a sub-app mounted below the middleware (the sub-app sets the prototype)', async () => {
    const idempotency = createIdempotency({ store: memoryStore(), scope: () => 'u' });
    const app = express();
    const api = express();
    const inner = express();
    app.use(express.json());
    app.use(expressIdempotency(idempotency));
    app.use('/api', api);
    api.use('/v1', inner);
    let calls = 0;
    const own: string[][] = [];
    inner.post('/orders', (_req, res) => {
      calls++;
      own.push(ownWrappers(res));
      res.status(201).json({ id: calls, at: 'inner' });
    });
    await withServer(createServer(app), async (url) => {
      const first = await postKeyed(`${url}/api/v1/orders`, 'k');
      expect(first.status).toBe(201);
      expect(await first.json()).toEqual({ id: 1, at: 'inner' });
      const again = await replayOf(`${url}/api/v1/orders`, 'k');
      expect(again.status).toBe(201);
      expect(await again.json()).toEqual({ id: 1, at: 'inner' });
      expect(calls).toBe(1);
      expect(own).toEqual([[]]);
    });
  });

  it('captures when the middleware is in a sub-app and the parent writes the response after it (prototype set back)', async () => {
    const idempotency = createIdempotency({ store: memoryStore(), scope: () => 'u' });
    const app = express();
    const sub = express();
    app.use(express.json());
    sub.use(expressIdempotency(idempotency));
    // The sub-app has no route: it passes the request back to the parent, which answers.
    app.use(sub);
    let calls = 0;
    app.post('/orders', async (_req, res) => {
      calls++;
      res.setHeader('content-type', 'text/plain');
      await pipeline(slowParts(), res);
    });
    await withServer(createServer(app), async (url) => {
      const first = await postKeyed(`${url}/orders`, 'k');
      const body = await first.text();
      expect(first.status).toBe(200);
      const again = await replayOf(`${url}/orders`, 'k');
      expect(await again.text()).toBe(body);
      expect(calls).toBe(1);
    });
  });

  it('keeps two apps in one process apart (one store each), and one app without the middleware', async () => {
    const stores = [memoryStore(), memoryStore()];
    const apps = stores.map((store, index) => {
      const app = express();
      app.use(express.json());
      app.use(expressIdempotency(createIdempotency({ store, scope: () => 'u' })));
      let calls = 0;
      app.post('/orders', (_req, res) => {
        calls++;
        res.status(201).json({ app: index, id: calls });
      });
      return app;
    });
    const bare = express();
    bare.use(express.json());
    let bareCalls = 0;
    bare.post('/orders', (_req, res) => {
      bareCalls++;
      res.status(201).json({ bare: bareCalls });
    });
    await withServer(createServer(apps[0]!), async (first) => {
      await withServer(createServer(apps[1]!), async (second) => {
        await withServer(createServer(bare), async (third) => {
          // The same key on each app: two separate records, two executions.
          expect(await (await postKeyed(`${first}/orders`, 'k')).json()).toEqual({ app: 0, id: 1 });
          expect(await (await postKeyed(`${second}/orders`, 'k')).json()).toEqual({
            app: 1,
            id: 1,
          });
          expect(await (await postKeyed(`${third}/orders`, 'k')).json()).toEqual({ bare: 1 });
          expect(await (await replayOf(`${first}/orders`, 'k')).json()).toEqual({ app: 0, id: 1 });
          expect(await (await replayOf(`${second}/orders`, 'k')).json()).toEqual({
            app: 1,
            id: 1,
          });
          // No middleware there: every request runs (and is answered in full).
          expect(await (await postKeyed(`${third}/orders`, 'k')).json()).toEqual({ bare: 2 });
        });
      });
    });
  });

  it('captures for two middlewares on one app (the second on the response itself)', async () => {
    const completed = [0, 0];
    const app = express();
    app.use(express.json());
    for (const index of [0, 1]) {
      const inner = memoryStore();
      const store: Store = Object.create(inner);
      store.complete = (...args) => {
        completed[index]!++;
        return inner.complete(...args);
      };
      app.use(expressIdempotency(createIdempotency({ store, scope: () => 'u' })));
    }
    let calls = 0;
    app.post('/orders', (_req, res) => {
      calls++;
      res.status(201).json({ id: calls });
    });
    await withServer(createServer(app), async (url) => {
      expect(await (await postKeyed(`${url}/orders`, 'k')).json()).toEqual({ id: 1 });
      const again = await replayOf(`${url}/orders`, 'k');
      expect(await again.json()).toEqual({ id: 1 });
      expect(calls).toBe(1);
      expect(completed).toEqual([1, 1]);
    });
  });

  it('never runs a handler twice when its response leaves the prototype chain (another copy of Express)', async () => {
    const idempotency = createIdempotency({ store: memoryStore(), scope: () => 'u', lockTtl: 600 });
    const app = jsonApp(idempotency);
    let calls = 0;
    app.post('/orders', (_req, res) => {
      calls++;
      // As a sub-app of another copy of Express would: a prototype outside this chain.
      const foreign = Object.create(Object.getPrototypeOf(express.response));
      Object.setPrototypeOf(res, foreign);
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end('{"id":1}');
    });
    await withServer(createServer(app), async (url) => {
      const first = await postKeyed(`${url}/orders`, 'k');
      expect(first.status).toBe(201);
      expect(await first.text()).toBe('{"id":1}');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const again = await postKeyed(`${url}/orders`, 'k');
      expect(again.status).toBe(410);
      expect(((await again.json()) as { code?: unknown }).code).toBe('RESPONSE_UNAVAILABLE');
      expect(calls).toBe(1);
    });
  });
});
