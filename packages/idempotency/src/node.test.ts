import { createServer, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { VirtualClock } from '@faultline/clock';
import { describe, expect, it } from 'vitest';
import { createIdempotency } from './idempotency.js';
import { withIdempotency } from './node.js';
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
import { faultyStore } from './testing.js';

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

describeHttpScenarios(
  'node:http',
  async (idempotency, routes) => {
    const handler = withIdempotency(
      async (req, res) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        // Reads the stream: the adapter replays the bytes it consumed for the fingerprint.
        const body = await readJson(req);
        const answer = await routes.handle(url.pathname.slice(1), body, url.searchParams);
        res.writeHead(answer.status, answer.headers as Record<string, string | string[]>);
        if ('stream' in answer) {
          await writeChunks(res, answer.stream);
        } else {
          res.end(answer.body);
        }
      },
      idempotency,
      {
        onError: (_error, _req, res) => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('internal error');
        },
      },
    );
    const server = createServer(handler);
    return running(server);
  },
  { describe, it },
);

describe('withIdempotency: arguments', () => {
  const idempotency = createIdempotency({ store: memoryStore(), scope: () => 'x' });
  it('rejects a handler that is not a function', () => {
    expect(() => withIdempotency('nope' as never, idempotency)).toThrow(TypeError);
  });
  it('rejects something that is not an idempotency core', () => {
    expect(() => withIdempotency(() => {}, {} as never)).toThrow(TypeError);
  });
  it('validates maxBodyBytes', () => {
    expect(() => withIdempotency(() => {}, idempotency, { maxBodyBytes: '1' as never })).toThrow(
      TypeError,
    );
    expect(() => withIdempotency(() => {}, idempotency, { maxBodyBytes: -1 })).toThrow(RangeError);
  });
  it('answers 413 BODY_TOO_LARGE past maxBodyBytes', async () => {
    let calls = 0;
    const handler = withIdempotency(
      (_req, res) => {
        calls++;
        res.end();
      },
      idempotency,
      { maxBodyBytes: 10 },
    );
    const server = createServer((req, res) => void handler(req, res));
    await withServer(server, async (url) => {
      await assertBodyTooLarge(url, '/x', () => calls);
    });
  });
});

describe('withIdempotency: client disconnects', () => {
  it('stops renewing when the client goes away; a handler ending within lockTtl still stores its response', async () => {
    const clock = new VirtualClock();
    const store = faultyStore(memoryStore({ clock }));
    const idempotency = createIdempotency({ store, clock, scope: () => 'u', lockTtl: 3_000 });
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    let calls = 0;
    let closed = false;
    const handler = withIdempotency(async (_req, res) => {
      calls++;
      res.once('close', () => {
        closed = true;
      });
      await gate;
      res.writeHead(201, { 'content-type': 'text/plain' });
      res.end('done');
    }, idempotency);
    const server = createServer((req, res) => void handler(req, res));
    const url = await listen(server);
    const post = (signal: AbortSignal) =>
      fetch(`${url}/x`, { method: 'POST', headers: { 'idempotency-key': 'k' }, body: 'b', signal });
    try {
      const aborter = new AbortController();
      const first = post(aborter.signal).catch((error: unknown) => error);
      while (calls === 0) await new Promise((resolve) => setTimeout(resolve, 2));
      await clock.advance(1_000);
      expect(store.calls.renew).toBe(1);
      aborter.abort();
      await first;
      while (!closed) await new Promise((resolve) => setTimeout(resolve, 2));
      await clock.advance(2_000);
      expect(store.calls.renew).toBe(1);
      open();
      const key = await idempotency.storeKey('k', 'u');
      while ((await store.get(key))?.status !== 'COMPLETED') {
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const replay = await post(AbortSignal.timeout(10_000));
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(await replay.text()).toBe('done');
      expect(calls).toBe(1);
    } finally {
      open();
      await closeServer(server);
    }
  });
});

/** Sends a POST head (and `partial` body bytes) over a raw socket, then destroys the socket. */
async function cutMidBody(url: string, partial: string): Promise<void> {
  const { port, hostname } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    `POST /x HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: 100\r\nIdempotency-Key: k\r\n\r\n${partial}`,
  );
  await new Promise((resolve) => setTimeout(resolve, 30));
  socket.destroy();
}

describe('withIdempotency: a client that goes away never crashes the server (issue 14, item 1)', () => {
  it('the README wiring survives a client that closes the socket mid-body: the promise resolves, the handler never runs', async () => {
    const idempotency = createIdempotency({ store: memoryStore(), scope: () => 'u' });
    let calls = 0;
    const outcomes: unknown[] = [];
    const handler = withIdempotency((_req, res) => {
      calls++;
      res.end();
    }, idempotency);
    const server = createServer((req, res) => {
      handler(req, res).then(
        () => outcomes.push('resolved'),
        (error: unknown) => outcomes.push(error),
      );
    });
    await withServer(server, async (url) => {
      await cutMidBody(url, '{"a":');
      await cutMidBody(url, '');
      for (let i = 0; i < 500 && outcomes.length < 2; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(outcomes).toEqual(['resolved', 'resolved']);
      expect(calls).toBe(0);
    });
  });

  it('a throwing handler: the key is released, the promise still resolves, onError gets the error (default: 500)', async () => {
    const idempotency = createIdempotency({ store: memoryStore(), scope: () => 'u' });
    const errors: unknown[] = [];
    const outcomes: unknown[] = [];
    let calls = 0;
    const boom = new Error('boom');
    const make = (options?: Parameters<typeof withIdempotency>[2]) =>
      withIdempotency(
        () => {
          calls++;
          throw boom;
        },
        idempotency,
        options,
      );
    const logged: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args);
    const plain = make();
    const custom = make({
      onError: (error, _req, res) => {
        errors.push(error);
        res.writeHead(418).end();
      },
    });
    const server = createServer((req, res) => {
      (req.url === '/custom' ? custom : plain)(req, res).then(
        () => outcomes.push('resolved'),
        (error: unknown) => outcomes.push(error),
      );
    });
    const url = await listen(server);
    const post = (path: string) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: { 'idempotency-key': `k${path}` },
        body: 'x',
        signal: AbortSignal.timeout(10_000),
      });
    try {
      expect((await post('/plain')).status).toBe(500);
      expect((await post('/custom')).status).toBe(418);
      expect((await post('/custom')).status).toBe(418); // released: executes again
      expect(calls).toBe(3);
      expect(errors).toEqual([boom, boom]);
      expect(outcomes).toEqual(['resolved', 'resolved', 'resolved']);
      expect(logged.length).toBe(1);
    } finally {
      console.error = original;
      await closeServer(server);
    }
  });
});

describe('withIdempotency: a client that leaves mid-response (issue 14, item 3)', () => {
  it('item 3: a handler awaiting stream.pipeline cut by the client: the retry gets 410 RESPONSE_UNAVAILABLE, never a second execution', async () => {
    const idempotency = createIdempotency({ store: memoryStore(), scope: () => 'u', lockTtl: 600 });
    let calls = 0;
    const server = createServer(
      withIdempotency(
        async (_req, res) => {
          calls++;
          res.writeHead(200, { 'content-type': 'text/plain' });
          await pipeline(slowParts(), res);
        },
        idempotency,
        { onError: () => {} },
      ),
    );
    await withServer(server, async (url) => {
      await assertCutResponseUnavailable(url, '/stream', () => calls);
    });
  });
});
