import { systemClock, VirtualClock } from '@faultline/clock';
import { describe, expect, it } from 'vitest';
import { adaptiveTimeout } from './adaptive-timeout.js';
import { TimeoutPolicy, timeout } from './timeout.js';
import { resolveTimeoutOptions, TIMEOUT_DEFAULTS } from './timeout-options.js';

describe('timeout: options', () => {
  const cases: Array<[string, unknown, typeof TypeError | typeof RangeError]> = [
    ['strategy', 1, TypeError],
    ['strategy', 'eager', RangeError],
    ['clock', {}, TypeError],
    ['clock', 5, TypeError], // a clock has no range
    ['name', 5, TypeError],
    ['name', '', RangeError],
  ];
  it.each(cases)('option %s = %o throws a %o naming it', (option, value, Kind) => {
    const options = { [option]: value } as never;
    expect(() => timeout(100, options)).toThrow(Kind);
    expect(() => timeout(100, options)).toThrow(new RegExp(`timeout: option "${option}"`));
    // One rule for the factory and `new`: the constructor validates.
    expect(() => new TimeoutPolicy(100, options)).toThrow(Kind);
  });

  it('the strategy message lists the allowed values', () => {
    expect(() => timeout(1, { strategy: 'eager' as never })).toThrow(
      /timeout: option "strategy" must be one of "aggressive", "cooperative", received "eager"/,
    );
  });

  const durations: Array<[unknown, typeof TypeError | typeof RangeError]> = [
    ['1s', TypeError],
    [Number.NaN, TypeError],
    [undefined, TypeError],
    [{}, TypeError],
    [-1, RangeError],
  ];
  it.each(durations)('argument duration = %o throws a %o naming the argument', (value, Kind) => {
    expect(() => timeout(value as never)).toThrow(Kind);
    expect(() => timeout(value as never)).toThrow(/timeout: argument "duration"/);
    expect(() => new TimeoutPolicy(value as never)).toThrow(Kind);
  });

  it('the duration message states the range', () => {
    expect(() => timeout(-1)).toThrow(
      /timeout: argument "duration" must be a number in \[0, Infinity\], received -1/,
    );
  });

  it('a duration function returning a bad value rejects the call, naming it', async () => {
    await expect(timeout(() => -5).execute(async () => 1)).rejects.toThrow(RangeError);
    await expect(timeout(() => '5' as never).execute(async () => 1)).rejects.toThrow(
      /timeout: argument "duration\(ctx\) result"/,
    );
  });

  it('the options argument must be an object', () => {
    expect(() => timeout(1, 5 as never)).toThrow(TypeError);
    expect(() => timeout(1, null as never)).toThrow(/timeout: options must be an object/);
  });

  it('accepts the documented ranges', () => {
    expect(() => timeout(0)).not.toThrow();
    expect(() => timeout(Number.POSITIVE_INFINITY)).not.toThrow();
    expect(() => timeout(() => 5, { strategy: 'cooperative' })).not.toThrow();
    expect(() => timeout(1, { clock: new VirtualClock(), name: 'db' })).not.toThrow();
  });

  it('applies the frozen defaults; the clock follows an adaptive duration', () => {
    expect(Object.isFrozen(TIMEOUT_DEFAULTS)).toBe(true);
    expect(resolveTimeoutOptions(100)).toEqual({
      duration: 100,
      strategy: TIMEOUT_DEFAULTS.strategy,
      clock: systemClock,
      name: TIMEOUT_DEFAULTS.name,
    });
    const clock = new VirtualClock();
    expect(resolveTimeoutOptions(adaptiveTimeout({ clock })).clock).toBe(clock);
    expect(timeout(100).name).toBe('timeout');
    expect(new TimeoutPolicy(100).describe()).toEqual(timeout(100).describe());
  });

  it('describe() is plain data: a duration function is "custom"', () => {
    expect(timeout(() => 5).describe()).toEqual({
      name: 'timeout',
      options: { duration: 'custom', strategy: 'aggressive' },
    });
    expect(JSON.parse(JSON.stringify(timeout(adaptiveTimeout()).describe()))).toEqual(
      timeout(adaptiveTimeout()).describe(),
    );
  });
});
