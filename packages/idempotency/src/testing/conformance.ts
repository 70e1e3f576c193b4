import assert from 'node:assert/strict';
import type { Store, StoredRecord, StoredResponse } from '../store.js';

/** The test-runner functions the suite registers its cases with (Vitest, Jest, node:test...). */
export interface TestApi {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>, timeout?: number): unknown;
}

/** Options for {@link describeStoreConformance}. */
export interface ConformanceOptions extends TestApi {
  /**
   * Moves the store's clock forward by `ms`. For a memory store on a `VirtualClock`:
   * `(ms) => clock.advance(ms)`. For a real server store: {@link realTime} (sleeps for real),
   * together with a small {@link ttl} such as 200 ms.
   */
  advance(ms: number): Promise<void>;
  /**
   * The short lease/record TTL (ms) the time-dependent cases use. Each case that checks
   * expiry advances by `ttl * 1.5 + 50`; cases that check liveness use TTLs of `ttl * 20` or
   * more and never depend on a short TTL not having elapsed, so a loaded machine cannot make
   * them flaky. Default 200.
   */
  ttl?: number;
  /**
   * Writes an undecodable value under `key` directly in the backend (bypassing the Store API).
   * When given, the unreadable-record cases (behaviour row 21) run.
   */
  corrupt?(store: Store, key: string): void | Promise<void>;
  /** Called after every case with the store it used (close connections, drop keys...). */
  cleanup?(store: Store): void | Promise<void>;
  /** Per-case timeout passed to `it` (ms). Default 10 000. */
  timeout?: number;
}

/** Sleeps for real: the `advance` of a store whose clock is a server's (Redis, PostgreSQL). */
export function realTime(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let uniqueCounter = 0;

function uniqueKey(label: string): string {
  uniqueCounter++;
  const random = Math.random().toString(36).slice(2, 10);
  return `conformance:${label}:${Date.now().toString(36)}:${random}:${uniqueCounter}`;
}

function response(overrides: Partial<StoredResponse> = {}): StoredResponse {
  return {
    status: 201,
    headers: [
      ['content-type', 'application/json'],
      ['location', '/orders/42'],
      ['link', '</a>; rel="a"'],
      ['link', '</b>; rel="b"'],
    ],
    // Bytes that are not valid UTF-8 (0xff, 0xfe) and a NUL: stores must keep raw bytes.
    body: new Uint8Array([0x7b, 0x7d, 0x00, 0xff, 0xfe, 0x80, 0x0a]),
    bodyOmitted: false,
    ...overrides,
  };
}

function assertResponse(actual: StoredResponse | undefined, expected: StoredResponse): void {
  assert.ok(actual !== undefined, 'a COMPLETED record carries its response');
  assert.equal(actual.status, expected.status);
  assert.deepEqual(
    actual.headers.map(([name, value]) => [name, value]),
    expected.headers.map(([name, value]) => [name, value]),
  );
  assert.ok(actual.body instanceof Uint8Array, 'body is a Uint8Array');
  assert.deepEqual(Array.from(actual.body), Array.from(expected.body));
  assert.equal(actual.bodyOmitted, expected.bodyOmitted);
}

function assertLive(
  record: StoredRecord | undefined,
  status: StoredRecord['status'],
): StoredRecord {
  assert.ok(record !== undefined, `expected a live ${status} record, found none`);
  assert.equal(record.status, status);
  assert.equal(typeof record.expiresIn, 'number');
  assert.ok(record.expiresIn > 0, `expiresIn must be > 0, got ${record.expiresIn}`);
  if (status === 'IN_PROGRESS') assert.equal(record.response, undefined);
  return record;
}

/**
 * Registers the shared `Store` conformance suite: every store (memory, Redis, PostgreSQL, your
 * own) must pass it. The cases cover the store half of the idempotency behaviour table: atomic
 * claim (one winner among 50 concurrent claims), fencing of `complete`/`renew`/`release` on the
 * owner token, lock expiry and takeover, record expiry, renewal, byte-identical bodies and
 * unreadable records.
 *
 * ```ts
 * import { describe, it } from 'vitest';
 * const clock = new VirtualClock();
 * describeStoreConformance('memoryStore', () => memoryStore({ clock }), {
 *   describe, it, advance: (ms) => clock.advance(ms),
 * });
 * ```
 */
export function describeStoreConformance(
  name: string,
  makeStore: () => Store | Promise<Store>,
  options: ConformanceOptions,
): void {
  const { describe, it, advance } = options;
  const ttl = options.ttl ?? 200;
  const long = ttl * 20;
  const pastTtl = ttl * 1.5 + 50;
  const timeout = options.timeout ?? 10_000;

  const test = (title: string, body: (store: Store) => Promise<void>): void => {
    it(
      title,
      async () => {
        const store = await makeStore();
        try {
          await body(store);
        } finally {
          await options.cleanup?.(store);
        }
      },
      timeout,
    );
  };

  describe(`Store conformance: ${name}`, () => {
    describe('claim', () => {
      test('claims an absent key', async (store) => {
        const key = uniqueKey('absent');
        const result = await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
        assert.equal(result.claimed, true);
        if (result.claimed) assert.equal(result.previous, 'none');
      });

      test('a second claim finds the IN_PROGRESS record with its fingerprint', async (store) => {
        const key = uniqueKey('second');
        await store.claim(key, { owner: 'a', fingerprint: 'fp-1', lockTtl: long });
        const result = await store.claim(key, { owner: 'b', fingerprint: 'fp-2', lockTtl: long });
        assert.equal(result.claimed, false);
        if (!result.claimed) {
          const record = assertLive(result.record, 'IN_PROGRESS');
          assert.equal(record.fingerprint, 'fp-1');
          assert.ok(record.expiresIn <= long, `expiresIn ${record.expiresIn} <= lockTtl ${long}`);
        }
      });

      test('exactly one of 50 concurrent claims for one key wins', async (store) => {
        const key = uniqueKey('race');
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            store.claim(key, { owner: `owner-${i}`, fingerprint: 'fp', lockTtl: long }),
          ),
        );
        assert.equal(results.filter((result) => result.claimed).length, 1);
      });

      test('different keys do not meet', async (store) => {
        const a = uniqueKey('a');
        const b = uniqueKey('b');
        assert.equal(
          (await store.claim(a, { owner: 'a', fingerprint: 'x', lockTtl: long })).claimed,
          true,
        );
        assert.equal(
          (await store.claim(b, { owner: 'b', fingerprint: 'x', lockTtl: long })).claimed,
          true,
        );
      });

      test('accepts keys with any characters', async (store) => {
        for (const suffix of ['ü€😀', 'a:b{c}*?[x]', ' ', 'k'.repeat(300)]) {
          const key = `${uniqueKey('chars')}${suffix}`;
          const result = await store.claim(key, { owner: 'o', fingerprint: 'f', lockTtl: long });
          assert.equal(result.claimed, true, `claim of ${JSON.stringify(suffix)}`);
          assert.equal(await store.complete(key, 'o', response(), long), true);
          assertResponse((await store.get(key))?.response, response());
        }
      });

      test('a claim on a COMPLETED record returns it with its response', async (store) => {
        const key = uniqueKey('completed');
        await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
        assert.equal(await store.complete(key, 'a', response(), long), true);
        const result = await store.claim(key, { owner: 'b', fingerprint: 'fp', lockTtl: long });
        assert.equal(result.claimed, false);
        if (!result.claimed) {
          const record = assertLive(result.record, 'COMPLETED');
          assert.equal(record.fingerprint, 'fp');
          assertResponse(record.response, response());
        }
      });
    });

    describe('get', () => {
      test('returns undefined for an absent key', async (store) => {
        assert.equal(await store.get(uniqueKey('none')), undefined);
      });

      test('returns the IN_PROGRESS record without a response', async (store) => {
        const key = uniqueKey('get');
        await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
        const record = assertLive(await store.get(key), 'IN_PROGRESS');
        assert.equal(record.fingerprint, 'fp');
      });
    });

    describe('complete', () => {
      test('stores status, headers (order and duplicates) and raw body bytes', async (store) => {
        const key = uniqueKey('complete');
        await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
        assert.equal(await store.complete(key, 'a', response(), long), true);
        const record = assertLive(await store.get(key), 'COMPLETED');
        assert.equal(record.fingerprint, 'fp');
        assert.ok(record.expiresIn <= long);
        assertResponse(record.response, response());
      });

      test('keeps a large body byte-identical', async (store) => {
        const key = uniqueKey('large');
        const body = new Uint8Array(256 * 1024);
        for (let i = 0; i < body.length; i++) body[i] = (i * 131 + 7) & 0xff;
        await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
        assert.equal(await store.complete(key, 'a', response({ body }), long), true);
        assertResponse((await store.get(key))?.response, response({ body }));
      });

      test('keeps an omitted body and an empty header list', async (store) => {
        const key = uniqueKey('omitted');
        const omitted = response({
          status: 200,
          headers: [],
          body: new Uint8Array(0),
          bodyOmitted: true,
        });
        await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
        assert.equal(await store.complete(key, 'a', omitted, long), true);
        assertResponse((await store.get(key))?.response, omitted);
      });

      test('is refused for another owner and leaves the record alone', async (store) => {
        const key = uniqueKey('fence');
        await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
        assert.equal(await store.complete(key, 'b', response(), long), false);
        assertLive(await store.get(key), 'IN_PROGRESS');
      });

      test('is refused for an absent key and creates nothing', async (store) => {
        const key = uniqueKey('absent-complete');
        assert.equal(await store.complete(key, 'a', response(), long), false);
        assert.equal(await store.get(key), undefined);
      });

      test('a second completion by the same owner answers true and changes nothing (a retried write that had landed)', async (store) => {
        const key = uniqueKey('twice');
        await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
        assert.equal(await store.complete(key, 'a', response(), long), true);
        assert.equal(await store.complete(key, 'a', response({ status: 500 }), long), true);
        assert.equal((await store.get(key))?.response?.status, 201);
      });

      test('a completion by another owner of a COMPLETED record is refused and changes nothing', async (store) => {
        const key = uniqueKey('twice-other');
        await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
        assert.equal(await store.complete(key, 'a', response(), long), true);
        assert.equal(await store.complete(key, 'b', response({ status: 500 }), long), false);
        assert.equal((await store.get(key))?.response?.status, 201);
      });
    });

    describe('abandon (optional: stores whose calls can overtake each other)', () => {
      test('a claim by the abandoned owner that lands afterwards holds nothing; another owner claims at once', async (store) => {
        if (store.abandon === undefined) return;
        const key = uniqueKey('abandon-late');
        await store.abandon(key, 'a', long);
        const late = await store
          .claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long })
          .catch(() => undefined);
        assert.ok(late === undefined || !late.claimed, 'the late claim must not hold the key');
        assert.equal(await store.get(key), undefined);
        assert.equal(await store.complete(key, 'a', response(), long), false);
        const retry = await store.claim(key, { owner: 'b', fingerprint: 'fp', lockTtl: long });
        assert.equal(retry.claimed, true);
      });

      test('after the claim landed, abandon frees the key for another owner', async (store) => {
        if (store.abandon === undefined) return;
        const key = uniqueKey('abandon-landed');
        await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
        await store.abandon(key, 'a', long);
        assert.equal(await store.renew(key, 'a', long), false);
        const retry = await store.claim(key, { owner: 'b', fingerprint: 'fp', lockTtl: long });
        assert.equal(retry.claimed, true);
      });

      test('never touches another owner’s lock or a COMPLETED record', async (store) => {
        if (store.abandon === undefined) return;
        const locked = uniqueKey('abandon-other');
        await store.claim(locked, { owner: 'b', fingerprint: 'fp', lockTtl: long });
        await store.abandon(locked, 'a', long);
        assert.equal((await store.get(locked))?.status, 'IN_PROGRESS');
        assert.equal(await store.complete(locked, 'b', response(), long), true);
        await store.abandon(locked, 'b', long);
        assert.equal((await store.get(locked))?.status, 'COMPLETED');
      });
    });

    describe('release', () => {
      test('deletes the owner’s IN_PROGRESS record so that a retry claims again', async (store) => {
        const key = uniqueKey('release');
        await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
        assert.equal(await store.release(key, 'a'), true);
        assert.equal(await store.get(key), undefined);
        assert.equal(
          (await store.claim(key, { owner: 'b', fingerprint: 'fp', lockTtl: long })).claimed,
          true,
        );
      });

      test('never deletes another owner’s record', async (store) => {
        const key = uniqueKey('release-other');
        await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
        assert.equal(await store.release(key, 'b'), false);
        assertLive(await store.get(key), 'IN_PROGRESS');
      });

      test('never deletes a COMPLETED record', async (store) => {
        const key = uniqueKey('release-completed');
        await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
        await store.complete(key, 'a', response(), long);
        assert.equal(await store.release(key, 'a'), false);
        assertLive(await store.get(key), 'COMPLETED');
      });

      test('returns false for an absent key', async (store) => {
        assert.equal(await store.release(uniqueKey('release-absent'), 'a'), false);
      });
    });

    describe('renew', () => {
      test('is accepted for the owner and refused for anyone else', async (store) => {
        const key = uniqueKey('renew');
        await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
        assert.equal(await store.renew(key, 'a', long), true);
        assert.equal(await store.renew(key, 'b', long), false);
        assert.equal(await store.renew(uniqueKey('renew-absent'), 'a', long), false);
      });

      test('is refused once the record is COMPLETED', async (store) => {
        const key = uniqueKey('renew-completed');
        await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
        await store.complete(key, 'a', response(), long);
        assert.equal(await store.renew(key, 'a', long), false);
        assertLive(await store.get(key), 'COMPLETED');
      });

      test('extends the lock beyond its first expiry', async (store) => {
        const key = uniqueKey('renew-extends');
        await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: ttl });
        assert.equal(await store.renew(key, 'a', long), true);
        await advance(pastTtl);
        const result = await store.claim(key, { owner: 'b', fingerprint: 'fp', lockTtl: long });
        assert.equal(result.claimed, false, 'the renewed lock is still held');
        assert.equal(await store.complete(key, 'a', response(), long), true);
      });
    });

    describe('expiry (store clock)', () => {
      test('an expired lock is taken over exactly once; the old owner is fenced off', async (store) => {
        const key = uniqueKey('takeover');
        await store.claim(key, { owner: 'old', fingerprint: 'fp', lockTtl: ttl });
        await advance(pastTtl);
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.claim(key, { owner: `new-${i}`, fingerprint: 'fp', lockTtl: long }),
          ),
        );
        const winners = results.flatMap((result, i) => (result.claimed ? [i] : []));
        assert.equal(winners.length, 1, 'exactly one takeover');
        const first = results[winners[0]!]!;
        if (first.claimed) assert.ok(first.previous === 'expired' || first.previous === 'none');
        const winner = `new-${winners[0]}`;
        assert.equal(await store.complete(key, 'old', response({ status: 299 }), long), false);
        assert.equal(await store.renew(key, 'old', long), false);
        assert.equal(await store.release(key, 'old'), false);
        assertLive(await store.get(key), 'IN_PROGRESS');
        assert.equal(await store.complete(key, winner, response(), long), true);
        assert.equal((await store.get(key))?.response?.status, 201);
      });

      test('a late completion after the lock expired is refused even without a takeover', async (store) => {
        const key = uniqueKey('late');
        await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: ttl });
        await advance(pastTtl);
        assert.equal(await store.complete(key, 'a', response(), long), false);
        assert.equal(await store.renew(key, 'a', long), false);
        assert.equal(await store.get(key), undefined);
      });

      test('a COMPLETED record expires after recordTtl and is then absent', async (store) => {
        const key = uniqueKey('record-ttl');
        await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
        assert.equal(await store.complete(key, 'a', response(), ttl), true);
        await advance(pastTtl);
        assert.equal(await store.get(key), undefined);
        const result = await store.claim(key, { owner: 'b', fingerprint: 'other', lockTtl: long });
        assert.equal(result.claimed, true);
        assertLive(await store.get(key), 'IN_PROGRESS');
        assert.equal((await store.get(key))?.fingerprint, 'other');
      });

      test('recordTtl counts from completion, not from the claim', async (store) => {
        const key = uniqueKey('record-from-completion');
        await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
        await advance(pastTtl);
        assert.equal(await store.complete(key, 'a', response(), long), true);
        assertLive(await store.get(key), 'COMPLETED');
      });
    });

    if (options.corrupt !== undefined) {
      const corrupt = options.corrupt;
      describe('unreadable records', () => {
        test('get treats an unreadable record as absent', async (store) => {
          const key = uniqueKey('corrupt-get');
          await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
          await store.complete(key, 'a', response(), long);
          await corrupt(store, key);
          assert.equal(await store.get(key), undefined);
        });

        test('claim replaces an unreadable record and reports it', async (store) => {
          const key = uniqueKey('corrupt-claim');
          await store.claim(key, { owner: 'a', fingerprint: 'fp', lockTtl: long });
          await store.complete(key, 'a', response(), long);
          await corrupt(store, key);
          const result = await store.claim(key, { owner: 'b', fingerprint: 'fp2', lockTtl: long });
          assert.equal(result.claimed, true);
          if (result.claimed) assert.equal(result.previous, 'unreadable');
          assert.equal(await store.complete(key, 'b', response(), long), true);
          assert.equal((await store.get(key))?.fingerprint, 'fp2');
        });
      });
    }
  });
}
