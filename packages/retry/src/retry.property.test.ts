import { Deadline, VirtualClock } from '@faultline/clock';
import {
  ExecutionRejectedError,
  executeInContext,
  type Outcome,
  RootContext,
} from '@faultline/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromDelays } from './backoff.js';
import { retry } from './retry.js';

type Kind = 'ok' | 'error' | 'rejected' | 'bad';

interface Scenario {
  maxAttempts: number;
  delays: number[];
  deadline: number | undefined;
  kinds: Kind[];
  pushbacks: Array<number | undefined>;
  maxRetryAfter: number;
}

interface Observed {
  attempts: number;
  result: string; // 'value:<v>' | 'error:<attempt>' | 'rejected:<attempt>'
  reason: string | undefined;
  time: number;
  retryDelays: number[];
}

/** A plain reference model of the retry policy's documented semantics. */
function model(s: Scenario): Observed {
  let time = 0;
  const retryDelays: number[] = [];
  for (let attempt = 1; ; attempt++) {
    const kind = s.kinds[attempt - 1] ?? 'ok';
    const result =
      kind === 'ok' ? 'value:good' : kind === 'bad' ? 'value:bad' : `${kind}:${attempt}`;
    if (kind === 'ok' || kind === 'rejected')
      return { attempts: attempt, result, reason: undefined, time, retryDelays };
    const giveUp = (reason: string): Observed => ({
      attempts: attempt,
      result,
      reason,
      time,
      retryDelays,
    });
    if (attempt >= s.maxAttempts) return giveUp('attempts');
    let delay = s.delays[Math.min(attempt - 1, s.delays.length - 1)]!;
    const pushback = s.pushbacks[attempt - 1];
    if (pushback !== undefined) delay = Math.min(pushback, s.maxRetryAfter);
    if (s.deadline !== undefined && delay >= s.deadline - time) return giveUp('deadline');
    retryDelays.push(delay);
    time += delay;
  }
}

async function real(s: Scenario): Promise<Observed> {
  const clock = new VirtualClock();
  const policy = retry({
    maxAttempts: s.maxAttempts,
    backoff: fromDelays(s.delays),
    shouldHandle: (o: Outcome<unknown>) =>
      o.ok ? o.value === 'bad' : !(o.error instanceof ExecutionRejectedError),
    retryAfter: (_o, ctx) => s.pushbacks[ctx.attempt - 1],
    maxRetryAfter: s.maxRetryAfter,
    clock,
  });
  const retryDelays: number[] = [];
  let reason: string | undefined;
  policy.onRetry((e) => retryDelays.push(e.delay));
  policy.onGiveUp((e) => {
    reason = e.reason;
  });
  let attempts = 0;
  const ctx = new RootContext(
    undefined,
    s.deadline === undefined ? Deadline.never : Deadline.after(s.deadline, clock),
  );
  const run = policy[executeInContext]((c) => {
    attempts = c.attempt;
    const kind = s.kinds[c.attempt - 1] ?? 'ok';
    if (kind === 'ok') return 'good';
    if (kind === 'bad') return 'bad';
    if (kind === 'rejected')
      throw new ExecutionRejectedError(`rejected:${c.attempt}`, { code: 'X' });
    throw new Error(`error:${c.attempt}`);
  }, ctx);
  const settled = run.then(
    (value) => `value:${value}`,
    (error: unknown) => (error as Error).message,
  );
  await clock.runAll();
  const result = await settled;
  return { attempts, result, reason, time: clock.now(), retryDelays };
}

describe('retry policy vs a reference model (fast-check)', () => {
  it('attempts, result, give-up reason, sleeps and elapsed time agree', async () => {
    const scenario: fc.Arbitrary<Scenario> = fc.record({
      maxAttempts: fc.integer({ min: 1, max: 6 }),
      delays: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 5 }),
      deadline: fc.option(fc.integer({ min: 0, max: 4000 }), { nil: undefined }),
      kinds: fc.array(fc.constantFrom<Kind>('ok', 'error', 'error', 'bad', 'rejected'), {
        maxLength: 7,
      }),
      pushbacks: fc.array(fc.option(fc.integer({ min: 0, max: 3000 }), { nil: undefined }), {
        maxLength: 7,
      }),
      maxRetryAfter: fc.integer({ min: 0, max: 2500 }),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        expect(await real(s)).toEqual(model(s));
      }),
      { numRuns: 300 },
    );
  });
});
