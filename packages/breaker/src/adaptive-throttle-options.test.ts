import { describe, expect, it } from 'vitest';
import { AdaptiveThrottle, AdaptiveThrottlePolicy, adaptiveThrottle } from './adaptive-throttle.js';
import {
  ADAPTIVE_THROTTLE_DEFAULTS,
  resolveAdaptiveThrottleOptions,
} from './adaptive-throttle-options.js';
import { handleOverload } from './overload.js';

describe('adaptiveThrottle: options', () => {
  // A wrong type and, where the option has a range, a value out of it, for every option.
  const cases: Array<[string, unknown, typeof TypeError | typeof RangeError]> = [
    ['k', '2', TypeError],
    ['k', Number.NaN, TypeError],
    ['k', 0.5, RangeError],
    ['window', [], TypeError],
    ['window', 0, RangeError],
    ['window', -1, RangeError],
    ['buckets', '12', TypeError],
    ['buckets', 0, RangeError],
    ['buckets', 1001, RangeError],
    ['buckets', 2.5, RangeError],
    ['shouldHandle', 'all', TypeError],
    ['minimumRequests', '0', TypeError],
    ['minimumRequests', -1, RangeError],
    ['minimumRequests', 0.5, RangeError],
    ['clock', () => 0, TypeError],
    ['clock', {}, TypeError],
    ['random', 4, TypeError],
    ['name', 5, TypeError],
    ['name', '', RangeError],
  ];
  it.each(cases)('option %s = %o throws a %o naming it', (option, value, Kind) => {
    const options = { [option]: value };
    expect(() => adaptiveThrottle(options as never)).toThrow(Kind);
    expect(() => adaptiveThrottle(options as never)).toThrow(
      new RegExp(`adaptiveThrottle: option "${option}"`),
    );
    // One rule for the factory and `new`: the constructor validates.
    expect(() => new AdaptiveThrottlePolicy(options as never)).toThrow(Kind);
  });

  it('a random source out of [0, 1] is a RangeError naming the option, at the draw', () => {
    const throttle = adaptiveThrottle({ random: () => 1.5 });
    throttle.tryAcquire()!.rejected(); // p > 0 from here on
    expect(() => throttle.tryAcquire()).toThrow(/adaptiveThrottle: option "random"/);
    expect(() => throttle.tryAcquire()).toThrow(RangeError);
  });

  it('the options argument is optional, and must be an object', () => {
    expect(() => adaptiveThrottle()).not.toThrow();
    expect(() => new AdaptiveThrottlePolicy()).not.toThrow();
    expect(() => adaptiveThrottle('fast' as never)).toThrow(
      /adaptiveThrottle: options must be an object/,
    );
    expect(() => adaptiveThrottle(null as never)).toThrow(TypeError);
  });

  it('accepts the documented ranges', () => {
    expect(() => adaptiveThrottle({ k: 1, minimumRequests: 0, buckets: 1 })).not.toThrow();
    expect(() => adaptiveThrottle({ buckets: 1000, window: 0.5 })).not.toThrow();
    expect(() => adaptiveThrottle({ k: Number.POSITIVE_INFINITY })).toThrow(RangeError);
  });

  it('applies the frozen defaults', () => {
    expect(Object.isFrozen(ADAPTIVE_THROTTLE_DEFAULTS)).toBe(true);
    expect(resolveAdaptiveThrottleOptions()).toMatchObject({
      k: ADAPTIVE_THROTTLE_DEFAULTS.k,
      window: ADAPTIVE_THROTTLE_DEFAULTS.window,
      buckets: ADAPTIVE_THROTTLE_DEFAULTS.buckets,
      shouldHandle: handleOverload,
      minimumRequests: ADAPTIVE_THROTTLE_DEFAULTS.minimumRequests,
      random: Math.random,
      name: 'adaptive-throttle',
    });
    expect(new AdaptiveThrottlePolicy().describe()).toEqual(adaptiveThrottle().describe());
    expect(adaptiveThrottle().name).toBe(ADAPTIVE_THROTTLE_DEFAULTS.name);
  });

  it('the class keeps its former name', () => {
    expect(AdaptiveThrottle).toBe(AdaptiveThrottlePolicy);
    expect(adaptiveThrottle()).toBeInstanceOf(AdaptiveThrottle);
  });
});
