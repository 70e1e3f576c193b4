import { createServer } from 'node:http';
import { pipeline } from 'node:stream/promises';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { expressIdempotency } from './express.js';
import { createIdempotency } from './idempotency.js';
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
    const post = (body: string) =>
      fetch(`${url}/echo`, {
        method: 'POST',
        headers: { 'idempotency-key': 'k', 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(10_000),
      });
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
    const app = express();
    app.use(express.json());
    app.use(expressIdempotency(idempotency));
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
