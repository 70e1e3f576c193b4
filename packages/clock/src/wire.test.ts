import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Clock } from './clock.js';
import { Deadline } from './deadline.js';
import { VirtualClock } from './virtual-clock.js';
import {
  deadlineFromGrpcTimeout,
  deadlineFromTimeoutMillis,
  deadlineToGrpcTimeout,
  deadlineToTimeoutMillis,
  formatGrpcTimeout,
  formatTimeoutMillis,
  InvalidTimeoutError,
  MAX_GRPC_TIMEOUT,
  parseGrpcTimeout,
  parseTimeoutMillis,
} from './wire.js';

describe('grpc-timeout', () => {
  it.each([
    [0, '0n'],
    [0.000001, '1n'],
    [1, '1000000n'],
    [99.999999, '99999999n'],
    [100, '100000u'],
    [1500, '1500000u'],
    [99_999.999, '99999999u'],
    [100_000, '100000m'],
    [99_999_999, '99999999m'],
    [100_000_000, '100000S'],
    [99_999_999_000, '99999999S'],
    [100_000_000_000, '1666666M'],
    [MAX_GRPC_TIMEOUT, '99999999H'],
    [MAX_GRPC_TIMEOUT * 10, '99999999H'],
  ])('formats %d ms as %s (finest unit that fits in 8 digits)', (ms, expected) => {
    expect(formatGrpcTimeout(ms)).toBe(expected);
  });

  it('rounds down, so a propagated deadline is never extended', () => {
    expect(formatGrpcTimeout(0.0000004)).toBe('0n');
    expect(formatGrpcTimeout(100.0009)).toBe('100000u');
    expect(formatGrpcTimeout(100_000_000_999)).toBe('1666666M');
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e15, noNaN: true }), (ms) => {
        const sent = parseGrpcTimeout(formatGrpcTimeout(ms));
        expect(sent).toBeLessThanOrEqual(ms * (1 + 1e-12));
        // The loss is under one unit, and the unit is the finest that fits: at most 1e-5 of
        // the value (a coarser unit is used from 100 000 of it on), under 1e-6 ms below 100 ms
        // (beyond the largest value, the longest representable timeout is sent).
        if (ms <= MAX_GRPC_TIMEOUT) {
          expect(ms - sent).toBeLessThanOrEqual(ms < 100 ? 1e-6 : ms * 1.0000001e-5);
        } else {
          expect(sent).toBe(MAX_GRPC_TIMEOUT);
        }
      }),
    );
  });

  it('keeps exact decimal durations through a round trip', () => {
    for (const ms of [4.35, 0.3, 1.1, 250, 12_345.678]) {
      expect(parseGrpcTimeout(formatGrpcTimeout(ms))).toBeCloseTo(ms, 9);
    }
    expect(formatGrpcTimeout(4.35)).toBe('4350000n');
  });

  it('parses u and n values to the double nearest the decimal (1100000n is 1.1, not 1.0999…)', () => {
    // Multiplying by 1e-6 (itself inexact) is off by an ulp for about 3 values in 10.
    expect(parseGrpcTimeout('1100000n')).toBe(1.1);
    expect(parseGrpcTimeout('4350u')).toBe(4.35);
    for (let i = 0; i < 10_000; i++) {
      const digits = String(i * 7919);
      expect(parseGrpcTimeout(`${digits}n`)).toBe(Number(`${digits}e-6`));
      expect(parseGrpcTimeout(`${digits}u`)).toBe(Number(`${digits}e-3`));
    }
  });

  it.each([
    ['1H', 3_600_000],
    ['2M', 120_000],
    ['3S', 3000],
    ['250m', 250],
    ['1500u', 1.5],
    ['5n', 0.000005],
    ['00000001S', 1000],
    ['99999999H', MAX_GRPC_TIMEOUT],
    [' 10m\t', 10],
  ])('parses %j as %d ms', (value, ms) => {
    expect(parseGrpcTimeout(value)).toBeCloseTo(ms, 12);
  });

  it.each([
    '',
    'm',
    '10',
    '123456789m',
    '-1m',
    '+1m',
    '1.5S',
    '10 m',
    '10ms',
    '10s',
    '10h',
    '1e3m',
    '0x10m',
    '10mm',
    '１０m',
  ])('rejects %j with InvalidTimeoutError (a RangeError)', (value) => {
    expect(() => parseGrpcTimeout(value)).toThrow(InvalidTimeoutError);
    expect(() => parseGrpcTimeout(value)).toThrow(RangeError);
    try {
      parseGrpcTimeout(value);
    } catch (error) {
      expect((error as InvalidTimeoutError).name).toBe('InvalidTimeoutError');
      expect((error as InvalidTimeoutError).format).toBe('grpc-timeout');
      expect((error as InvalidTimeoutError).value).toBe(value);
      expect((error as Error).message).toMatch(
        /invalid grpc-timeout value .*: expected 1 to 8 digits/,
      );
    }
  });

  it('rejects a non-string with TypeError', () => {
    expect(() => parseGrpcTimeout(5 as unknown as string)).toThrow(TypeError);
    expect(() => parseGrpcTimeout(undefined as unknown as string)).toThrow(
      /parseGrpcTimeout: "value"/,
    );
  });

  it('formatGrpcTimeout rejects a wrong type and an out-of-range value', () => {
    expect(() => formatGrpcTimeout('5' as unknown as number)).toThrow(TypeError);
    expect(() => formatGrpcTimeout(Number.NaN)).toThrow(TypeError);
    expect(() => formatGrpcTimeout(-1)).toThrow(RangeError);
    expect(() => formatGrpcTimeout(-1)).toThrow(/formatGrpcTimeout: argument "ms".*received -1/);
    expect(() => formatGrpcTimeout(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('plain milliseconds', () => {
  it('formats whole ms, rounding down', () => {
    expect(formatTimeoutMillis(0)).toBe('0');
    expect(formatTimeoutMillis(0.6)).toBe('0');
    expect(formatTimeoutMillis(1500.999)).toBe('1500');
    expect(formatTimeoutMillis(30_000)).toBe('30000');
    expect(formatTimeoutMillis(Number.MAX_SAFE_INTEGER)).toBe('9007199254740991');
    expect(formatTimeoutMillis(1e300)).toBe('9007199254740991');
  });

  it('parses digits only', () => {
    expect(parseTimeoutMillis('1500')).toBe(1500);
    expect(parseTimeoutMillis('0')).toBe(0);
    expect(parseTimeoutMillis('007')).toBe(7);
    expect(parseTimeoutMillis(' 20 ')).toBe(20);
    expect(parseTimeoutMillis('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    '',
    ' ',
    '-1',
    '+1',
    '1.5',
    '1e3',
    '0x10',
    '10ms',
    '1 0',
    '9007199254740992',
    '99999999999999999',
  ])('rejects %j with InvalidTimeoutError', (value) => {
    expect(() => parseTimeoutMillis(value)).toThrow(InvalidTimeoutError);
    expect(() => parseTimeoutMillis(value)).toThrow(
      /invalid milliseconds value .*: expected a whole number/,
    );
  });

  it('rejects wrong types and out-of-range values', () => {
    expect(() => parseTimeoutMillis(15 as unknown as string)).toThrow(TypeError);
    expect(() => formatTimeoutMillis('5' as unknown as number)).toThrow(TypeError);
    expect(() => formatTimeoutMillis(-0.5)).toThrow(RangeError);
    expect(() => formatTimeoutMillis(-0.5)).toThrow(/formatTimeoutMillis: argument "ms"/);
    expect(() => formatTimeoutMillis(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('round-trips any whole number of ms', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (ms) => {
        expect(parseTimeoutMillis(formatTimeoutMillis(ms))).toBe(ms);
      }),
    );
  });
});

describe('Deadline-level helpers', () => {
  it('send what is left as a duration; never sends nothing', async () => {
    const clock = new VirtualClock(5_000);
    const deadline = Deadline.after(1_500, clock);
    await clock.advance(250);
    expect(deadlineToGrpcTimeout(deadline)).toBe('1250000u');
    expect(deadlineToTimeoutMillis(deadline)).toBe('1250');
    expect(deadlineToGrpcTimeout(Deadline.never)).toBeUndefined();
    expect(deadlineToTimeoutMillis(Deadline.never)).toBeUndefined();
    await clock.advance(5_000);
    expect(deadlineToGrpcTimeout(deadline)).toBe('0n');
  });

  it('receive a duration as a deadline on the local clock', () => {
    const clock = new VirtualClock(123);
    expect(deadlineFromGrpcTimeout('2S', clock).remaining()).toBe(2000);
    expect(deadlineFromTimeoutMillis('750', clock).remaining()).toBe(750);
    expect(deadlineFromGrpcTimeout('1S').remaining()).toBeLessThanOrEqual(1000);
    expect(() => deadlineFromGrpcTimeout('2s', clock)).toThrow(InvalidTimeoutError);
    expect(() => deadlineFromTimeoutMillis('-2', clock)).toThrow(InvalidTimeoutError);
  });

  it('reject a wrong clock', () => {
    const bad = {} as Clock;
    expect(() => deadlineFromGrpcTimeout('1S', bad)).toThrow(
      /deadlineFromGrpcTimeout: argument "clock"/,
    );
    expect(() => deadlineFromTimeoutMillis('1', bad)).toThrow(
      /deadlineFromTimeoutMillis: argument "clock"/,
    );
  });
});
