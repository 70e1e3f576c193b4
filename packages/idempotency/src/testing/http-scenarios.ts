import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { type Clock, systemClock, VirtualClock } from '@faultline/clock';
import {
  createIdempotency,
  type FencedEvent,
  type Idempotency,
  type IdempotencyOptions,
  type IdempotencyWarning,
} from '../idempotency.js';
import { corruptMemoryRecord, type MemoryStore, memoryStore } from '../stores/memory.js';
import type { TestApi } from './conformance.js';
import { type FaultyStore, faultyStore } from './faulty-store.js';

/** What a scenario route answers: a whole body, or chunks streamed one by one. */
export type RouteResponse =
  | {
      readonly status: number;
      readonly headers: Readonly<Record<string, string | readonly string[]>>;
      readonly body: Uint8Array;
    }
  | {
      readonly status: number;
      readonly headers: Readonly<Record<string, string | readonly string[]>>;
      readonly stream: readonly Uint8Array[];
    };

/**
 * The framework-free route logic every adapter's test server forwards to, one route per path
 * segment (`/:route`). It counts handler invocations, so the suite can prove a replay never
 * reaches the handler.
 */
export interface ScenarioRoutes {
  /** Runs route `route` with the parsed JSON body (or undefined); may throw (route `throw`). */
  handle(route: string, body: unknown, query: URLSearchParams): Promise<RouteResponse>;
}

/** A running test server. */
export interface RunningServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a real server of one framework on 127.0.0.1:0 with the adapter in front of `routes`. */
export type StartServer = (
  idempotency: Idempotency,
  routes: ScenarioRoutes,
) => Promise<RunningServer>;

const encoder = new TextEncoder();

interface Harness {
  readonly idem: Idempotency;
  readonly store: FaultyStore;
  readonly memory: MemoryStore;
  readonly clock: VirtualClock | undefined;
  readonly counts: Map<string, number>;
  readonly warnings: IdempotencyWarning[];
  readonly fenced: FencedEvent[];
  readonly url: string;
  /** Lets every request parked on route `slow` finish. */
  openGate(): void;
  count(route: string): number;
  post(
    path: string,
    init?: { key?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Reply>;
  get(path: string, key?: string): Promise<Reply>;
}

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
  json(): Record<string, unknown>;
}

async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function makeRoutes(counts: Map<string, number>, gate: { promise: Promise<void> }): ScenarioRoutes {
  return {
    async handle(route, body, query) {
      const n = (counts.get(route) ?? 0) + 1;
      counts.set(route, n);
      switch (route) {
        case 'orders':
        case 'slow': {
          if (route === 'slow') await gate.promise;
          return {
            status: 201,
            headers: {
              'content-type': 'application/json; charset=utf-8',
              location: `/orders/${n}`,
              'set-cookie': [`session=s${n}; HttpOnly`, `tracking=t${n}`],
              'x-request-id': `req-${n}`,
              'cache-control': 'no-store',
            },
            body: encoder.encode(
              JSON.stringify({ id: n, received: body ?? null, note: 'héllo ✓' }),
            ),
          };
        }
        case 'binary': {
          const bytes = new Uint8Array(256);
          for (let i = 0; i < 256; i++) bytes[i] = (i + n) & 0xff;
          return {
            status: 200,
            headers: { 'content-type': 'application/octet-stream' },
            body: bytes,
          };
        }
        case 'fail':
          return {
            status: 503,
            headers: { 'content-type': 'text/plain' },
            body: encoder.encode(`unavailable ${n}`),
          };
        case 'throw':
          throw new Error('handler exploded');
        case 'big': {
          const size = Number(query.get('size') ?? '65536');
          const bytes = new Uint8Array(size);
          for (let i = 0; i < size; i++) bytes[i] = (i * 7 + n) & 0xff;
          return {
            status: 200,
            headers: { 'content-type': 'application/octet-stream' },
            body: bytes,
          };
        }
        case 'stream': {
          const chunks = Array.from({ length: 6 }, (_, i) =>
            encoder.encode(`chunk-${i}-${'x'.repeat(1000)}|`),
          );
          return { status: 200, headers: { 'content-type': 'text/plain' }, stream: chunks };
        }
        default:
          return {
            status: 404,
            headers: { 'content-type': 'text/plain' },
            body: encoder.encode('no route'),
          };
      }
    },
  };
}

interface SetupOptions {
  /** Use real time instead of a VirtualClock (for `concurrent: { wait }` and store timeouts). */
  readonly realClock?: boolean;
  readonly options?: Partial<IdempotencyOptions>;
}

/**
 * Registers the behaviour-table scenarios (rows 1–21, plus concurrency, fencing and replay
 * checks) over real loopback HTTP for one adapter. Every adapter test file calls this with its
 * own `start` function, so node:http, Express, Fastify and Hono run the very same cases.
 */
export function describeHttpScenarios(name: string, start: StartServer, api: TestApi): void {
  const { describe, it } = api;
  const live: Array<() => Promise<void>> = [];

  const setup = async (config: SetupOptions = {}): Promise<Harness> => {
    const clock = config.realClock === true ? undefined : new VirtualClock();
    const storeClock: Clock = clock ?? systemClock;
    const memory = memoryStore({ clock: storeClock });
    const store = faultyStore(memory);
    const idem = createIdempotency({
      store,
      clock: storeClock,
      scope: (request) => {
        const user = request.headers['x-user'];
        return typeof user === 'string' ? user : 'anonymous';
      },
      lockTtl: 3_000,
      ...config.options,
    });
    const warnings: IdempotencyWarning[] = [];
    const fenced: FencedEvent[] = [];
    idem.onWarning((warning) => warnings.push(warning));
    idem.onFenced((event) => fenced.push(event));
    const counts = new Map<string, number>();
    let open: () => void = () => {};
    const gate = { promise: new Promise<void>((resolve) => (open = resolve)) };
    const server = await start(idem, makeRoutes(counts, gate));
    live.push(async () => {
      open();
      await server.close();
      memory.close();
    });
    const send = async (
      method: string,
      path: string,
      key: string | undefined,
      body: unknown,
      extra: Record<string, string> = {},
    ): Promise<Reply> => {
      const headers: Record<string, string> = { ...extra };
      if (key !== undefined) headers['idempotency-key'] = key;
      let payload: string | undefined;
      if (body !== undefined) {
        headers['content-type'] ??= 'application/json';
        payload = typeof body === 'string' ? body : JSON.stringify(body);
      }
      const response = await fetch(server.url + path, {
        method,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
        signal: AbortSignal.timeout(15_000),
      });
      const bytes = new Uint8Array(await response.arrayBuffer());
      return {
        status: response.status,
        headers: response.headers,
        body: bytes,
        json: () => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>,
      };
    };
    return {
      idem,
      store,
      memory,
      clock,
      counts,
      warnings,
      fenced,
      url: server.url,
      openGate: () => open(),
      count: (route) => counts.get(route) ?? 0,
      post: (path, init = {}) =>
        send('POST', path, init.key, init.body ?? { item: 'book', qty: 1 }, init.headers),
      get: (path, key) => send('GET', path, key, undefined),
    };
  };

  const test = (title: string, body: () => Promise<void>): void => {
    it(title, async () => {
      try {
        await body();
      } finally {
        for (const close of live.splice(0)) await close();
      }
    }, 30_000);
  };

  const assertProblem = (reply: Reply, status: number, code: string): void => {
    assert.equal(reply.status, status);
    assert.equal(reply.headers.get('content-type'), 'application/problem+json');
    const problem = reply.json();
    assert.deepEqual(Object.keys(problem).sort(), ['code', 'detail', 'status', 'title', 'type']);
    assert.equal(problem.status, status);
    assert.equal(problem.code, code);
    assert.equal(typeof problem.title, 'string');
    assert.equal(typeof problem.detail, 'string');
    assert.match(String(problem.type), /^https:\/\//);
  };

  const completed = async (h: Harness, key: string, user = 'anonymous'): Promise<void> => {
    const storeKey = await h.idem.storeKey(key, user);
    await eventually(
      async () => (await h.memory.get(storeKey))?.status === 'COMPLETED',
      'COMPLETED',
    );
  };

  const released = async (h: Harness, key: string, user = 'anonymous'): Promise<void> => {
    const storeKey = await h.idem.storeKey(key, user);
    await eventually(async () => (await h.memory.get(storeKey)) === undefined, 'the record to go');
  };

  describe(`HTTP scenarios: ${name}`, () => {
    test('row 1: GET passes through (handler runs every time, no replay header)', async () => {
      const h = await setup();
      const a = await h.get('/orders', 'k1');
      const b = await h.get('/orders', 'k1');
      assert.equal(a.status, 201);
      assert.equal(b.status, 201);
      assert.equal(b.headers.get('idempotent-replayed'), null);
      assert.equal(h.count('orders'), 2);
      assert.equal(h.memory.size, 0);
    });

    test('row 2: POST without a key runs every time', async () => {
      const h = await setup();
      await h.post('/orders');
      const b = await h.post('/orders');
      assert.equal(b.headers.get('idempotent-replayed'), null);
      assert.equal(h.count('orders'), 2);
    });

    test('row 3: POST without a key when required: 400 MISSING_KEY, handler not run', async () => {
      const h = await setup({ options: { required: true } });
      assertProblem(await h.post('/orders'), 400, 'MISSING_KEY');
      assert.equal(h.count('orders'), 0);
    });

    test('row 4: invalid keys: 400 INVALID_KEY, handler not run', async () => {
      const h = await setup({ options: { maxKeyLength: 16 } });
      for (const key of ['""', 'a'.repeat(17), '"abc', 'a, b', '"a", "b"', 'a b']) {
        assertProblem(await h.post('/orders', { key }), 400, 'INVALID_KEY');
      }
      // Two header lines, sent raw.
      const raw = await rawPost(h.url, '/orders', ['Idempotency-Key', 'a', 'Idempotency-Key', 'b']);
      assert.equal(raw.status, 400);
      assert.equal(JSON.parse(raw.body).code, 'INVALID_KEY');
      assert.equal(h.count('orders'), 0);
    });

    test('lenient key syntax: "abc" and abc are one key', async () => {
      const h = await setup();
      await h.post('/orders', { key: '"abc"' });
      const b = await h.post('/orders', { key: 'abc' });
      assert.equal(b.headers.get('idempotent-replayed'), 'true');
      assert.equal(h.count('orders'), 1);
    });

    test('rows 5, 9, 12: first executes; the retry replays status, body bytes and allowed headers', async () => {
      const h = await setup();
      const first = await h.post('/orders', { key: 'k1' });
      assert.equal(first.status, 201);
      assert.equal(first.headers.get('idempotent-replayed'), null);
      assert.ok(first.headers.getSetCookie().length > 0, 'the first response sets cookies');
      await completed(h, 'k1');
      const second = await h.post('/orders', { key: 'k1' });
      assert.equal(h.count('orders'), 1, 'the handler ran once');
      assert.equal(second.status, 201);
      assert.deepEqual(Array.from(second.body), Array.from(first.body));
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(second.headers.getSetCookie(), []);
      assert.equal(second.headers.get('location'), first.headers.get('location'));
      assert.equal(second.headers.get('x-request-id'), 'req-1');
      assert.equal(second.headers.get('content-type'), first.headers.get('content-type'));
      assert.equal(second.headers.get('content-length'), String(first.body.length));
    });

    test('row 9: a binary body replays byte-identical', async () => {
      const h = await setup();
      const first = await h.post('/binary', { key: 'bin' });
      await completed(h, 'bin');
      const second = await h.post('/binary', { key: 'bin' });
      assert.equal(h.count('binary'), 1);
      assert.deepEqual(Array.from(second.body), Array.from(first.body));
      assert.equal(second.headers.get('content-type'), 'application/octet-stream');
    });

    test('row 6: same key while in progress: 409 CONFLICT with Retry-After: 1', async () => {
      const h = await setup();
      const first = h.post('/slow', { key: 'k1' });
      await eventually(() => h.count('slow') === 1, 'the first request to run');
      const second = await h.post('/slow', { key: 'k1' });
      assertProblem(second, 409, 'CONFLICT');
      assert.equal(second.headers.get('retry-after'), '1');
      h.openGate();
      assert.equal((await first).status, 201);
      assert.equal(h.count('slow'), 1);
    });

    test('row 6: concurrent { wait } replays once the first completes', async () => {
      const h = await setup({ realClock: true, options: { concurrent: { wait: '10s' } } });
      const first = h.post('/slow', { key: 'k1' });
      await eventually(() => h.count('slow') === 1, 'the first request to run');
      const second = h.post('/slow', { key: 'k1' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      h.openGate();
      const [a, b] = await Promise.all([first, second]);
      assert.equal(a.status, 201);
      assert.equal(b.status, 201);
      assert.equal(b.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(Array.from(b.body), Array.from(a.body));
      assert.equal(h.count('slow'), 1);
    });

    test('row 7: in progress with a different body: 422 FINGERPRINT_MISMATCH', async () => {
      const h = await setup();
      const first = h.post('/slow', { key: 'k1', body: { qty: 1 } });
      await eventually(() => h.count('slow') === 1, 'the first request to run');
      assertProblem(
        await h.post('/slow', { key: 'k1', body: { qty: 2 } }),
        422,
        'FINGERPRINT_MISMATCH',
      );
      h.openGate();
      await first;
    });

    test('rows 8 and 15: a crashed owner’s lock expires; one retry takes over; the late completion is fenced', async () => {
      const h = await setup();
      h.store.fail('renew', 'reject'); // the owner can no longer renew: as good as crashed
      const first = h.post('/slow', { key: 'k1' });
      await eventually(() => h.count('slow') === 1, 'the first request to run');
      await h.clock!.advance(3_001);
      let settled = 0;
      const retries = Array.from({ length: 5 }, () =>
        h.post('/slow', { key: 'k1' }).finally(() => {
          settled++;
        }),
      );
      // One retry takes over (and parks on the gate); the four others are answered meanwhile.
      await eventually(() => h.count('slow') === 2 && settled === 4, 'the takeover to run');
      h.openGate();
      const [original, ...others] = await Promise.all([first, ...retries]);
      assert.equal(original!.status, 201, 'the old owner’s client still gets its response');
      assert.equal(h.count('slow'), 2, 'exactly one takeover');
      const statuses = others.map((reply) => reply.status).sort();
      assert.deepEqual(statuses, [201, 409, 409, 409, 409]);
      await eventually(() => h.fenced.some((event) => event.operation === 'complete'), 'fencing');
      await completed(h, 'k1');
      const replay = await h.post('/slow', { key: 'k1' });
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.equal(replay.json().id, 2, 'the takeover’s response is the one kept');
    });

    test('row 10: completed with a different body: 422 FINGERPRINT_MISMATCH', async () => {
      const h = await setup();
      await h.post('/orders', { key: 'k1', body: { qty: 1 } });
      await completed(h, 'k1');
      assertProblem(
        await h.post('/orders', { key: 'k1', body: { qty: 2 } }),
        422,
        'FINGERPRINT_MISMATCH',
      );
      assertProblem(
        await h.post('/orders?x=1', { key: 'k1', body: { qty: 1 } }),
        422,
        'FINGERPRINT_MISMATCH',
      );
      assert.equal(h.count('orders'), 1);
    });

    test('fingerprint: JSON key order and whitespace do not matter', async () => {
      const h = await setup();
      await h.post('/orders', { key: 'k1', body: '{"a":1,"b":[1,2]}' });
      await completed(h, 'k1');
      const again = await h.post('/orders', { key: 'k1', body: ' { "b" : [1, 2], "a": 1 }' });
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
    });

    test('fingerprint (issue 14, item 9): repeated query parameters keep their order', async () => {
      const h = await setup();
      await h.post('/orders?sort=price&sort=name', { key: 'k1' });
      await completed(h, 'k1');
      assertProblem(
        await h.post('/orders?sort=name&sort=price', { key: 'k1' }),
        422,
        'FINGERPRINT_MISMATCH',
      );
      const again = await h.post('/orders?sort=price&sort=name', { key: 'k1' });
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(h.count('orders'), 1);
    });

    test('fingerprint (issue 14, item 10): JSON nested 5 000 levels deep is a 400 BODY_TOO_DEEP problem, not a 500', async () => {
      const h = await setup();
      const deep = `${'['.repeat(5_000)}${']'.repeat(5_000)}`;
      assertProblem(await h.post('/orders', { key: 'deep', body: deep }), 400, 'BODY_TOO_DEEP');
      assert.equal(h.count('orders'), 0);
    });

    test('body limit (issue 14, item 5): a body over 1 MiB is a 413 BODY_TOO_LARGE problem, handler not run', async () => {
      const h = await setup();
      const big = JSON.stringify({ pad: 'x'.repeat(1_100_000) });
      assertProblem(await h.post('/orders', { key: 'big', body: big }), 413, 'BODY_TOO_LARGE');
      // The same without a Content-Length (chunked): counted as it arrives.
      const chunked = await sendChunked(h.url, '/orders', 'big-chunked', big);
      assert.equal(chunked.status, 413);
      assert.equal(chunked.code, 'BODY_TOO_LARGE');
      assert.equal(h.count('orders'), 0);
      // Just under the limit is fine.
      const fits = JSON.stringify({ pad: 'x'.repeat(1_000_000) });
      assert.equal((await h.post('/orders', { key: 'fits', body: fits })).status, 201);
    });

    test('row 11: after recordTtl the key executes again', async () => {
      const h = await setup({ options: { recordTtl: '1h' } });
      await h.post('/orders', { key: 'k1' });
      await completed(h, 'k1');
      await h.clock!.advance(3_600_001);
      const again = await h.post('/orders', { key: 'k1' });
      assert.equal(again.headers.get('idempotent-replayed'), null);
      assert.equal(h.count('orders'), 2);
    });

    test('row 13: a 5xx releases the key: the retry executes again', async () => {
      const h = await setup();
      assert.equal((await h.post('/fail', { key: 'k1' })).status, 503);
      await released(h, 'k1');
      const again = await h.post('/fail', { key: 'k1' });
      assert.equal(again.status, 503);
      assert.equal(again.headers.get('idempotent-replayed'), null);
      assert.equal(h.count('fail'), 2);
    });

    test('row 13: cacheServerErrors stores and replays the 5xx', async () => {
      const h = await setup({ options: { cacheServerErrors: true } });
      await h.post('/fail', { key: 'k1' });
      await completed(h, 'k1');
      const again = await h.post('/fail', { key: 'k1' });
      assert.equal(again.status, 503);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(h.count('fail'), 1);
    });

    test('row 14: a throwing handler releases the key; the framework answers the error', async () => {
      const h = await setup();
      const first = await h.post('/throw', { key: 'k1' });
      assert.equal(first.status, 500);
      await released(h, 'k1');
      assert.equal((await h.post('/throw', { key: 'k1' })).status, 500);
      assert.equal(h.count('throw'), 2);
    });

    test('row 16: store down at claim (fail-closed): 503 STORE_UNAVAILABLE, handler not run', async () => {
      const h = await setup();
      h.store.fail('claim', 'reject');
      const reply = await h.post('/orders', { key: 'k1' });
      assertProblem(reply, 503, 'STORE_UNAVAILABLE');
      assert.equal(reply.headers.get('retry-after'), '1');
      assert.equal(h.count('orders'), 0);
    });

    test('row 16: a hanging store answers 503 after storeTimeout, never hangs', async () => {
      const h = await setup({ realClock: true, options: { storeTimeout: '20ms' } });
      h.store.fail('claim', 'hang');
      assertProblem(await h.post('/orders', { key: 'k1' }), 503, 'STORE_UNAVAILABLE');
      assert.equal(h.count('orders'), 0);
    });

    test('row 16: fail-open runs the handler unprotected and warns', async () => {
      const h = await setup({ options: { onStoreError: 'fail-open' } });
      h.store.fail('claim', 'reject');
      assert.equal((await h.post('/orders', { key: 'k1' })).status, 201);
      assert.equal(h.count('orders'), 1);
      assert.ok(h.warnings.some((warning) => warning.code === 'FAIL_OPEN'));
    });

    test('row 17: store down at completion: the client still gets its response; then the lock expires', async () => {
      const h = await setup({ options: { completionAttempts: 1 } });
      h.store.fail('complete', 'reject');
      const first = await h.post('/orders', { key: 'k1' });
      assert.equal(first.status, 201);
      await eventually(() => h.store.calls.complete === 1, 'the completion attempt');
      h.store.heal();
      assertProblem(await h.post('/orders', { key: 'k1' }), 409, 'CONFLICT');
      await h.clock!.advance(3_001);
      assert.equal((await h.post('/orders', { key: 'k1' })).status, 201);
      assert.equal(h.count('orders'), 2);
    });

    test('row 18: an oversize body reaches the client in full; the replay omits it', async () => {
      const h = await setup({ options: { maxStoredBodyBytes: 1_024 } });
      const first = await h.post('/big?size=65536', { key: 'k1' });
      assert.equal(first.status, 200);
      assert.equal(first.body.length, 65_536);
      await completed(h, 'k1');
      const replay = await h.post('/big?size=65536', { key: 'k1' });
      assert.equal(replay.status, 200);
      assert.equal(replay.body.length, 0);
      assert.equal(replay.headers.get('idempotency-body-omitted'), 'true');
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.equal(h.count('big'), 1);
    });

    test('row 19: a streamed response is captured until its end and replayed whole', async () => {
      const h = await setup();
      const first = await h.post('/stream', { key: 'k1' });
      assert.equal(first.body.length, 6 * 1_009);
      await completed(h, 'k1');
      const replay = await h.post('/stream', { key: 'k1' });
      assert.deepEqual(Array.from(replay.body), Array.from(first.body));
      assert.equal(h.count('stream'), 1);
    });

    test('row 20: a handler running past lockTtl keeps its lock (renewed every lockTtl/3)', async () => {
      const h = await setup();
      const first = h.post('/slow', { key: 'k1' });
      await eventually(() => h.count('slow') === 1, 'the first request to run');
      for (let i = 0; i < 10; i++) await h.clock!.advance(1_000);
      assert.ok(h.store.calls.renew >= 9, `renewed ${h.store.calls.renew} times`);
      assertProblem(await h.post('/slow', { key: 'k1' }), 409, 'CONFLICT');
      h.openGate();
      assert.equal((await first).status, 201);
      assert.equal(h.count('slow'), 1);
    });

    test('row 21: an unreadable record is treated as absent, with a warning', async () => {
      const h = await setup();
      await h.post('/orders', { key: 'k1' });
      await completed(h, 'k1');
      corruptMemoryRecord(h.memory, await h.idem.storeKey('k1', 'anonymous'));
      const again = await h.post('/orders', { key: 'k1' });
      assert.equal(again.headers.get('idempotent-replayed'), null);
      assert.equal(h.count('orders'), 2);
      assert.ok(h.warnings.some((warning) => warning.code === 'UNREADABLE_RECORD'));
    });

    test('scope: the same key from two principals executes twice', async () => {
      const h = await setup();
      await h.post('/orders', { key: 'k1', headers: { 'x-user': 'alice' } });
      const bob = await h.post('/orders', { key: 'k1', headers: { 'x-user': 'bob' } });
      assert.equal(bob.headers.get('idempotent-replayed'), null);
      assert.equal(h.count('orders'), 2);
    });

    test('50 concurrent requests with one key: the handler runs once; others get 409 or the replay', async () => {
      const h = await setup();
      const replies = await Promise.all(
        Array.from({ length: 50 }, () => h.post('/orders', { key: 'same' })),
      );
      assert.equal(h.count('orders'), 1);
      const bodies = new Set<string>();
      for (const reply of replies) {
        assert.ok(reply.status === 201 || reply.status === 409, `status ${reply.status}`);
        if (reply.status === 201) bodies.add(new TextDecoder().decode(reply.body));
      }
      assert.equal(bodies.size, 1, 'every 201 carries the same body');
    });
  });
}

/** POSTs `body` as a chunked stream (no Content-Length); returns the status and problem code. */
async function sendChunked(
  base: string,
  path: string,
  key: string,
  body: string,
): Promise<{ status: number; code: string | undefined }> {
  const bytes = encoder.encode(body);
  let offset = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.subarray(offset, offset + 65_536));
      offset += 65_536;
    },
  });
  try {
    const response = await fetch(base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: stream,
      duplex: 'half',
      signal: AbortSignal.timeout(15_000),
    } as RequestInit);
    const text = await response.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { code?: string }).code;
    } catch {
      code = undefined;
    }
    return { status: response.status, code };
  } catch (error) {
    throw new Error(`chunked POST failed: ${String(error)}`);
  }
}

/** POSTs with raw header lines (a repeated header), over a plain socket. */
function rawPost(
  base: string,
  path: string,
  rawHeaders: string[],
): Promise<{ status: number; body: string }> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const lines = [`POST ${url.pathname} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close'];
    for (let i = 0; i + 1 < rawHeaders.length; i += 2)
      lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
    lines.push('Content-Type: application/json', 'Content-Length: 2', '', '{}');
    const chunks: Buffer[] = [];
    socket.setTimeout(15_000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      const head = text.indexOf('\r\n\r\n');
      let body = text.slice(head + 4);
      if (/transfer-encoding: chunked/i.test(text.slice(0, head))) {
        // Decode a chunked body.
        let out = '';
        let rest = body;
        for (;;) {
          const eol = rest.indexOf('\r\n');
          const size = Number.parseInt(rest.slice(0, eol), 16);
          if (!(size > 0)) break;
          out += rest.slice(eol + 2, eol + 2 + size);
          rest = rest.slice(eol + 2 + size + 2);
        }
        body = out;
      }
      resolve({ status, body });
    });
    socket.write(lines.join('\r\n'));
  });
}

/** Listens on 127.0.0.1 with an ephemeral port; returns the base URL. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return `http://127.0.0.1:${address.port}`;
}

/**
 * POSTs a keyed JSON body of ~110 bytes to `url + path` (an adapter set to a smaller
 * `maxBodyBytes`) and asserts the 413 `BODY_TOO_LARGE` problem, the handler (`calls()`) not run.
 */
export async function assertBodyTooLarge(
  url: string,
  path: string,
  calls: () => number,
): Promise<void> {
  const reply = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'idempotency-key': 'k', 'content-type': 'application/json' },
    body: JSON.stringify({ long: 'x'.repeat(100) }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(reply.status, 413);
  assert.equal(reply.headers.get('content-type'), 'application/problem+json');
  const problem = (await reply.json()) as { status?: unknown; code?: unknown };
  assert.equal(problem.status, 413);
  assert.equal(problem.code, 'BODY_TOO_LARGE');
  assert.equal(calls(), 0);
}

/** `server` listening on 127.0.0.1 (ephemeral port), as a {@link RunningServer}. */
export async function running(server: Server): Promise<RunningServer> {
  const url = await listen(server);
  return { url, close: () => closeServer(server) };
}

/** Writes a streamed route answer: one chunk per turn of the event loop, then the end. */
export async function writeChunks(
  res: { write(chunk: Uint8Array): unknown; end(): unknown },
  chunks: readonly Uint8Array[],
): Promise<void> {
  for (const chunk of chunks) {
    res.write(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
  res.end();
}

/** Listens with `server`, runs `use(url)`, then closes the server whatever happened. */
export async function withServer(
  server: Server,
  use: (url: string) => Promise<void>,
): Promise<void> {
  const url = await listen(server);
  try {
    await use(url);
  } finally {
    await closeServer(server);
  }
}

/** Closes a server, dropping keep-alive connections first. */
export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
