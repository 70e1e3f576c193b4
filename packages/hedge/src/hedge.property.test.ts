import { VirtualClock } from '@faultline/clock';
import type { Context } from '@faultline/core';
import { type RetryBudget, type RetryTicket, ratioBudget } from '@faultline/retry';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hedge } from './hedge.js';

/** One attempt's fate: answer after `latency` ms, with an error when `fails`. */
interface Fate {
  readonly latency: number;
  readonly fails: boolean;
}

const fate = fc.record({ latency: fc.integer({ min: 1, max: 300 }), fails: fc.boolean() });
/** A call: when it starts, and the fate of each of its (up to 4) attempts. */
const call = fc.record({
  at: fc.integer({ min: 0, max: 2000 }),
  fates: fc.array(fate, { minLength: 4, maxLength: 4 }),
});

/** A budget that counts what it grants, around another budget. */
function counting(inner: RetryBudget) {
  const counts = { begun: 0, asked: 0, granted: 0, afterDenial: 0 };
  const budget: RetryBudget = {
    begin(): RetryTicket {
      counts.begun++;
      const ticket = inner.begin();
      let denied = false;
      return {
        tryRetry(outcome) {
          counts.asked++;
          if (denied) counts.afterDenial++;
          const granted = ticket.tryRetry(outcome);
          if (granted) counts.granted++;
          else denied = true;
          return granted;
        },
        succeed: () => ticket.succeed(),
        fail: () => ticket.fail(),
      };
    },
  };
  return { budget, counts };
}

/** Runs the calls on a virtual clock; returns how many attempts beyond the first were sent. */
async function runCalls(
  clock: VirtualClock,
  calls: ReadonlyArray<{ at: number; fates: readonly Fate[] }>,
  options: { delay: number; maxHedgedAttempts: number; budget: RetryBudget },
): Promise<{ hedges: number; settled: number }> {
  const policy = hedge({ ...options, clock });
  let hedges = 0;
  let settled = 0;
  for (const { at, fates } of calls) {
    clock.setTimer(at, () => {
      const fn = (ctx: Context) => {
        if (ctx.attempt > 1) hedges++;
        const { latency, fails } = fates[ctx.attempt - 1]!;
        return new Promise<string>((resolve, reject) => {
          const cancel = clock.setTimer(latency, () =>
            fails ? reject(new Error('failed')) : resolve('ok'),
          );
          ctx.signal.addEventListener('abort', () => {
            cancel();
            reject(ctx.signal.reason);
          });
        });
      };
      policy.execute(fn).then(
        () => settled++,
        () => settled++,
      );
    });
  }
  await clock.runAll();
  return { hedges, settled };
}

describe('hedge and a retry budget (property)', () => {
  it('never sends a hedge the budget did not grant, and none after a denial in the same call', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(call, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 60 }),
        fc.double({ min: 0.01, max: 0.5, noNaN: true }),
        async (calls, maxHedgedAttempts, delay, ratio) => {
          const clock = new VirtualClock();
          const inner = ratioBudget({ ratio, minRetriesPerSecond: 0, ttl: 60_000, clock });
          const { budget, counts } = counting(inner);
          const { hedges, settled } = await runCalls(clock, calls, {
            delay,
            maxHedgedAttempts,
            budget,
          });
          expect(settled).toBe(calls.length);
          expect(counts.begun).toBe(calls.length);
          expect(hedges).toBe(counts.granted);
          expect(counts.afterDenial).toBe(0);
          // Finagle's bound: each call deposits 1000, each hedge withdraws trunc(1000 / ratio).
          expect(hedges).toBeLessThanOrEqual(
            Math.floor((calls.length * 1000) / Math.trunc(1000 / ratio)),
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('without a budget, hedges are bounded by maxHedgedAttempts per call only', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(call, { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 3 }),
        async (calls, maxHedgedAttempts) => {
          const clock = new VirtualClock();
          const policy = hedge({ delay: 0, maxHedgedAttempts, clock });
          let attempts = 0;
          await Promise.all(
            calls.map(() =>
              policy.execute(() => {
                attempts++;
                return 'ok';
              }),
            ),
          );
          expect(attempts).toBe(calls.length * (maxHedgedAttempts + 1));
        },
      ),
      { numRuns: 50 },
    );
  });
});
