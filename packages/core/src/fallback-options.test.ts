import { describe, expect, it } from 'vitest';
import { FallbackPolicy, fallback } from './fallback.js';
import { FALLBACK_DEFAULTS, resolveFallbackOptions } from './fallback-options.js';
import { handleAll } from './outcome.js';

class Unavailable extends Error {}

describe('fallback: options', () => {
  // Function options have no "range": a non-callable value of any type is the wrong type.
  const cases: Array<[string, unknown, typeof TypeError | typeof RangeError]> = [
    ['fallback', undefined, TypeError],
    ['fallback', 'cached value', TypeError],
    ['fallback', { value: 1 }, TypeError],
    ['shouldHandle', true, TypeError],
    ['shouldHandle', [Unavailable], TypeError],
    ['name', 1, TypeError],
    ['name', '', RangeError],
  ];
  it.each(cases)('option %s = %o throws a %o naming it', (option, value, Kind) => {
    const options = { fallback: () => 1, [option]: value };
    expect(() => fallback(options as never)).toThrow(Kind);
    expect(() => fallback(options as never)).toThrow(new RegExp(`fallback: option "${option}"`));
    // One rule for the factory and `new`: the constructor validates.
    expect(() => new FallbackPolicy(options as never)).toThrow(Kind);
  });

  it('the options argument must be an object', () => {
    expect(() => fallback(undefined as never)).toThrow(/option "fallback"/);
    expect(() => fallback((() => 1) as never)).toThrow(/fallback: options must be an object/);
    expect(() => new FallbackPolicy(undefined as never)).toThrow(/option "fallback"/);
  });

  it('applies the frozen defaults', () => {
    expect(Object.isFrozen(FALLBACK_DEFAULTS)).toBe(true);
    const substitute = () => 0;
    expect(resolveFallbackOptions({ fallback: substitute })).toEqual({
      shouldHandle: handleAll,
      fallback: substitute,
      name: 'fallback',
    });
  });
});
