import { VirtualClock } from '@faultline/clock';
import { describe, expect, it } from 'vitest';
import { hedge } from './hedge.js';
import { HEDGE_DEFAULTS, resolveHedgeOptions } from './hedge-options.js';
import { learnedDelay } from './learned-delay.js';

type Case = readonly [option: string, value: unknown, error: typeof TypeError | typeof RangeError];

const hedgeCases: readonly Case[] = [
  ['maxHedgedAttempts', '2', TypeError],
  ['maxHedgedAttempts', 0, RangeError],
  ['maxHedgedAttempts', 11, RangeError],
  ['maxHedgedAttempts', 1.5, RangeError],
  ['delay', '100', TypeError],
  ['delay', Number.NaN, TypeError],
  ['delay', Number.NEGATIVE_INFINITY, RangeError],
  ['shouldHandle', true, TypeError],
  ['budget', { tryRetry() {} }, TypeError],
  ['retryAfter', 5, TypeError],
  ['clock', { now: () => 0 }, TypeError],
  ['name', 42, TypeError],
  ['name', '', RangeError],
];

describe('hedge options', () => {
  it.each(hedgeCases)('%s = %o is a %O naming the option', (option, value, error) => {
    expect(() => hedge({ [option]: value })).toThrow(error);
    expect(() => hedge({ [option]: value })).toThrow(new RegExp(`hedge: option "${option}"`));
  });

  it('rejects options that are not an object', () => {
    expect(() => hedge(42 as never)).toThrow(TypeError);
    expect(() => hedge(null as never)).toThrow(/options must be an object/);
  });

  it('resolves the documented defaults', () => {
    const resolved = resolveHedgeOptions();
    expect(resolved).toMatchObject({
      maxHedgedAttempts: HEDGE_DEFAULTS.maxHedgedAttempts,
      delay: HEDGE_DEFAULTS.delay,
      shouldHandle: HEDGE_DEFAULTS.shouldHandle,
      budget: undefined,
      retryAfter: undefined,
      clock: HEDGE_DEFAULTS.clock,
    });
    expect(resolved.identity).toEqual({ kind: 'hedge', name: 'hedge' });
    expect(Object.isFrozen(HEDGE_DEFAULTS)).toBe(true);
  });

  it('accepts every mode and a learned delay', () => {
    for (const delay of [1, 0, -1, Number.POSITIVE_INFINITY, () => 5, learnedDelay()]) {
      expect(() => hedge({ delay })).not.toThrow();
    }
    expect(hedge({ name: 'reads' }).name).toBe('reads');
  });
});

const learnedCases: readonly Case[] = [
  ['maxExtraLoad', '0.05', TypeError],
  ['maxExtraLoad', 1, RangeError],
  ['maxExtraLoad', -0.1, RangeError],
  ['window', '1s', TypeError],
  ['window', 0, RangeError],
  ['minDelay', null, TypeError],
  ['minDelay', 0, RangeError],
  ['initial', '2s', TypeError],
  ['initial', 0, RangeError],
  ['minSamples', '50', TypeError],
  ['minSamples', 0, RangeError],
  ['clock', 'system', TypeError],
];

describe('learnedDelay options', () => {
  it.each(learnedCases)('%s = %o is a %O naming the option', (option, value, error) => {
    expect(() => learnedDelay({ [option]: value })).toThrow(error);
    expect(() => learnedDelay({ [option]: value })).toThrow(
      new RegExp(`learnedDelay: option "${option}"`),
    );
  });

  it('initial below minDelay is a RangeError naming the bound', () => {
    expect(() => learnedDelay({ minDelay: 10, initial: 5 })).toThrow(
      /option "initial" must be a number in \[10 \(minDelay\), Infinity\], received 5/,
    );
    expect(() => learnedDelay({ initial: Number.POSITIVE_INFINITY })).not.toThrow();
    expect(() => learnedDelay({ clock: new VirtualClock() })).not.toThrow();
  });
});
