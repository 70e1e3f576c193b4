import { VirtualClock } from '@faultline/clock';
import { describe, expect, it } from 'vitest';
import { AdaptiveTimeout, adaptiveTimeout } from './adaptive-timeout.js';
import {
  ADAPTIVE_TIMEOUT_DEFAULTS,
  resolveAdaptiveTimeoutOptions,
} from './adaptive-timeout-options.js';

describe('adaptiveTimeout: options', () => {
  const cases: Array<[string, unknown, typeof TypeError | typeof RangeError]> = [
    ['quantile', '99.9', TypeError],
    ['quantile', 0, RangeError],
    ['quantile', 1.5, RangeError],
    ['multiplier', '1.5x', TypeError],
    ['multiplier', 0.5, RangeError],
    ['multiplier', 101, RangeError],
    ['min', '10ms', TypeError],
    ['min', -1, RangeError],
    ['max', null, TypeError],
    ['max', 5, RangeError], // below the default min 10
    ['max', Number.POSITIVE_INFINITY, RangeError],
    ['initial', '1s', TypeError],
    ['initial', 100_000, RangeError], // above the default max
    ['initial', 5, RangeError], // below the default min
    ['minSamples', '20', TypeError],
    ['minSamples', 0, RangeError],
    ['minSamples', 1.5, RangeError],
    ['window', '1m', TypeError],
    ['window', 0, RangeError],
    ['estimator', 7, TypeError],
    ['estimator', 'ewma', RangeError],
    ['clock', {}, TypeError],
    ['clock', 'system', TypeError], // a clock has no range
    ['shouldHandle', 503, TypeError], // nor has a function
  ];
  it.each(cases)('option %s = %o throws a %o naming it', (option, value, Kind) => {
    const options = { [option]: value } as never;
    expect(() => adaptiveTimeout(options)).toThrow(Kind);
    expect(() => adaptiveTimeout(options)).toThrow(
      new RegExp(`adaptiveTimeout: option "${option}"`),
    );
    // One rule for the factory and `new`: the constructor validates.
    expect(() => new AdaptiveTimeout(options)).toThrow(Kind);
  });

  it('the bounds follow each other: max ≥ min, initial within them', () => {
    expect(() => adaptiveTimeout({ min: 100, max: 50 })).toThrow(RangeError);
    expect(() => adaptiveTimeout({ min: 100, max: 200, initial: 300 })).toThrow(RangeError);
    expect(adaptiveTimeout({ min: 50_000 }).max).toBe(50_000);
    expect(adaptiveTimeout({ min: 5_000 }).initial).toBe(5_000);
    expect(adaptiveTimeout({ max: 500 }).initial).toBe(500);
  });

  it('the options argument must be an object', () => {
    expect(() => adaptiveTimeout('fast' as never)).toThrow(TypeError);
    expect(() => adaptiveTimeout(null as never)).toThrow(
      /adaptiveTimeout: options must be an object/,
    );
  });

  it('applies the frozen defaults', () => {
    expect(Object.isFrozen(ADAPTIVE_TIMEOUT_DEFAULTS)).toBe(true);
    const clock = new VirtualClock();
    const { clock: resolvedClock, ...resolved } = resolveAdaptiveTimeoutOptions({ clock });
    expect(resolvedClock).toBe(clock);
    expect(resolved).toEqual(ADAPTIVE_TIMEOUT_DEFAULTS);
    expect(new AdaptiveTimeout().describe()).toEqual(adaptiveTimeout().describe());
    expect(adaptiveTimeout().describe()).toMatchObject({ shouldHandle: 'handleHttpFailures' });
    expect(adaptiveTimeout({ shouldHandle: () => false }).describe()).toMatchObject({
      shouldHandle: 'custom',
    });
  });
});
