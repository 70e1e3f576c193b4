import { createServer, type IncomingMessage } from 'node:http';
import { VirtualClock } from '@faultline/clock';
import { describe, expect, it } from 'vitest';
import { createIdempotency } from './idempotency.js';
import { withIdempotency } from './node.js';
import { memoryStore } from './stores/memory.js';
import { closeServer, describeHttpScenarios, listen } from './testing/http-scenarios.js';
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
    const handler = withIdempotency(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      // Reads the stream: the adapter replays the bytes it consumed for the fingerprint.
      const body = await readJson(req);
      const answer = await routes.handle(url.pathname.slice(1), body, url.searchParams);
      res.writeHead(answer.status, answer.headers as Record<string, string | string[]>);
      if ('stream' in answer) {
        for (const chunk of answer.stream) {
          res.write(chunk);
          await new Promise((resolve) => setImmediate(resolve));
        }
        res.end();
      } else {
        res.end(answer.body);
      }
    }, idempotency);
    const server = createServer((req, res) => {
      handler(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error');
      });
    });
    const url = await listen(server);
    return { url, close: () => closeServer(server) };
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
    const url = await listen(server);
    try {
      const reply = await fetch(`${url}/x`, {
        method: 'POST',
        headers: { 'idempotency-key': 'k', 'content-type': 'application/json' },
        body: JSON.stringify({ long: 'x'.repeat(100) }),
        signal: AbortSignal.timeout(10_000),
      });
      expect(reply.status).toBe(413);
      expect(reply.headers.get('content-type')).toBe('application/problem+json');
      expect(await reply.json()).toMatchObject({ status: 413, code: 'BODY_TOO_LARGE' });
      expect(calls).toBe(0);
    } finally {
      await closeServer(server);
    }
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
