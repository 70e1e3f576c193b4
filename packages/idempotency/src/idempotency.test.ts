import { VirtualClock } from '@faultline/clock';
import { watchSettled } from '@faultline/test-support';
import { describe, expect, it } from 'vitest';
import { leaseOfToken } from './execution-token.js';
import { framed } from './fingerprint.js';
import {
  type BeginResult,
  createIdempotency,
  type ExecutionToken,
  type Idempotency,
  type IdempotencyOptions,
  type IdempotencyRequest,
  type IdempotencyWarning,
} from './idempotency.js';
import { sha256HexSync } from './sha256.js';
import type { Store } from './store.js';
import { memoryStore } from './stores/memory.js';
import { registerSyncStore } from './sync-store.js';
import { corruptMemoryRecord, faultyStore } from './testing.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function setup(options: Partial<IdempotencyOptions> = {}, store?: Store) {
  const clock = new VirtualClock();
  const memory = memoryStore({ clock });
  const warnings: IdempotencyWarning[] = [];
  const idem = createIdempotency({
    store: store ?? memory,
    clock,
    scope: () => 'user-1',
    lockTtl: 3_000,
    ...options,
  });
  idem.onWarning((warning) => warnings.push(warning));
  return { clock, memory, idem, warnings };
}

const NO_KEY = Symbol('no key');

function request(
  overrides: Partial<IdempotencyRequest> = {},
  key: string | string[] | typeof NO_KEY = 'k1',
): IdempotencyRequest {
  return {
    method: 'POST',
    path: '/orders',
    query: '',
    headers: {
      'idempotency-key': key === NO_KEY ? undefined : key,
      'content-type': 'application/json',
    },
    body: '{"amount":10,"currency":"EUR"}',
    ...overrides,
  };
}

/**
 * Waits (in real time: hashing is real Web Crypto work) until `begin` has parked on a timer of
 * the virtual clock, so that advancing the clock reaches it.
 */
async function parked(clock: VirtualClock, baseline: number): Promise<void> {
  const until = Date.now() + 5_000;
  while (clock.pendingTimers <= baseline) {
    if (Date.now() > until) throw new Error('begin never parked on the clock');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function token(result: BeginResult): ExecutionToken {
  expect(result.kind).toBe('execute');
  if (result.kind !== 'execute' || result.token === undefined) throw new Error('no token');
  return result.token;
}

function problemOf(result: BeginResult) {
  expect(result.kind).toBe('reject');
  if (result.kind !== 'reject') throw new Error('not a reject');
  const headers = new Map(result.response.headers);
  expect(headers.get('content-type')).toBe('application/problem+json');
  const body = JSON.parse(decoder.decode(result.response.body)) as Record<string, unknown>;
  expect(body).toEqual(result.problem);
  expect(Object.keys(body).sort()).toEqual(['code', 'detail', 'status', 'title', 'type']);
  expect(body.status).toBe(result.response.status);
  return { status: result.response.status, body, headers };
}

const created = {
  status: 201,
  headers: {
    'content-type': 'application/json',
    location: '/orders/1',
    'set-cookie': ['session=abc', 'other=1'],
    date: 'Thu, 26 Nov 2026 10:00:00 GMT',
    'content-length': '12',
    connection: 'keep-alive',
    'x-request-id': 'r-1',
    'cache-control': 'no-store',
  },
  body: encoder.encode('{"id":1}\u00e9'),
};

async function firstCompleted(idem: Idempotency, req = request()) {
  const t = token(await idem.begin(req));
  expect(await idem.complete(t, created)).toBe('stored');
}

describe('createIdempotency: the behaviour table', () => {
  it('row 1: a method not covered passes through without a record', async () => {
    const { idem, memory } = setup();
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']) {
      const result = await idem.begin(request({ method }));
      expect(result).toEqual({ kind: 'execute', token: undefined });
    }
    expect(memory.size).toBe(0);
  });

  it('row 2: no key and not required passes through every time', async () => {
    const { idem, memory } = setup();
    expect(await idem.begin(request({}, NO_KEY))).toEqual({ kind: 'execute', token: undefined });
    expect(await idem.begin(request({}, []))).toEqual({ kind: 'execute', token: undefined });
    expect(memory.size).toBe(0);
  });

  it('row 3: no key and required is 400 MISSING_KEY', async () => {
    const { idem } = setup({ required: true });
    const { status, body } = problemOf(await idem.begin(request({}, NO_KEY)));
    expect(status).toBe(400);
    expect(body.code).toBe('MISSING_KEY');
    expect(body.type).toMatch(/^https:\/\//);
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['empty quoted', '""'],
    ['too long', 'a'.repeat(256)],
    ['too long quoted', `"${'a'.repeat(256)}"`],
    ['control character', 'a\u0001b'],
    ['non-ASCII', 'clé'],
    ['quoted non-printable', '"a\tb"'],
    ['unclosed quote', '"abc'],
    ['text after the quote', '"abc"x'],
    ['bad escape', '"a\\nb"'],
    ['several values (list)', 'a, b'],
    ['several quoted values', '"a", "b"'],
    ['several header lines', ['a', 'b']],
    ['inner space', 'a b'],
  ])('row 4: %s key is 400 INVALID_KEY', async (_, key) => {
    const { idem } = setup();
    const { status, body } = problemOf(await idem.begin(request({}, key)));
    expect(status).toBe(400);
    expect(body.code).toBe('INVALID_KEY');
  });

  it('row 4: maxKeyLength is inclusive', async () => {
    const { idem } = setup({ maxKeyLength: 8 });
    expect((await idem.begin(request({}, 'a'.repeat(8)))).kind).toBe('execute');
    expect((await idem.begin(request({}, 'b'.repeat(9)))).kind).toBe('reject');
  });

  it('lenient keys: "abc" and abc are the same key; strict accepts only the quoted form', async () => {
    const { idem } = setup();
    await firstCompleted(idem, request({}, '"abc"'));
    expect((await idem.begin(request({}, 'abc'))).kind).toBe('replay');
    expect((await idem.begin(request({}, ' "abc" '))).kind).toBe('replay');
    expect((await idem.begin(request({}, '"a\\"b"'))).kind).toBe('execute');

    const strict = setup({ strict: true }).idem;
    expect(problemOf(await strict.begin(request({}, 'abc'))).body.code).toBe('INVALID_KEY');
    expect((await strict.begin(request({}, '"abc"'))).kind).toBe('execute');
  });

  it('row 5: the first request claims IN_PROGRESS under a lock of lockTtl', async () => {
    const { idem, memory } = setup();
    const t = token(await idem.begin(request()));
    const record = await memory.get(t.key);
    expect(record?.status).toBe('IN_PROGRESS');
    expect(record?.expiresIn).toBe(3_000);
  });

  it('row 6: same key in progress is 409 CONFLICT with Retry-After: 1', async () => {
    const { idem } = setup();
    token(await idem.begin(request()));
    const { status, body, headers } = problemOf(await idem.begin(request()));
    expect(status).toBe(409);
    expect(body.code).toBe('CONFLICT');
    expect(headers.get('retry-after')).toBe('1');
  });

  it('row 6: concurrent { wait } replays when the first completes within the wait', async () => {
    const { idem, clock } = setup({ concurrent: { wait: '2s' } });
    const t = token(await idem.begin(request()));
    const baseline = clock.pendingTimers;
    const second = idem.begin(request());
    await parked(clock, baseline);
    await clock.advance(500);
    await idem.complete(t, created);
    await clock.advance(200);
    const result = await second;
    expect(result.kind).toBe('replay');
  });

  it('row 6: concurrent { wait } answers 409 when the wait runs out', async () => {
    const { idem, clock } = setup({ concurrent: { wait: 1_000 }, lockTtl: 60_000 });
    token(await idem.begin(request()));
    const baseline = clock.pendingTimers;
    const second = idem.begin(request());
    await parked(clock, baseline);
    await clock.advance(1_100);
    expect(problemOf(await second).status).toBe(409);
  });

  it('row 6: concurrent { wait } executes when the first is released during the wait', async () => {
    const { idem, clock } = setup({ concurrent: { wait: 1_000 } });
    const t = token(await idem.begin(request()));
    const baseline = clock.pendingTimers;
    const second = idem.begin(request());
    await parked(clock, baseline);
    await clock.advance(100);
    await idem.release(t);
    await clock.advance(200);
    token(await second);
  });

  it('row 7: in progress with a different fingerprint is 422 (wins over 409)', async () => {
    const { idem } = setup();
    token(await idem.begin(request()));
    const { status, body } = problemOf(await idem.begin(request({ body: '{"amount":11}' })));
    expect(status).toBe(422);
    expect(body.code).toBe('FINGERPRINT_MISMATCH');
  });

  it('row 8: an expired lock is taken over with a new owner token', async () => {
    const { idem, clock, memory } = setup();
    const takeovers: string[] = [];
    idem.onTakeover((event) => takeovers.push(event.key));
    const old = token(await idem.begin(request()));
    leaseOfToken(old).stopRenewal(); // the owner crashed: nobody renews
    await clock.advance(3_001);
    const fresh = token(await idem.begin(request()));
    expect(leaseOfToken(fresh).owner).not.toBe(leaseOfToken(old).owner);
    expect((await memory.get(fresh.key))?.status).toBe('IN_PROGRESS');
    expect(takeovers).toEqual([fresh.key]);
  });

  it('row 9: a completed request is replayed: status, allowed headers, byte-identical body', async () => {
    const { idem } = setup();
    const replays: number[] = [];
    idem.onReplay((event) => replays.push(event.status));
    await firstCompleted(idem);
    const result = await idem.begin(request());
    expect(result.kind).toBe('replay');
    if (result.kind !== 'replay') return;
    expect(result.response.status).toBe(201);
    expect(Array.from(result.response.body)).toEqual(Array.from(created.body));
    expect(result.response.headers).toEqual([
      ['content-type', 'application/json'],
      ['location', '/orders/1'],
      ['x-request-id', 'r-1'],
      ['cache-control', 'no-store'],
      ['idempotent-replayed', 'true'],
    ]);
    expect(replays).toEqual([201]);
  });

  it('row 9: replayHeaders replaces the allow-list (never Set-Cookie, whatever it says)', async () => {
    const { idem } = setup({ replayHeaders: ['Location', 'x-req*'] });
    await firstCompleted(idem);
    const result = await idem.begin(request());
    if (result.kind !== 'replay') throw new Error(result.kind);
    expect(result.response.headers).toEqual([
      ['location', '/orders/1'],
      ['x-request-id', 'r-1'],
      ['idempotent-replayed', 'true'],
    ]);
  });

  it('row 10: completed with a different fingerprint is 422', async () => {
    const { idem } = setup();
    await firstCompleted(idem);
    for (const changed of [
      request({ body: '{"amount":11,"currency":"EUR"}' }),
      request({ path: '/refunds' }),
      request({ query: 'dry=1' }),
      request({ method: 'PATCH' }),
    ]) {
      expect(problemOf(await idem.begin(changed)).body.code).toBe('FINGERPRINT_MISMATCH');
    }
  });

  it('fingerprint: JSON key order, whitespace and query order do not matter', async () => {
    const { idem } = setup();
    await firstCompleted(idem, request({ query: 'a=1&b=2' }));
    const same = request({ query: 'b=2&a=1', body: ' { "currency" : "EUR", "amount": 10 }\n' });
    expect((await idem.begin(same)).kind).toBe('replay');
    expect(
      (
        await idem.begin(
          request({ query: 'b=2&a=1', body: { parsed: { currency: 'EUR', amount: 10 } } }),
        )
      ).kind,
    ).toBe('replay');
  });

  it('fingerprint: a custom fingerprint function decides', async () => {
    const { idem } = setup({ fingerprint: (req) => req.path });
    await firstCompleted(idem);
    expect((await idem.begin(request({ body: 'anything' }))).kind).toBe('replay');
  });

  it('row 11: a record older than recordTtl is absent: a new execution', async () => {
    const { idem, clock } = setup({ recordTtl: '10s' });
    await firstCompleted(idem);
    await clock.advance(9_000);
    expect((await idem.begin(request())).kind).toBe('replay');
    await clock.advance(1_001);
    token(await idem.begin(request()));
  });

  it('row 12: a response < 500 is stored COMPLETED with expiry recordTtl', async () => {
    const { idem, memory, clock } = setup({ recordTtl: '1h' });
    const t = token(await idem.begin(request()));
    await clock.advance(1_000);
    expect(await idem.complete(t, { status: 404, headers: {}, body: new Uint8Array() })).toBe(
      'stored',
    );
    const record = await memory.get(t.key);
    expect(record?.status).toBe('COMPLETED');
    expect(record?.expiresIn).toBe(3_600_000);
    expect(await idem.complete(t, created)).toBe('ignored');
  });

  it('row 13: a response >= 500 releases the key; a retry executes again', async () => {
    const { idem, memory } = setup();
    const t = token(await idem.begin(request()));
    expect(await idem.complete(t, { status: 503, headers: {}, body: new Uint8Array() })).toBe(
      'released',
    );
    expect(await memory.get(t.key)).toBeUndefined();
    token(await idem.begin(request()));
  });

  it('row 13: cacheServerErrors stores and replays a 5xx', async () => {
    const { idem } = setup({ cacheServerErrors: true });
    const t = token(await idem.begin(request()));
    expect(await idem.complete(t, { status: 500, headers: {}, body: encoder.encode('boom') })).toBe(
      'stored',
    );
    const result = await idem.begin(request());
    expect(result.kind === 'replay' && result.response.status).toBe(500);
  });

  it('row 14: a throwing handler releases the key', async () => {
    const { idem } = setup();
    const t = token(await idem.begin(request()));
    expect(await idem.release(t)).toBe('released');
    token(await idem.begin(request()));
  });

  it('row 15: an owner that lost its lock is fenced off; the takeover wins', async () => {
    const { idem, clock } = setup({ lockTtl: 3_000 });
    const fenced: string[] = [];
    idem.onFenced((event) => fenced.push(event.operation));
    const old = token(await idem.begin(request()));
    // A 10 s process pause: the renewal timer fires late, after the lease has lapsed.
    await clock.jump(10_000);
    expect(fenced).toEqual(['renew']);
    const fresh = token(await idem.begin(request()));
    expect(await idem.complete(old, { ...created, status: 200 })).toBe('fenced');
    expect(fenced).toEqual(['renew', 'complete']);
    expect(await idem.complete(fresh, created)).toBe('stored');
    const result = await idem.begin(request());
    expect(result.kind === 'replay' && result.response.status).toBe(201);
  });

  it('row 16: store down at claim, fail-closed: 503 STORE_UNAVAILABLE with Retry-After', async () => {
    const store = faultyStore(memoryStore());
    const { idem } = setup({}, store);
    store.fail('claim', 'reject');
    const { status, body, headers } = problemOf(await idem.begin(request()));
    expect(status).toBe(503);
    expect(body.code).toBe('STORE_UNAVAILABLE');
    expect(headers.get('retry-after')).toBe('1');
  });

  it('row 16: a hanging store never hangs the request: 503 after storeTimeout', async () => {
    const store = faultyStore(memoryStore());
    const { idem, clock } = setup({ storeTimeout: '500ms' }, store);
    const errors: string[] = [];
    idem.onStoreFailure((event) =>
      errors.push(`${event.operation}:${(event.error as Error).name}`),
    );
    store.fail('claim', 'hang');
    const baseline = clock.pendingTimers;
    const pending = idem.begin(request());
    await parked(clock, baseline);
    await clock.advance(500);
    expect(problemOf(await pending).status).toBe(503);
    expect(errors[0]).toBe('claim:StoreTimeoutError');
  });

  it('row 16: fail-open runs unprotected and warns', async () => {
    const store = faultyStore(memoryStore());
    const { idem, warnings } = setup({ onStoreError: 'fail-open' }, store);
    store.fail('claim', 'reject');
    expect(await idem.begin(request())).toEqual({ kind: 'execute', token: undefined });
    expect(warnings.map((w) => w.code)).toEqual(['STORE_FAILING', 'FAIL_OPEN']);
  });

  it('row 17: store down at completion: bounded retries, then the lock expires', async () => {
    const clock = new VirtualClock();
    const store = faultyStore(memoryStore({ clock }));
    const { idem } = setup({ clock, completionAttempts: 3 } as Partial<IdempotencyOptions>, store);
    const t = token(await idem.begin(request()));
    store.fail('complete', 'reject', 2);
    const ok = idem.complete(t, created);
    await clock.advance(1_000);
    expect(await ok).toBe('stored');
    expect(store.calls.complete).toBe(3);

    const t2 = token(await idem.begin(request({}, 'k2')));
    store.fail('complete', 'reject');
    const failed = idem.complete(t2, created);
    await clock.advance(1_000);
    expect(await failed).toBe('failed');
    expect(store.calls.complete).toBe(6);
    expect(problemOf(await idem.begin(request({}, 'k2'))).status).toBe(409);
    await clock.advance(3_000);
    token(await idem.begin(request({}, 'k2')));
  });

  it('row 18: a body over maxStoredBodyBytes is stored without body and replayed as omitted', async () => {
    const { idem } = setup({ maxStoredBodyBytes: 4 });
    const t = token(await idem.begin(request()));
    expect(await idem.complete(t, created)).toBe('stored');
    const result = await idem.begin(request());
    if (result.kind !== 'replay') throw new Error(result.kind);
    expect(result.response.status).toBe(201);
    expect(result.response.body.length).toBe(0);
    expect(result.response.headers).toContainEqual(['idempotency-body-omitted', 'true']);
  });

  it('row 19: a BodyCapture keeps chunks up to the cap, then only counts', async () => {
    const { idem } = setup({ maxStoredBodyBytes: 5 });
    const t = token(await idem.begin(request()));
    const capture = t.capture();
    capture.push(encoder.encode('ab'));
    capture.push(encoder.encode('cde'));
    expect(decoder.decode(capture.bytes())).toBe('abcde');
    capture.push(encoder.encode('f'));
    expect(capture.omitted).toBe(true);
    expect(capture.size).toBe(6);
    expect(
      await idem.complete(t, {
        status: 200,
        headers: {},
        body: capture.bytes(),
        bodyOmitted: capture.omitted,
      }),
    ).toBe('stored');
  });

  it('row 19: a BodyCapture copies each chunk, so a handler reusing its Buffer cannot change the replay', async () => {
    const { idem } = setup();
    const t = token(await idem.begin(request()));
    const capture = t.capture();
    const reused = Buffer.from('hello');
    capture.push(reused);
    reused[0] = 0x4a; // 'J': a Buffer's slice() is a view, so a view would now read "Jello"
    expect(decoder.decode(capture.bytes())).toBe('hello');
  });

  it('row 20: the lock is renewed every lockTtl/3 while the handler runs', async () => {
    const clock = new VirtualClock();
    const inner = memoryStore({ clock });
    const counted = faultyStore(inner);
    const { idem } = setup({ clock, lockTtl: 3_000 }, counted);
    const t = token(await idem.begin(request()));
    await clock.advance(10_000);
    expect(counted.calls.renew).toBe(10);
    expect(problemOf(await idem.begin(request())).status).toBe(409);
    expect(await idem.complete(t, created)).toBe('stored');
    await clock.advance(10_000);
    expect(counted.calls.renew).toBe(10);
    expect(clock.pendingTimers).toBe(1); // only the memory store's sweep
  });

  it('row 21: an unreadable record is treated as absent, with a warning', async () => {
    const { idem, memory, warnings } = setup();
    await firstCompleted(idem);
    corruptMemoryRecord(memory, await idem.storeKey('k1', 'user-1'));
    token(await idem.begin(request()));
    expect(warnings.map((w) => w.code)).toEqual(['UNREADABLE_RECORD']);
  });
});

describe('createIdempotency: scoping', () => {
  it('the same key in two scopes never meets', async () => {
    const clock = new VirtualClock();
    const idem = createIdempotency({
      store: memoryStore({ clock }),
      clock,
      scope: (req) => (req.raw as { user: string }).user,
    });
    token(await idem.begin(request({ raw: { user: 'alice' } })));
    token(await idem.begin(request({ raw: { user: 'bob' } })));
    expect(await idem.storeKey('k', 'alice')).not.toBe(await idem.storeKey('k', 'bob'));
  });

  it('store keys hash the framed version, namespace, scope and key (records outlive releases)', async () => {
    const idem = createIdempotency({ store: memoryStore(), namespace: 'orders', globalKeys: true });
    for (const [key, scope] of [
      ['k', 'alice'],
      ['k', ''],
      ['ключ', 'ünïcode'],
    ] as const) {
      expect(await idem.storeKey(key, scope)).toBe(
        sha256HexSync(framed(['faultline-idempotency-v1', 'orders', scope, key])),
      );
    }
  });

  it('without scope, warns once that keys are global', async () => {
    const noScope = createIdempotency({ store: memoryStore(), lockTtl: 3_000 });
    const seen: string[] = [];
    noScope.onWarning((w) => seen.push(w.code));
    await noScope.begin(request({}, 'a'));
    await noScope.begin(request({}, 'b'));
    expect(seen).toEqual(['NO_SCOPE']);
  });

  it('a scope or fingerprint callback returning a non-string rejects begin with a TypeError', async () => {
    const badScope = createIdempotency({ store: memoryStore(), scope: () => 42 as never });
    await expect(badScope.begin(request())).rejects.toThrow(TypeError);
    const badFingerprint = createIdempotency({
      store: memoryStore(),
      scope: () => 's',
      fingerprint: () => ({}) as never,
    });
    await expect(badFingerprint.begin(request())).rejects.toThrow(
      /fingerprint\(\) must return a string/,
    );
  });

  it('a throwing scope callback rejects begin (left to the framework)', async () => {
    const idem = createIdempotency({
      store: memoryStore(),
      scope: () => {
        throw new Error('auth broke');
      },
    });
    await expect(idem.begin(request())).rejects.toThrow('auth broke');
  });
});

describe('createIdempotency: concurrency', () => {
  it('50 concurrent requests with one key execute once; the rest get 409 or the replay', async () => {
    const { idem } = setup();
    let executions = 0;
    const results = await Promise.all(
      Array.from({ length: 50 }, async () => {
        const result = await idem.begin(request());
        if (result.kind === 'execute' && result.token !== undefined) {
          executions++;
          await idem.complete(result.token, created);
          return 201;
        }
        if (result.kind === 'execute') throw new Error('unprotected execution');
        return result.response.status;
      }),
    );
    expect(executions).toBe(1);
    expect(results.every((status) => status === 201 || status === 409)).toBe(true);
  });
});

describe('createIdempotency: options', () => {
  const store = memoryStore();
  const cases: Array<[string, unknown, ErrorConstructor]> = [
    ['store', undefined, TypeError],
    ['store', { claim() {} }, TypeError],
    ['methods', 'POST', TypeError],
    ['methods', [], RangeError],
    ['methods', ['PO ST'], RangeError],
    ['required', 'yes', TypeError],
    ['header', 42, TypeError],
    ['header', 'Idempotency Key', RangeError],
    ['scope', 'user', TypeError],
    ['fingerprint', 1, TypeError],
    ['recordTtl', true, TypeError],
    ['recordTtl', '24 hours', TypeError],
    ['recordTtl', 0, RangeError],
    ['recordTtl', '400d', RangeError],
    ['lockTtl', {}, TypeError],
    ['lockTtl', 1, RangeError],
    ['lockTtl', '48h', RangeError],
    ['maxKeyLength', '255', TypeError],
    ['maxKeyLength', 0, RangeError],
    ['maxKeyLength', 1.5, RangeError],
    ['maxStoredBodyBytes', null, TypeError],
    ['maxStoredBodyBytes', -1, RangeError],
    ['cacheServerErrors', 1, TypeError],
    ['onStoreError', 1, TypeError],
    ['onStoreError', 'fail-fast', RangeError],
    ['concurrent', 'wait', TypeError],
    ['concurrent', { wait: 'soon' }, TypeError],
    ['concurrent', { wait: -1 }, RangeError],
    ['replayHeaders', 'location', TypeError],
    ['replayHeaders', ['Set-Cookie'], RangeError],
    ['replayHeaders', ['bad header'], RangeError],
    ['strict', 'no', TypeError],
    ['storeTimeout', [], TypeError],
    ['storeTimeout', 0, RangeError],
    ['completionAttempts', '3', TypeError],
    ['completionAttempts', 0, RangeError],
    ['completionAttempts', 11, RangeError],
    ['namespace', 3, TypeError],
    ['clock', 'now', TypeError],
  ];
  it.each(cases)('%s = %j throws %o naming the option', (option, value, Kind) => {
    const build = () =>
      createIdempotency({ store, [option]: value } as unknown as IdempotencyOptions);
    expect(build).toThrow(Kind);
    expect(build).toThrow(new RegExp(`createIdempotency: option "${option.replace('.', '\\.')}`));
  });

  it('lockTtl greater than recordTtl is a RangeError', () => {
    expect(() => createIdempotency({ store, lockTtl: '2h', recordTtl: '1h' })).toThrow(RangeError);
  });

  it('a recordTtl below the default lockTtl names the default, not "received undefined"', () => {
    expect(() => createIdempotency({ store, recordTtl: '30s' })).toThrow(
      'createIdempotency: option "lockTtl" must be at most recordTtl (30000 ms), received its default 60000 ms: set lockTtl too',
    );
  });

  it('a non-object options argument is a TypeError', () => {
    expect(() => createIdempotency(5 as never)).toThrow(TypeError);
  });

  it('durations accept ms and strings', () => {
    const idem = createIdempotency({
      store,
      recordTtl: '1.5h',
      lockTtl: '90s',
      storeTimeout: '250ms',
      concurrent: { wait: '1m' },
    });
    expect(idem.options).toMatchObject({
      recordTtl: 5_400_000,
      lockTtl: 90_000,
      storeTimeout: 250,
      concurrentWait: 60_000,
    });
  });
});

describe('createIdempotency: failure paths (issue 14)', () => {
  /** Advances the virtual clock in small steps until `promise` settles (store calls are async). */
  async function settle<T>(clock: VirtualClock, promise: Promise<T>, ms = 5_000): Promise<T> {
    const call = watchSettled(promise);
    for (let spent = 0; !call.done && spent < ms; spent += 10) {
      await new Promise((resolve) => setImmediate(resolve));
      await clock.advance(10);
    }
    return promise;
  }

  it('item 11: a slow completion that did land is reported stored, not fenced', async () => {
    const clock = new VirtualClock();
    const memory = memoryStore({ clock });
    // The first write lands at once, but its answer arrives after storeTimeout (a slow
    // network); the retried write is answered at once.
    let calls = 0;
    const slow: Store = {
      claim: (key, claim) => memory.claim(key, claim),
      get: (key) => memory.get(key),
      renew: (key, owner, ttl) => memory.renew(key, owner, ttl),
      release: (key, owner) => memory.release(key, owner),
      async complete(key, owner, response, ttl) {
        const landed = await memory.complete(key, owner, response, ttl);
        if (++calls === 1) await clock.sleep(1_000);
        return landed;
      },
    };
    const { idem } = setup({ clock, storeTimeout: '500ms' }, slow);
    const fenced: unknown[] = [];
    idem.onFenced((event) => fenced.push(event));
    const t = token(await idem.begin(request()));
    expect(await settle(clock, idem.complete(t, created))).toBe('stored');
    expect(fenced).toEqual([]);
    expect((await memory.get(t.key))?.status).toBe('COMPLETED');
  });
});

describe('createIdempotency: store failures are logged by default (issue 14, item 12)', () => {
  function capture(): { lines: string[]; restore: () => void } {
    const lines: string[] = [];
    const original = console.warn;
    console.warn = (...args: unknown[]) => lines.push(args.map(String).join(' '));
    return { lines, restore: () => (console.warn = original) };
  }

  it('item 12: the first failure and every change of state are logged once, with the cause', async () => {
    const inner = memoryStore();
    const store = faultyStore(inner);
    const idem = createIdempotency({ store, scope: () => 'u' });
    const log = capture();
    try {
      const auth = Object.assign(new Error('password authentication failed for user "app"'), {
        code: '28P01',
      });
      store.fail('claim', 'reject');
      const down = () => Promise.reject(auth);
      const failing: Store = { claim: down, get: down, complete: down, renew: down, release: down };
      const idem2 = createIdempotency({ store: failing, scope: () => 'u' });
      for (let i = 0; i < 3; i++) {
        expect(problemOf(await idem2.begin(request({}, `a${i}`))).status).toBe(503);
      }
      expect(log.lines.length).toBe(1);
      expect(log.lines[0]).toMatch(/password authentication failed/);
      expect(log.lines[0]).toMatch(/28P01/);
      expect(log.lines[0]).toMatch(/claim/);

      log.lines.length = 0;
      for (let i = 0; i < 3; i++) await idem.begin(request({}, `b${i}`));
      expect(log.lines.length).toBe(1); // failing
      store.heal();
      for (let i = 0; i < 3; i++) token(await idem.begin(request({}, `c${i}`)));
      expect(log.lines.length).toBe(2); // recovered
      expect(log.lines[1]).toMatch(/recovered/);
      store.fail('claim', 'reject');
      await idem.begin(request({}, 'd'));
      await idem.begin(request({}, 'e'));
      expect(log.lines.length).toBe(3); // failing again
    } finally {
      log.restore();
    }
  });

  it('item 12: logger redirects the log; logger: false silences it; onWarning listeners get it instead', async () => {
    const store = faultyStore(memoryStore());
    store.fail('claim', 'reject');
    const log = capture();
    try {
      const redirected: string[] = [];
      const a = createIdempotency({
        store,
        scope: () => 'u',
        logger: { warn: (message) => redirected.push(message) },
      });
      await a.begin(request());
      expect(redirected.length).toBe(1);
      const b = createIdempotency({ store, scope: () => 'u', logger: false });
      await b.begin(request());
      const c = createIdempotency({ store, scope: () => 'u' });
      const codes: string[] = [];
      c.onWarning((warning) => codes.push(warning.code));
      await c.begin(request());
      expect(codes).toEqual(['STORE_FAILING']);
      expect(log.lines).toEqual([]);
      expect(() => createIdempotency({ store, logger: 'console' as never })).toThrow(TypeError);
      expect(() => createIdempotency({ store, logger: {} as never })).toThrow(/option "logger"/);
    } finally {
      log.restore();
    }
  });
});

describe('createIdempotency: a scope that returns nothing (issue 14, item 8)', () => {
  const scoped = (options: Partial<IdempotencyOptions> = {}) =>
    createIdempotency({
      store: memoryStore(),
      scope: (req) => req.headers['x-user-id'] as string | undefined,
      ...options,
    });

  it('item 8: a request whose scope is undefined or empty is refused with 400 MISSING_SCOPE, never run in the global key space', async () => {
    const idem = scoped();
    const alice = request({ headers: { 'idempotency-key': 'k1', 'x-user-id': 'alice' } });
    token(await idem.begin(alice));
    for (const headers of [
      { 'idempotency-key': 'k1' },
      { 'idempotency-key': 'k1', 'x-user-id': '' },
    ]) {
      const refused = problemOf(await idem.begin(request({ headers })));
      expect(refused.status).toBe(400);
      expect(refused.body.code).toBe('MISSING_SCOPE');
    }
  });

  it('item 8: globalKeys: true opts into one global key space for requests without a scope', async () => {
    const idem = scoped({ globalKeys: true });
    const t = token(await idem.begin(request({ headers: { 'idempotency-key': 'g' } })));
    await idem.complete(t, created);
    const replay = await idem.begin(request({ headers: { 'idempotency-key': 'g' } }));
    expect(replay.kind).toBe('replay');
    expect(() => scoped({ globalKeys: 'yes' as never })).toThrow(TypeError);
  });

  it('item 8: without a scope option keys are global and a warning says so once (unless globalKeys: true)', async () => {
    const warned: string[] = [];
    const noScope = createIdempotency({
      store: memoryStore(),
      logger: { warn: (m) => warned.push(m) },
    });
    await noScope.begin(request({}, 'a'));
    await noScope.begin(request({}, 'b'));
    expect(warned.length).toBe(1);
    const quiet = createIdempotency({
      store: memoryStore(),
      globalKeys: true,
      logger: { warn: (m) => warned.push(m) },
    });
    await quiet.begin(request({}, 'a'));
    expect(warned.length).toBe(1);
  });
});

describe('createIdempotency: an in-process store answered without promises', () => {
  it('a full memory store: 503, onStoreFailure and one STORE_FAILING warning, then STORE_RECOVERED', async () => {
    const clock = new VirtualClock();
    const store = memoryStore({ clock, maxEntries: 1 });
    const { idem, warnings } = setup({ clock }, store);
    const failures: string[] = [];
    idem.onStoreFailure((event) =>
      failures.push(`${event.operation}:${(event.error as Error).name}`),
    );
    const first = token(await idem.begin(request({}, 'a')));
    for (const key of ['b', 'c']) {
      const { status, body } = problemOf(await idem.begin(request({}, key)));
      expect([status, body.code]).toEqual([503, 'STORE_UNAVAILABLE']);
    }
    expect(failures).toEqual(['claim:StoreFullError', 'claim:StoreFullError']);
    expect(warnings.map((w) => w.code)).toEqual(['STORE_FAILING']);
    expect(await idem.release(first)).toBe('released');
    token(await idem.begin(request({}, 'b')));
    expect(warnings.map((w) => w.code)).toEqual(['STORE_FAILING', 'STORE_RECOVERED']);
  });

  it('finishing answers stored, released, fenced and ignored as through the promises', async () => {
    const { idem, clock } = setup({ lockTtl: 3_000 });
    const a = token(await idem.begin(request({}, 'a')));
    expect(await idem.complete(a, created)).toBe('stored');
    expect(await idem.complete(a, created)).toBe('ignored');
    expect(await idem.release(a)).toBe('ignored');
    const b = token(await idem.begin(request({}, 'b')));
    expect(await idem.release(b)).toBe('released');
    const fenced: string[] = [];
    idem.onFenced((event) => fenced.push(event.operation));
    const c = token(await idem.begin(request({}, 'c')));
    await clock.jump(10_000); // the lease lapses (renewal fenced), a takeover claims the key
    token(await idem.begin(request({}, 'c')));
    expect(await idem.release(c)).toBe('fenced');
    expect(fenced).toEqual(['renew', 'release']);
  });

  it('a synchronous completion or release that throws is reported and answers failed', async () => {
    const clock = new VirtualClock();
    const inner = memoryStore({ clock });
    const store: Store = {
      claim: inner.claim,
      get: inner.get,
      complete: inner.complete,
      renew: inner.renew,
      release: inner.release,
    };
    const boom = new Error('store bug');
    registerSyncStore(store, {
      claim: store.claim,
      complete: store.complete,
      release: store.release,
      claimNow: () => ({ claimed: true, previous: 'none' }),
      completeNow: () => {
        throw boom;
      },
      releaseNow: () => {
        throw boom;
      },
    });
    const { idem, warnings } = setup({ clock }, store);
    const failures: string[] = [];
    idem.onStoreFailure((event) => failures.push(event.operation));
    expect(await idem.complete(token(await idem.begin(request({}, 'a'))), created)).toBe('failed');
    expect(await idem.release(token(await idem.begin(request({}, 'b'))))).toBe('failed');
    expect(failures).toEqual(['complete', 'release']);
    // Failing at the completion, recovered at the next claim, failing again at the release.
    expect(warnings.map((w) => w.code)).toEqual([
      'STORE_FAILING',
      'STORE_RECOVERED',
      'STORE_FAILING',
    ]);
  });

  it('methods replaced on the store (a spy, a fault injector) are called, not bypassed', async () => {
    const clock = new VirtualClock();
    const store = memoryStore({ clock });
    const calls: string[] = [];
    const { claim, complete, release } = store;
    store.claim = (key, claimed) => {
      calls.push('claim');
      return claim(key, claimed);
    };
    store.complete = (key, owner, response, ttl) => {
      calls.push('complete');
      return complete(key, owner, response, ttl);
    };
    store.release = (key, owner) => {
      calls.push('release');
      return release(key, owner);
    };
    const { idem } = setup({ clock }, store);
    expect(await idem.complete(token(await idem.begin(request({}, 'a'))), created)).toBe('stored');
    expect(await idem.release(token(await idem.begin(request({}, 'b'))))).toBe('released');
    expect(calls).toEqual(['claim', 'complete', 'claim', 'release']);
    expect((await idem.begin(request({}, 'a'))).kind).toBe('replay');
  });
});
