import { describe, expect, it } from 'vitest';
import {
  adaptiveThrottle,
  bulkhead,
  circuitBreaker,
  consecutiveFailures,
  type ExecutionContext,
  executeInContext,
  executeWithin,
  fallback,
  handleResults,
  type Policy,
  PolicyBase,
  type PolicyDescription,
  pipeline,
  retry,
  type Task,
  timeout,
  tokenBucketBudget,
} from './index.js';

// The caller's abort, across policies: a policy never calls `fn` for a caller whose signal (or an
// enclosing policy's) is already aborted, and a caller's abort is never counted a success.

/** A policy that aborts the context it hands inward, as a timeout that just fired would. */
class AbortInward extends PolicyBase {
  readonly reason = new Error('enclosing policy gave up');
  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    const child = ctx.child();
    child.abort(this.reason);
    return executeWithin(
      { execute: (f) => Promise.resolve(f(child)) } as Policy,
      fn,
      child,
    ).finally(() => child.dispose()) as Promise<T>;
  }
  describe(): PolicyDescription {
    return { name: 'abort-inward', options: {} };
  }
}

const policies: Record<string, () => Policy> = {
  retry: () => retry(),
  circuitBreaker: () => circuitBreaker({ trip: consecutiveFailures(1), breakDuration: 1_000 }),
  fallback: () => fallback({ fallback: () => 'substitute' }),
  adaptiveThrottle: () => adaptiveThrottle(),
  timeout: () => timeout(1_000),
  bulkhead: () => bulkhead({ limit: 1 }),
};

describe('no policy calls fn for an aborted caller (issue 14, item 14)', () => {
  for (const [name, make] of Object.entries(policies)) {
    it(`${name} inside a pipeline whose outer policy already aborted`, async () => {
      const outer = new AbortInward();
      let calls = 0;
      const run = pipeline(outer, make()).execute(() => {
        calls++;
        return 'ran';
      });
      await expect(run).rejects.toBe(outer.reason);
      expect(calls).toBe(0);
    });
  }

  it('a half-open breaker keeps its probe for a caller that is still there', async () => {
    const breaker = circuitBreaker({ trip: consecutiveFailures(1), breakDuration: 0 });
    await expect(
      breaker.execute(() => {
        throw new Error('down');
      }),
    ).rejects.toThrow('down');
    const outer = new AbortInward();
    await expect(pipeline(outer, breaker).execute(() => 'probe')).rejects.toBe(outer.reason);
    expect(breaker.state).toBe('half-open');
    await expect(breaker.execute(() => 'probe')).resolves.toBe('probe');
    expect(breaker.state).toBe('closed');
  });
});

/** Runs `policy` for a caller that leaves while `fn` runs; `fn` then returns `status`. */
function callerLeavesDuring(policy: Policy, status: number) {
  const controller = new AbortController();
  const reason = new Error('caller left');
  let calls = 0;
  const run = policy.execute(async () => {
    calls++;
    controller.abort(reason);
    return status;
  }, controller.signal);
  return { run, reason, calls: () => calls };
}

describe("a caller's abort is never a success (issue 14, item 15)", () => {
  it('retry rejects with the abort reason when a handled result arrives after the abort', async () => {
    const budget = tokenBucketBudget({ maxTokens: 10, tokenRatio: 1 });
    // Drain the bucket a little so that a success deposit would show.
    budget.begin().tryRetry({ ok: false, error: new Error('x') });
    const before = budget.tokens;
    const policy = retry({
      maxAttempts: 3,
      shouldHandle: handleResults((status: number) => status === 503),
      budget,
    });
    const successes: unknown[] = [];
    policy.onSuccess((event) => successes.push(event));
    const { run, reason, calls } = callerLeavesDuring(policy, 503);
    await expect(run).rejects.toBe(reason);
    expect(calls()).toBe(1);
    expect(successes).toEqual([]);
    expect(budget.tokens).toBe(before);
  });

  it('retry still resolves with an unhandled result that arrives after the abort', async () => {
    const policy = retry({ shouldHandle: handleResults((status: number) => status === 503) });
    await expect(callerLeavesDuring(policy, 200).run).resolves.toBe(200);
  });

  it('fallback does not replace a handled result that arrives after the abort', async () => {
    const policy = fallback({
      shouldHandle: handleResults((status: number) => status === 503),
      fallback: () => 200,
    });
    const { run, reason } = callerLeavesDuring(policy, 503);
    await expect(run).rejects.toBe(reason);
  });

  it('a breaker counts a handled result that arrives after the abort for nothing', async () => {
    const breaker = circuitBreaker({
      trip: consecutiveFailures(1),
      breakDuration: 1_000,
      shouldHandle: handleResults((status: number) => status === 503),
    });
    const { run, reason } = callerLeavesDuring(breaker, 503);
    await expect(run).rejects.toBe(reason);
    expect(breaker.state).toBe('closed');
  });
});
