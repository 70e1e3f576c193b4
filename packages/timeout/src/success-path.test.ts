import { countConstructions } from '@faultline/test-support/browser';
import { describe, expect, it } from 'vitest';

// Counts AbortController and Error constructions on the success path. The modules under test are
// evaluated afresh *after* the globals are wrapped, so that `class … extends Error` inside them
// binds to the counting class.
const OriginalAbortController = globalThis.AbortController;
let mod: typeof import('./index.js');
let core: typeof import('@faultline/core');
const counts = countConstructions(async () => {
  mod = await import('./index.js');
  core = await import('@faultline/core');
});

describe('success path allocations', () => {
  it('the counters see what they should (sanity check of the harness)', async () => {
    const policy = mod.timeout(1);
    counts.controllers = 0;
    counts.errors = 0;
    await policy.execute(async ({ signal }) => signal.aborted);
    expect(counts.controllers).toBe(1); // reading ctx.signal creates one
    const error = await policy.execute(() => new Promise(() => {})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(mod.TimeoutError);
    expect(counts.errors).toBeGreaterThanOrEqual(1);
  });

  it('no AbortController and no Error when the function does not read ctx.signal', async () => {
    const aggressive = mod.timeout(10_000);
    const cooperative = mod.timeout(10_000, { strategy: 'cooperative' });
    const adaptive = mod.timeout(mod.adaptiveTimeout({ minSamples: 1 }));
    const nested = core.pipeline(mod.timeout(10_000), mod.timeout(1000));
    // A stand-in for retry between two timeouts: runs the rest as attempt 2 via ctx.withAttempt.
    const secondAttempt = {
      execute: () => Promise.reject(new TypeError('unused')),
      [core.executeInContext]: <T>(
        fn: (ctx: import('@faultline/core').Context) => T | PromiseLike<T>,
        ctx: import('@faultline/core').ExecutionContext,
      ) => Promise.resolve(fn(ctx.withAttempt(2))),
    };
    const withAttempt = core.pipeline(mod.timeout(10_000), secondAttempt, mod.timeout(1000));
    const caller = new OriginalAbortController(); // a long-lived caller signal
    counts.controllers = 0;
    counts.errors = 0;
    for (let i = 0; i < 1000; i++) {
      await aggressive.execute(async () => i);
      await cooperative.execute(async () => i);
      await adaptive.execute(async () => i);
      await aggressive.execute(async () => i, caller.signal);
      await cooperative.execute(async () => i, caller.signal);
      await nested.execute(async () => i, caller.signal);
      await withAttempt.execute(async (ctx) => ctx.attempt, caller.signal);
      await withAttempt.execute(async (ctx) => ctx.attempt);
    }
    expect(counts.controllers).toBe(0);
    expect(counts.errors).toBe(0);
  });
});
