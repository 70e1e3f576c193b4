import { VirtualClock } from '@faultline/clock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leaseOfToken } from './execution-token.js';
import { createIdempotency, type ExecutionToken } from './idempotency.js';
import { memoryStore } from './stores/memory.js';

// A reference model of the behaviour table (rows 5-15, 20) against which the real core and
// memory store run random sequences of requests, completions, crashes and clock moves.

const LOCK = 3_000;
const RENEW = LOCK / 3;
const RECORD = 10_000;

type Op =
  | { kind: 'begin'; key: number; fp: number }
  | { kind: 'complete'; token: number; status: 201 | 503 }
  | { kind: 'crash'; token: number }
  | { kind: 'advance'; ms: number };

type ModelRecord =
  | { state: 'IN_PROGRESS'; fp: number; owner: number; claimedAt: number; crashedAt?: number }
  | { state: 'COMPLETED'; fp: number; status: number; expiresAt: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('begin' as const),
      key: fc.integer({ min: 0, max: 1 }),
      fp: fc.integer({ min: 0, max: 1 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('complete' as const),
      token: fc.nat(3),
      status: fc.constantFrom(201 as const, 503 as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const), token: fc.nat(3) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.oneof(
        fc.integer({ min: 0, max: 6_000 }),
        fc.integer({ min: 0, max: 12 }).map((n) => n * 500),
      ),
    }),
  },
);

/** The lock expiry of an IN_PROGRESS record: renewed every RENEW ms until its owner crashed. */
function lockExpiry(record: Extract<ModelRecord, { state: 'IN_PROGRESS' }>, now: number): number {
  const until = record.crashedAt ?? now;
  return record.claimedAt + RENEW * Math.floor((until - record.claimedAt) / RENEW) + LOCK;
}

describe('createIdempotency against a reference model', () => {
  it('property: outcomes, executions and fencing match the behaviour table', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        const clock = new VirtualClock();
        const store = memoryStore({ clock, sweepInterval: 2 ** 30 });
        const idem = createIdempotency({
          store,
          clock,
          scope: () => 'model',
          lockTtl: LOCK,
          recordTtl: RECORD,
          fingerprint: (request) => String(request.body),
        });
        const model = new Map<number, ModelRecord>();
        const tokens: Array<{
          token: ExecutionToken;
          key: number;
          owner: number;
          finished: boolean;
        }> = [];
        try {
          for (const step of ops) {
            const now = clock.now();
            if (step.kind === 'advance') {
              await clock.advance(step.ms);
              continue;
            }
            if (step.kind === 'begin') {
              const result = await idem.begin({
                method: 'POST',
                path: '/',
                headers: { 'idempotency-key': `key-${step.key}` },
                body: `fp-${step.fp}`,
              });
              const record = model.get(step.key);
              const live =
                record !== undefined &&
                (record.state === 'COMPLETED'
                  ? record.expiresAt > now
                  : lockExpiry(record, now) > now);
              if (!live) {
                expect(result.kind).toBe('execute');
                if (result.kind !== 'execute' || result.token === undefined) return;
                const owner = tokens.length;
                tokens.push({ token: result.token, key: step.key, owner, finished: false });
                model.set(step.key, { state: 'IN_PROGRESS', fp: step.fp, owner, claimedAt: now });
              } else if (record.fp !== step.fp) {
                expect(result.kind === 'reject' && result.problem.code).toBe(
                  'FINGERPRINT_MISMATCH',
                );
              } else if (record.state === 'IN_PROGRESS') {
                expect(result.kind === 'reject' && result.problem.code).toBe('CONFLICT');
              } else {
                expect(result.kind).toBe('replay');
                if (result.kind === 'replay') expect(result.response.status).toBe(record.status);
              }
              continue;
            }
            const entry = tokens[step.token];
            if (entry === undefined) continue;
            const record = model.get(entry.key);
            const owns = record?.state === 'IN_PROGRESS' && record.owner === entry.owner;
            if (step.kind === 'crash') {
              if (!entry.finished && owns && record.crashedAt === undefined) {
                leaseOfToken(entry.token).stopRenewal();
                record.crashedAt = now;
              }
              continue;
            }
            const outcome = await idem.complete(entry.token, {
              status: step.status,
              headers: {},
              body: new Uint8Array([1]),
            });
            if (entry.finished) {
              expect(outcome).toBe('ignored');
              continue;
            }
            entry.finished = true;
            if (step.status >= 500) {
              // Release is a compare-and-delete on the owner (an expired lock nobody took over
              // may still be released).
              expect(outcome).toBe(owns ? 'released' : 'fenced');
              if (owns) model.delete(entry.key);
            } else if (owns && lockExpiry(record, now) > now) {
              expect(outcome).toBe('stored');
              model.set(entry.key, {
                state: 'COMPLETED',
                fp: record.fp,
                status: step.status,
                expiresAt: now + RECORD,
              });
            } else {
              expect(outcome).toBe('fenced');
            }
          }
        } finally {
          for (const entry of tokens) leaseOfToken(entry.token).stopRenewal();
          store.close();
        }
      }),
      {
        numRuns: 400,
        examples: [
          // A crash after one renewal: the lock lasts from that renewal, not from the claim.
          [
            [
              { kind: 'begin', key: 0, fp: 0 },
              { kind: 'advance', ms: 1_000 },
              { kind: 'crash', token: 0 },
              { kind: 'advance', ms: 2_500 },
              { kind: 'begin', key: 0, fp: 0 },
              { kind: 'advance', ms: 600 },
              { kind: 'begin', key: 0, fp: 0 },
              { kind: 'complete', token: 0, status: 201 },
            ],
          ],
        ],
      },
    );
  });
});
