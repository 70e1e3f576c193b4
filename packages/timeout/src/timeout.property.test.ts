import { getEventListeners } from 'node:events';
import { VirtualClock } from '@faultline/clock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { timeout } from './timeout.js';
import { TimeoutError } from './timeout-errors.js';

/**
 * The timeout policy against a reference model, over random durations, latencies, caller aborts,
 * strategies and functions that honour or ignore their signal (VirtualClock, distinct times so
 * that no two events tie).
 */
describe('timeout: reference model', () => {
  it('property: outcome, settle time, onTimeout, timers and listeners match the model', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: 1000 }), { minLength: 3, maxLength: 3 }),
        fc.boolean(),
        fc.constantFrom('aggressive', 'cooperative') as fc.Arbitrary<'aggressive' | 'cooperative'>,
        fc.boolean(),
        fc.boolean(),
        async ([duration, latency, abortAt], aborts, strategy, honours, readsSignal) => {
          const clock = new VirtualClock();
          const policy = timeout(duration!, { clock, strategy });
          let timeouts = 0;
          policy.onTimeout(() => timeouts++);
          const caller = new AbortController();
          const reason = new Error('caller');
          if (aborts) clock.setTimer(abortAt!, () => caller.abort(reason));
          const outcome: { at?: number; value?: unknown; error?: unknown } = {};
          policy
            .execute((ctx) => {
              const signal = honours || readsSignal ? ctx.signal : undefined;
              return clock.sleep(latency!, honours ? signal : undefined).then(() => 'value');
            }, caller.signal)
            .then(
              (value) => Object.assign(outcome, { at: clock.now(), value }),
              (error: unknown) => Object.assign(outcome, { at: clock.now(), error }),
            );
          await clock.runAll();

          // The model.
          const abortTime = aborts ? abortAt! : Number.POSITIVE_INFINITY;
          const timedOut = duration! < latency! && duration! < abortTime;
          let expected: { at: number; value?: string; error?: 'timeout' | 'caller' };
          if (strategy === 'aggressive' || honours) {
            // Aggressive: the first of the value, the timeout and the caller's abort settles the
            // call. Cooperative with a function that honours its signal: the same, since the
            // function stops at the first abort (timeout or caller), with that reason.
            const first = Math.min(duration!, latency!, abortTime);
            expected =
              first === latency
                ? { at: latency!, value: 'value' }
                : first === duration
                  ? { at: duration!, error: 'timeout' }
                  : { at: abortTime, error: 'caller' };
          } else {
            expected = { at: latency!, value: 'value' }; // cooperative waits; the value wins
          }

          expect(outcome.at).toBe(expected.at);
          if (expected.value !== undefined) expect(outcome.value).toBe(expected.value);
          else if (expected.error === 'timeout') expect(outcome.error).toBeInstanceOf(TimeoutError);
          else expect(outcome.error).toBe(reason);
          expect(timeouts).toBe(timedOut ? 1 : 0);
          expect(clock.pendingTimers).toBe(0);
          expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
