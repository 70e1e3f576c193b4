import type { Clock } from '@faultline/clock';
import { type Random, seededRandom } from '@faultline/core';

/**
 * The clock (and the random source) the documented pipelines run on while a test loads them:
 * the generated shims of `faultline` and `@faultline/*` hand them to every factory that takes a
 * `clock` (or a `random`) and was not given one (see `harness.ts`). A seeded random makes the
 * jitter, and so the measured recovery times, the same on every run.
 */
let current: Clock | undefined;
let random: Random | undefined;

export function setDocClock(clock: Clock | undefined, seed = 1): void {
  current = clock;
  random = clock === undefined ? undefined : seededRandom(seed);
}

/** `options` with the test's clock (and random, when `withRandom`) added where not given. */
export function withDocClock<T>(options: T, withRandom = false): T {
  if (current === undefined) return options;
  if (options !== undefined && (options === null || typeof options !== 'object')) return options;
  const given = (options ?? {}) as Record<string, unknown>;
  const added: Record<string, unknown> = {};
  if (!('clock' in given)) added.clock = current;
  if (withRandom && !('random' in given)) added.random = random;
  return { ...added, ...given } as T;
}
