import { thrownBy } from '@faultline/test-support/browser';
import { describe, expect, it } from 'vitest';
import { systemClock } from './clock.js';
import {
  checkBoolean,
  checkClock,
  checkFunction,
  checkNumber,
  checkOneOf,
  checkOptions,
  checkString,
  formatInput,
  formatValue,
  optionalClock,
  optionalFunction,
  optionalNumber,
} from './validate.js';
import { VirtualClock } from './virtual-clock.js';

/** Asserts `f` throws `Kind` whose message names each of `parts`. */
function expectError(
  f: () => unknown,
  Kind: typeof TypeError | typeof RangeError,
  parts: string[],
) {
  const thrown = thrownBy(f);
  expect(thrown).toBeInstanceOf(Kind);
  // RangeError is not a TypeError and vice versa: callers can tell the two apart.
  expect(thrown).not.toBeInstanceOf(Kind === TypeError ? RangeError : TypeError);
  for (const part of parts) expect((thrown as Error).message).toContain(part);
}

describe('checkNumber', () => {
  it('returns valid values unchanged', () => {
    expect(checkNumber('retry', 'maxAttempts', 3, { min: 1, integer: true })).toBe(3);
    expect(checkNumber('x', 'y', 0, { min: 0 })).toBe(0);
    expect(checkNumber('x', 'y', Number.POSITIVE_INFINITY, { min: 1, allowInfinity: true })).toBe(
      Number.POSITIVE_INFINITY,
    );
    expect(checkNumber('x', 'y', -5)).toBe(-5);
  });

  it('names owner, option, range and value on a wrong type (TypeError)', () => {
    expectError(
      () => checkNumber('retry', 'maxAttempts', '3', { min: 1, integer: true }),
      TypeError,
      ['retry', '"maxAttempts"', 'an integer in [1, Infinity)', 'received "3"'],
    );
    expectError(() => checkNumber('retry', 'maxAttempts', Number.NaN), TypeError, ['received NaN']);
    expectError(() => checkNumber('t', 'ms', undefined, { min: 0 }), TypeError, [
      'received undefined',
    ]);
    expectError(() => checkNumber('t', 'ms', null, { min: 0 }), TypeError, ['received null']);
    expectError(() => checkNumber('t', 'ms', 10n, { min: 0 }), TypeError, ['received 10n']);
  });

  it('names owner, option, range and value when out of range (RangeError)', () => {
    expectError(
      () => checkNumber('retry', 'maxAttempts', 0, { min: 1, integer: true }),
      RangeError,
      ['retry: option "maxAttempts" must be an integer in [1, Infinity), received 0'],
    );
    expectError(() => checkNumber('b', 'threshold', 1.5, { min: 0, max: 1 }), RangeError, [
      'a number in [0, 1]',
      'received 1.5',
    ]);
    expectError(
      () => checkNumber('b', 'threshold', 0, { min: 0, max: 1, minExclusive: true }),
      RangeError,
      ['(0, 1]'],
    );
    expectError(
      () => checkNumber('b', 'threshold', 1, { min: 0, max: 1, maxExclusive: true }),
      RangeError,
      ['[0, 1)'],
    );
    expectError(() => checkNumber('r', 'n', 2.5, { integer: true }), RangeError, [
      'an integer in (-Infinity, Infinity)',
    ]);
  });

  it('rejects infinities unless allowed, and says so in the range', () => {
    expectError(() => checkNumber('t', 'ms', Number.POSITIVE_INFINITY, { min: 0 }), RangeError, [
      '[0, Infinity)',
      'received Infinity',
    ]);
    expectError(
      () => checkNumber('t', 'ms', Number.NEGATIVE_INFINITY, { allowInfinity: true }),
      RangeError,
      ['received -Infinity'],
    );
    expectError(() => checkNumber('t', 'ms', -1, { min: 0, allowInfinity: true }), RangeError, [
      '[0, Infinity]',
    ]);
    // Infinity is not allowed past a finite max even with allowInfinity.
    expectError(
      () => checkNumber('t', 'ms', Number.POSITIVE_INFINITY, { max: 10, allowInfinity: true }),
      RangeError,
      ['received Infinity'],
    );
  });

  it('optionalNumber gives the fallback for undefined only', () => {
    expect(optionalNumber('x', 'y', undefined, 7, { min: 0 })).toBe(7);
    expect(optionalNumber('x', 'y', 2, 7, { min: 0 })).toBe(2);
    expectError(() => optionalNumber('x', 'y', null, 7, { min: 0 }), TypeError, ['"y"']);
    expectError(() => optionalNumber('x', 'y', -1, 7, { min: 0 }), RangeError, ['"y"']);
  });
});

describe('other checks', () => {
  it('checkFunction / optionalFunction', () => {
    const f = () => 1;
    expect(checkFunction('fallback', 'fallback', f)).toBe(f);
    expect(optionalFunction('fallback', 'shouldHandle', undefined, f)).toBe(f);
    expectError(() => checkFunction('fallback', 'fallback', 'x'), TypeError, [
      'fallback: option "fallback" must be a function, received "x"',
    ]);
    expectError(() => optionalFunction('fallback', 'shouldHandle', 1, f), TypeError, [
      '"shouldHandle"',
    ]);
  });

  it('checkBoolean / checkString', () => {
    expect(checkBoolean('x', 'flag', false)).toBe(false);
    expect(checkString('x', 'name', '')).toBe('');
    expectError(() => checkBoolean('x', 'flag', 'true'), TypeError, [
      '"flag"',
      'a boolean',
      '"true"',
    ]);
    expectError(() => checkString('x', 'name', 1), TypeError, ['"name"', 'a string', 'received 1']);
  });

  it('checkOneOf: RangeError for a value of the right type, TypeError otherwise', () => {
    expect(checkOneOf('jitter', 'mode', 'full', ['none', 'full'] as const)).toBe('full');
    expectError(() => checkOneOf('backoff', 'jitter', 'ful', ['none', 'full']), RangeError, [
      'backoff: option "jitter" must be one of "none", "full", received "ful"',
    ]);
    expectError(() => checkOneOf('backoff', 'jitter', 1, ['none', 'full']), TypeError, [
      '"jitter"',
      'received 1',
    ]);
  });

  it('checkOptions accepts objects and undefined only', () => {
    expect(checkOptions('bulkhead', undefined)).toEqual({});
    const options = { limit: 1 };
    expect(checkOptions('bulkhead', options)).toBe(options);
    for (const bad of [null, 5, 'x', [1]]) {
      expectError(() => checkOptions('bulkhead', bad), TypeError, [
        'bulkhead: options must be an object',
      ]);
    }
  });

  it('optionalClock accepts a Clock and defaults to systemClock', () => {
    const clock = new VirtualClock();
    expect(optionalClock('b', 'clock', clock)).toBe(clock);
    expect(optionalClock('b', 'clock', undefined)).toBe(systemClock);
    expectError(() => optionalClock('b', 'clock', Date), TypeError, [
      'b: option "clock" must be a Clock',
    ]);
    expectError(() => optionalClock('b', 'clock', { now: () => 0 }), TypeError, ['"clock"']);
    expectError(() => optionalClock('b', 'clock', null), TypeError, ['received null']);
  });

  it('formatValue shows values readably', () => {
    expect(formatValue('a')).toBe('"a"');
    expect(formatValue(function named() {})).toBe('function named');
    expect(formatValue(() => 1)).toBe('function (anonymous)');
    expect(formatValue({ a: 1 })).toBe('{"a":1}');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(formatValue(circular)).toBe('[object Object]');
    expect(formatValue(Symbol('s'))).toBe('Symbol(s)');
  });
});

describe('one implementation for every package', () => {
  it('optionalClock asks only for the methods a primitive calls, and says which', () => {
    const nowOnly = { now: () => 0 };
    const noSleep = { now: () => 0, setTimer: () => () => {} };
    expect(optionalClock('circuitBreaker', 'clock', nowOnly, ['now'])).toBe(nowOnly);
    expect(optionalClock('PhiAccrualDetector', 'clock', noSleep, ['now', 'setTimer'])).toBe(
      noSleep,
    );
    expect(() => optionalClock('circuitBreaker', 'clock', {}, ['now'])).toThrow(
      new TypeError(
        'circuitBreaker: option "clock" must be a Clock (an object with now()), received {}',
      ),
    );
    expect(() =>
      optionalClock('PhiAccrualDetector', 'clock', nowOnly, ['now', 'setTimer']),
    ).toThrow(
      new TypeError(
        'PhiAccrualDetector: option "clock" must be a Clock (an object with now() and setTimer()), received {}',
      ),
    );
    expect(() => optionalClock('retry', 'clock', noSleep)).toThrow(
      new TypeError(
        'retry: option "clock" must be a Clock (an object with now(), sleep() and setTimer()), received {}',
      ),
    );
  });

  it("names a positional argument 'argument', not 'option' (isOption: false)", () => {
    expect(() => checkNumber('VirtualClock.advance', 'ms', -1, { min: 0 }, false)).toThrow(
      new RangeError(
        'VirtualClock.advance: argument "ms" must be a number in [0, Infinity), received -1',
      ),
    );
    expect(() => checkFunction('f', 'callback', 1, false)).toThrow(
      new TypeError('f: argument "callback" must be a function, received 1'),
    );
  });

  it("the clock package's own clock argument check keeps its wording; input from outside is cut at 64 characters", () => {
    expect(() => checkClock('Deadline.after', 'clock', { now: () => 0 }, false)).toThrow(
      new TypeError(
        'Deadline.after: argument "clock" must be a Clock (an object with now, sleep and setTimer), received {}',
      ),
    );
    expect(formatInput('x'.repeat(65))).toBe(JSON.stringify(`${'x'.repeat(64)}…`));
    expect(formatInput('x'.repeat(64))).toBe(JSON.stringify('x'.repeat(64)));
    expect(formatValue('x'.repeat(65))).toBe(JSON.stringify('x'.repeat(65)));
  });

  it('maxExclusive leaves max out of the range', () => {
    expect(checkNumber('o', 'q', 0.5, { min: 0, max: 1, maxExclusive: true })).toBe(0.5);
    expect(() => checkNumber('o', 'q', 1, { min: 0, max: 1, maxExclusive: true })).toThrow(
      new RangeError('o: option "q" must be a number in [0, 1), received 1'),
    );
  });
});
