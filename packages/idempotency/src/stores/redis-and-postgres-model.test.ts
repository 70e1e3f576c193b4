import { VirtualClock } from '@faultline/clock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Store, StoredRecord, StoredResponse } from '../store.js';
import { memoryStore } from './memory.js';
import { realStores } from './real-stores.cases.js';

// Model-based property test: random sequences of claim / complete / renew / release / get on a
// few keys and owners give the same answers from the Redis and PostgreSQL stores as from the
// memory store (the reference model, itself covered by the conformance suite). TTLs are long so
// that no expiry happens mid-sequence; expiry is covered by the conformance and clock tests.

const LONG = 600_000;

const keys = ['a', 'b', 'c'];
const owners = ['o1', 'o2', 'o3'];

type Op =
  | { op: 'claim'; key: string; owner: string; fingerprint: string }
  | { op: 'complete'; key: string; owner: string; status: number; body: number[] }
  | { op: 'renew' | 'release'; key: string; owner: string }
  | { op: 'get'; key: string };

const key = fc.constantFrom(...keys);
const owner = fc.constantFrom(...owners);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('claim' as const),
    key,
    owner,
    fingerprint: fc.constantFrom('f1', 'f2'),
  }),
  fc.record({
    op: fc.constant('complete' as const),
    key,
    owner,
    status: fc.constantFrom(200, 201, 422),
    body: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 8 }),
  }),
  fc.record({ op: fc.constantFrom('renew' as const, 'release' as const), key, owner }),
  fc.record({ op: fc.constant('get' as const), key }),
);

/** Comparable view of a result: expiresIn only as "positive", bodies as arrays. */
function view(record: StoredRecord | undefined): unknown {
  if (record === undefined) return undefined;
  return {
    status: record.status,
    fingerprint: record.fingerprint,
    live: record.expiresIn > 0,
    response:
      record.response === undefined
        ? undefined
        : { ...record.response, body: Array.from(record.response.body) },
  };
}

async function apply(store: Store, prefix: string, op: Op): Promise<unknown> {
  const k = `${prefix}${op.key}`;
  switch (op.op) {
    case 'claim': {
      const result = await store.claim(k, {
        owner: op.owner,
        fingerprint: op.fingerprint,
        lockTtl: LONG,
      });
      return result.claimed ? result : { claimed: false, record: view(result.record) };
    }
    case 'complete': {
      const response: StoredResponse = {
        status: op.status,
        headers: [['content-type', 'application/octet-stream']],
        body: new Uint8Array(op.body),
        bodyOmitted: false,
      };
      return store.complete(k, op.owner, response, LONG);
    }
    case 'renew':
      return store.renew(k, op.owner, LONG);
    case 'release':
      return store.release(k, op.owner);
    case 'get':
      return view(await store.get(k));
  }
}

const subjects = await realStores('model', 2);

describe('Redis and PostgreSQL stores behave like the reference model', () => {
  for (const [name, available, make] of subjects) {
    it.skipIf(!available)(
      `${name}: random operation sequences`,
      async () => {
        const store = make();
        let sequence = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
            const model = memoryStore({ clock: new VirtualClock() });
            const prefix = `seq${sequence++}:`; // fresh keys per sequence
            for (const op of ops) {
              const expected = await apply(model, prefix, op);
              const actual = await apply(store, prefix, op);
              expect(actual, JSON.stringify(op)).toEqual(expected);
            }
            model.close();
          }),
          { numRuns: 60 },
        );
      },
      60_000,
    );
  }
});
