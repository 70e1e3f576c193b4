import { VirtualClock } from '@faultline/clock';
import type { Outcome } from '@faultline/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RetryBudget, RetryTicket } from './budget.js';
import { concurrencyBudget } from './concurrency.js';
import { quotaBudget } from './quota.js';
import { isThrottlingOutcome } from './quota-options.js';
import { ratioBudget } from './ratio.js';
import { tokenBucketBudget } from './token-bucket.js';

const failure: Outcome<unknown> = { ok: false, error: new Error('boom') };
const throttled: Outcome<unknown> = {
  ok: false,
  error: Object.assign(new Error('slow down'), { name: 'ThrottlingException' }),
};

describe('tokenBucketBudget (gRFC A6, grpc-java milli-tokens)', () => {
  it("grpc-java's throttle test: maxTokens 4, tokenRatio 0.8", () => {
    const budget = tokenBucketBudget({ maxTokens: 4, tokenRatio: 0.8 });
    const ticket = budget.begin();
    expect(budget.tokens).toBe(4);
    const trace: Array<[boolean, number]> = [];
    for (let i = 0; i < 5; i++) trace.push([ticket.tryRetry(failure), budget.tokens]);
    expect(trace).toEqual([
      [true, 3],
      [false, 2],
      [false, 1],
      [false, 0],
      [false, 0],
    ]);
    const tokens: number[] = [];
    for (let i = 0; i < 6; i++) {
      budget.begin().succeed();
      tokens.push(budget.tokens);
    }
    expect(tokens).toEqual([0.8, 1.6, 2.4, 3.2, 4, 4]);
  });

  it('10 / 0.1: four retries granted, the fifth denied; then 11 successes (6.1) re-open it', () => {
    const budget = tokenBucketBudget({ maxTokens: 10, tokenRatio: 0.1 });
    const results: Array<[boolean, number]> = [];
    for (let i = 0; i < 5; i++) results.push([budget.begin().tryRetry(failure), budget.tokens]);
    expect(results).toEqual([
      [true, 9],
      [true, 8],
      [true, 7],
      [true, 6],
      [false, 5], // 5 is not > threshold 5
    ]);
    // Ten successes give exactly 6.0 (integer milli-tokens: no 5.999…): a failure would leave 5,
    // not above 5, so it is still denied.
    const probe = tokenBucketBudget({ maxTokens: 10, tokenRatio: 0.1 });
    for (let i = 0; i < 5; i++) probe.begin().tryRetry(failure);
    for (let i = 0; i < 10; i++) probe.begin().succeed();
    expect(probe.tokens).toBe(6);
    expect(probe.begin().tryRetry(failure)).toBe(false);
    // The eleventh success (6.1) is what it takes.
    for (let i = 0; i < 11; i++) budget.begin().succeed();
    expect(budget.tokens).toBe(6.1);
    expect(budget.begin().tryRetry(failure)).toBe(true);
    expect(budget.tokens).toBe(5.1);
  });

  it('validates its options', () => {
    const bad: Array<[unknown, ErrorConstructor, RegExp]> = [
      [undefined, TypeError, /"maxTokens"/],
      [{ maxTokens: '4', tokenRatio: 1 }, TypeError, /"maxTokens"/],
      [{ maxTokens: 0, tokenRatio: 1 }, RangeError, /"maxTokens"/],
      [{ maxTokens: 1001, tokenRatio: 1 }, RangeError, /"maxTokens"/],
      [{ maxTokens: 4, tokenRatio: '1' }, TypeError, /"tokenRatio"/],
      [{ maxTokens: 4, tokenRatio: 0 }, RangeError, /"tokenRatio"/],
      [{ maxTokens: 4, tokenRatio: 0.0001 }, RangeError, /"tokenRatio"/],
      ['x', TypeError, /tokenBucketBudget: options/],
    ];
    for (const [options, Kind, message] of bad) {
      expect(() => tokenBucketBudget(options as never)).toThrow(Kind);
      expect(() => tokenBucketBudget(options as never)).toThrow(message);
    }
  });
});

describe("ratioBudget (Finagle's RetryBudget)", () => {
  /** Finagle's RetryBudgetTest: time frozen, 10 000 × (deposit, tryWithdraw). */
  function finagle(ttl: number, minRetriesPerSecond: number, ratio: number): number {
    const clock = new VirtualClock();
    const budget = ratioBudget({ ttl, minRetriesPerSecond, ratio, clock });
    let retried = 0;
    for (let i = 0; i < 10_000; i++) if (budget.begin().tryRetry(failure)) retried++;
    return retried;
  }
  // Withdrawing whenever the count covers it, N deposits of 1000 and a reserve R give exactly
  // floor((R + 1000·N) / W) retries, W = floor(1000 / ratio) (each step can afford at most one
  // withdrawal while ratio ≤ 1). Finagle's own test accepts ±1 of N·ratio + minRetries; these are
  // the exact values.
  const cases: Array<[number, number, number, number, string]> = [
    [60_000, 0, 0.1, 1000, 'W = 10 000: one retry per 10 calls'],
    [60_000, 0, 0.5, 5000, 'W = 2000'],
    [60_000, 0, 0.25, 2500, 'W = 4000'],
    [60_000, 0, 0.75, 7501, 'W = floor(1333.3) = 1333: floor(10^7 / 1333) = 7501'],
    [60_000, 0, 0.99, 9900, 'W = 1010: floor(10^7 / 1010) = 9900'],
    [60_000, 0, 0.999, 9990, 'W = 1001: floor(10^7 / 1001) = 9990'],
    [60_000, 0, 0.9999, 10_000, 'W = floor(1000.1) = 1000: every call'],
    [60_000, 0, 0.01, 100, 'W = 100 000'],
    [60_000, 0, 0.001, 10, 'W = 10^6'],
    [60_000, 0, 0.0001, 1, 'W = 10^7'],
    [1000, 10, 0, 10, 'ratio 0: deposit 0, W = 1, reserve 10·1·1 = 10'],
    [2000, 5, 0, 10, 'reserve 5·2·1 = 10'],
    [1000, 10, 0.1, 1010, 'reserve 10·1·10 000 = 10^5: floor((10^5 + 10^7) / 10^4) = 1010'],
    [2000, 5, 0.5, 5010, 'reserve 5·2·2000 = 20 000: floor((2·10^4 + 10^7) / 2000) = 5010'],
  ];
  for (const [ttl, min, ratio, expected, why] of cases) {
    it(`ttl ${ttl}, minRetriesPerSecond ${min}, ratio ${ratio} → ${expected} retries (${why})`, () => {
      expect(finagle(ttl, min, ratio)).toBe(expected);
    });
  }

  it('ratio 2: 10 000 deposits give a balance of 20 000 (Finagle: percentCanRetry > 1)', () => {
    const budget = ratioBudget({
      ttl: 60_000,
      minRetriesPerSecond: 0,
      ratio: 2,
      clock: new VirtualClock(),
    });
    expect(budget.balance).toBe(0);
    for (let i = 0; i < 10_000; i++) budget.begin();
    expect(budget.balance).toBe(20_000);
  });

  it('ratio 0 and no reserve never grants (RetryBudget.Empty)', () => {
    const budget = ratioBudget({ ratio: 0, minRetriesPerSecond: 0 });
    for (let i = 0; i < 100; i++) expect(budget.begin().tryRetry(failure)).toBe(false);
    expect(budget.balance).toBe(0);
  });

  it('initial balance is the reserve: minRetriesPerSecond × ttl-seconds', () => {
    expect(ratioBudget({ clock: new VirtualClock() }).balance).toBe(100); // 10/s × 10 s
  });

  it('deposits expire after about ttl (10 slices of ttl/10)', async () => {
    const clock = new VirtualClock();
    // ratio 0.1 (W = 10 000), no reserve, ttl 10 s: slices of 1 s.
    const budget = ratioBudget({ ratio: 0.1, minRetriesPerSecond: 0, ttl: 10_000, clock });
    for (let i = 0; i < 10; i++) budget.begin(); // 10 000 at t = 0, in the open slice
    expect(budget.balance).toBe(1);
    // At 9 999 the open slice closes into buf[0]; 8 idle slices are skipped. Still counted.
    await clock.advance(9_999);
    expect(budget.balance).toBe(1);
    // At 10 999 (≥ 1000 after the last roll) the ring wraps onto buf[0]: the deposit is gone.
    await clock.advance(1_000);
    expect(budget.balance).toBe(0);
    expect(budget.begin().tryRetry(failure)).toBe(false);
  });

  it('validates its options', () => {
    const bad: Array<[unknown, ErrorConstructor, RegExp]> = [
      [{ ratio: '0.2' }, TypeError, /"ratio"/],
      [{ ratio: -0.1 }, RangeError, /"ratio"/],
      [{ ratio: 1001 }, RangeError, /"ratio"/],
      [{ minRetriesPerSecond: '10' }, TypeError, /"minRetriesPerSecond"/],
      [{ minRetriesPerSecond: -1 }, RangeError, /"minRetriesPerSecond"/],
      [{ minRetriesPerSecond: 1.5 }, RangeError, /"minRetriesPerSecond"/],
      [{ ttl: '10s' }, TypeError, /"ttl"/],
      [{ ttl: 999 }, RangeError, /"ttl"/],
      [{ ttl: 60_001 }, RangeError, /"ttl"/],
      [{ clock: {} }, TypeError, /"clock"/],
      [{ clock: 5 }, TypeError, /"clock"/],
      [7, TypeError, /ratioBudget: options/],
    ];
    for (const [options, Kind, message] of bad) {
      expect(() => ratioBudget(options as never)).toThrow(Kind);
      expect(() => ratioBudget(options as never)).toThrow(message);
    }
  });
});

describe('quotaBudget (AWS SDK standard retry quota, 2026 costs)', () => {
  it('from 500: 35 retries at cost 14, then denied with 10 left (10 < 14)', () => {
    const budget = quotaBudget();
    let granted = 0;
    for (let i = 0; i < 40; i++) if (budget.begin().tryRetry(failure)) granted++;
    expect(granted).toBe(35); // floor(500 / 14) = 35; 500 − 35·14 = 10
    expect(budget.available).toBe(10);
    // …but a throttling retry (cost 5) still fits twice: 10 → 5 → 0, then 0 < 5.
    const throttle: boolean[] = [];
    for (let i = 0; i < 3; i++) throttle.push(budget.begin().tryRetry(throttled));
    expect(throttle).toEqual([true, true, false]);
    expect(budget.available).toBe(0);
  });

  it('throttling retries cost 5: exactly 100 from a full quota', () => {
    const budget = quotaBudget();
    let granted = 0;
    for (let i = 0; i < 200; i++) if (budget.begin().tryRetry(throttled)) granted++;
    expect(granted).toBe(100);
  });

  it('refunds: 1 for a first-attempt success, the last retry cost after retries, capped', () => {
    const budget = quotaBudget();
    budget.begin().succeed();
    expect(budget.available).toBe(500); // never above capacity
    const ticket = budget.begin();
    ticket.tryRetry(failure); // 486
    ticket.tryRetry(throttled); // 481
    expect(budget.available).toBe(481);
    ticket.succeed(); // refunds the last retry's cost: 5
    expect(budget.available).toBe(486);
    const failed = budget.begin();
    failed.tryRetry(failure); // 472
    failed.fail(); // no refund
    expect(budget.available).toBe(472);
    budget.begin().succeed(); // +1
    expect(budget.available).toBe(473);
  });

  it('recovery from 10: four first-attempt successes buy one more retry (10 + 4 = 14)', () => {
    const budget = quotaBudget();
    for (let i = 0; i < 35; i++) budget.begin().tryRetry(failure);
    expect(budget.available).toBe(10);
    for (let i = 0; i < 3; i++) budget.begin().succeed();
    expect(budget.begin().tryRetry(failure)).toBe(false); // 13 < 14
    budget.begin().succeed();
    expect(budget.begin().tryRetry(failure)).toBe(true); // 14 ≥ 14
    expect(budget.available).toBe(0);
  });

  it('the pre-2026 rules are one configuration away (cost 5)', () => {
    const budget = quotaBudget({ cost: 5 });
    let granted = 0;
    for (let i = 0; i < 200; i++) if (budget.begin().tryRetry(failure)) granted++;
    expect(granted).toBe(100);
  });

  it('default isThrottling: status 429 or a name/code containing "Throttl"', () => {
    expect(isThrottlingOutcome({ ok: true, value: { status: 429 } })).toBe(true);
    expect(isThrottlingOutcome({ ok: true, value: { status: 503 } })).toBe(false);
    expect(isThrottlingOutcome({ ok: false, error: { code: 'Throttling' } })).toBe(true);
    expect(isThrottlingOutcome({ ok: false, error: { name: 'ThrottledException' } })).toBe(true);
    expect(isThrottlingOutcome({ ok: false, error: { $metadata: { httpStatusCode: 429 } } })).toBe(
      true,
    );
    expect(isThrottlingOutcome({ ok: false, error: new Error('x') })).toBe(false);
    expect(isThrottlingOutcome({ ok: false, error: 'Throttled' })).toBe(false);
  });

  it('validates its options', () => {
    const bad: Array<[unknown, ErrorConstructor, RegExp]> = [
      [{ capacity: '500' }, TypeError, /"capacity"/],
      [{ capacity: -1 }, RangeError, /"capacity"/],
      [{ cost: null }, TypeError, /"cost"/],
      [{ cost: -1 }, RangeError, /"cost"/],
      [{ throttlingCost: '5' }, TypeError, /"throttlingCost"/],
      [{ throttlingCost: -5 }, RangeError, /"throttlingCost"/],
      [{ refund: {} }, TypeError, /"refund"/],
      [{ refund: Infinity }, RangeError, /"refund"/],
      [{ isThrottling: true }, TypeError, /"isThrottling"/],
      [[], TypeError, /quotaBudget: options/],
    ];
    for (const [options, Kind, message] of bad) {
      expect(() => quotaBudget(options as never)).toThrow(Kind);
      expect(() => quotaBudget(options as never)).toThrow(message);
    }
    // isThrottling has no range; a non-boolean answer is reported when it is used.
    const odd = quotaBudget({ isThrottling: () => 'yes' as never });
    expect(() => odd.begin().tryRetry(failure)).toThrow(/"isThrottling" must return a boolean/);
  });
});

describe("concurrencyBudget (Envoy's retry budget)", () => {
  it('retries in flight ≤ max(min, floor(ratio × calls in flight))', () => {
    const budget = concurrencyBudget(); // ratio 0.2, min 3
    const tickets = Array.from({ length: 10 }, () => budget.begin());
    expect(budget.limit).toBe(3); // floor(0.2·10) = 2 < 3
    expect(tickets.map((t) => t.tryRetry(failure))).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    // A ticket's next failure ends its previous retry first, so it can retry again.
    expect(tickets[0]!.tryRetry(failure)).toBe(true);
    // Ending a call frees its retry.
    tickets[1]!.fail();
    expect(budget.retriesInFlight).toBe(2);
    expect(tickets[3]!.tryRetry(failure)).toBe(true);
    for (let i = 0; i < 20; i++) budget.begin();
    expect(budget.callsInFlight).toBe(29);
    expect(budget.limit).toBe(5); // floor(0.2·29) = 5
    for (const t of tickets) t.succeed();
    expect(budget.retriesInFlight).toBe(0);
  });

  it('validates its options', () => {
    const bad: Array<[unknown, ErrorConstructor, RegExp]> = [
      [{ ratio: '0.2' }, TypeError, /"ratio"/],
      [{ ratio: 1.5 }, RangeError, /"ratio"/],
      [{ min: '3' }, TypeError, /"min"/],
      [{ min: -1 }, RangeError, /"min"/],
      [{ min: 2.5 }, RangeError, /"min"/],
      [null, TypeError, /concurrencyBudget: options/],
    ];
    for (const [options, Kind, message] of bad) {
      expect(() => concurrencyBudget(options as never)).toThrow(Kind);
      expect(() => concurrencyBudget(options as never)).toThrow(message);
    }
  });
});

describe('a budget shared by 1000 concurrent calls is never overdrawn (fast-check)', () => {
  type Op =
    | { kind: 'retry'; call: number; throttled: boolean }
    | { kind: 'succeed'; call: number }
    | { kind: 'fail'; call: number }
    | { kind: 'advance'; ms: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant('retry' as const),
        call: fc.nat(999),
        throttled: fc.boolean(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('succeed' as const), call: fc.nat(999) }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('fail' as const), call: fc.nat(999) }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.nat(3000) }),
    },
  );
  const ops = fc.array(op, { minLength: 2000, maxLength: 4000, size: 'max' });

  /**
   * Begins 1000 calls (interleaved with the ops: call i begins right before its first op), runs
   * the ops (operations on an ended call are ignored by the caller, as the policy would), checks
   * `invariant` after every step, then ends every call.
   */
  async function run(
    budget: RetryBudget,
    list: Op[],
    clock: VirtualClock,
    invariant: (granted: boolean | undefined, o: Op) => void,
  ): Promise<void> {
    const tickets: Array<RetryTicket | undefined> = new Array(1000);
    const ended = new Set<number>();
    for (const o of list) {
      if (o.kind === 'advance') {
        await clock.advance(o.ms);
        invariant(undefined, o);
        continue;
      }
      if (ended.has(o.call)) continue;
      tickets[o.call] ??= budget.begin();
      const ticket = tickets[o.call]!;
      let granted: boolean | undefined;
      if (o.kind === 'retry') granted = ticket.tryRetry(o.throttled ? throttled : failure);
      else {
        ended.add(o.call);
        if (o.kind === 'succeed') ticket.succeed();
        else ticket.fail();
      }
      invariant(granted, o);
    }
    for (let i = 0; i < 1000; i++) {
      tickets[i] ??= budget.begin();
      if (!ended.has(i)) tickets[i]!.fail();
    }
  }

  it('tokenBucketBudget: 0 ≤ tokens ≤ max, and a grant leaves tokens above half', async () => {
    await fc.assert(
      fc.asyncProperty(ops, async (list) => {
        const budget = tokenBucketBudget({ maxTokens: 10, tokenRatio: 0.1 });
        await run(budget, list, new VirtualClock(), (granted) => {
          expect(budget.tokens).toBeGreaterThanOrEqual(0);
          expect(budget.tokens).toBeLessThanOrEqual(10);
          if (granted) expect(budget.tokens).toBeGreaterThan(5);
        });
      }),
      { numRuns: 25 },
    );
  });

  it('ratioBudget: retries ≤ ratio × calls + reserve over the window; balance ≥ 0', async () => {
    await fc.assert(
      fc.asyncProperty(ops, async (list) => {
        const clock = new VirtualClock();
        // ttl 60 s and advances of ≤ 3 s × … : check the frozen-window bound only while no
        // deposit can have expired (elapsed < ttl − slice).
        const budget = ratioBudget({ ratio: 0.2, minRetriesPerSecond: 1, ttl: 60_000, clock });
        let calls = 0;
        let grants = 0;
        const seen = new Set<number>();
        await run(budget, list, clock, (granted, o) => {
          if (o.kind !== 'advance' && !seen.has(o.call)) {
            seen.add(o.call);
            calls++;
          }
          if (granted) grants++;
          expect(budget.balance).toBeGreaterThanOrEqual(0);
          if (clock.now() < 54_000) {
            // W = 5000: retries ≤ floor((1000·calls + 60·5000) / 5000) = floor(0.2·calls) + 60
            expect(grants).toBeLessThanOrEqual(Math.floor(0.2 * calls) + 60);
          }
        });
      }),
      { numRuns: 25 },
    );
  });

  it('quotaBudget: 0 ≤ available ≤ capacity', async () => {
    await fc.assert(
      fc.asyncProperty(ops, async (list) => {
        const budget = quotaBudget({ capacity: 200 });
        await run(budget, list, new VirtualClock(), () => {
          expect(budget.available).toBeGreaterThanOrEqual(0);
          expect(budget.available).toBeLessThanOrEqual(200);
        });
      }),
      { numRuns: 25 },
    );
  });

  it('concurrencyBudget: retries in flight never above the limit; all released at the end', async () => {
    await fc.assert(
      fc.asyncProperty(ops, async (list) => {
        const budget = concurrencyBudget({ ratio: 0.1, min: 2 });
        await run(budget, list, new VirtualClock(), (granted) => {
          expect(budget.retriesInFlight).toBeGreaterThanOrEqual(0);
          if (granted) expect(budget.retriesInFlight).toBeLessThanOrEqual(budget.limit);
        });
        expect(budget.callsInFlight).toBe(0);
        expect(budget.retriesInFlight).toBe(0);
      }),
      { numRuns: 25 },
    );
  });
});
