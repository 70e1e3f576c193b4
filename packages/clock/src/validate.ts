/**
 * Argument validation for this package. `@faultline/core` depends on `@faultline/clock`, so the
 * clock cannot import core's helpers; these produce the same messages: a wrong type is a
 * `TypeError`, a value out of range a `RangeError`, and the message names the owner, the option,
 * the allowed range and the value received. Nothing is silently clamped.
 * @internal
 */
import type { Clock } from './clock.js';

/** Formats a value for an error message (strings quoted, functions by name). */
export function show(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return value.toString();
  if (value !== null && typeof value === 'object') {
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

/** Range rules for {@link checkNumber}. */
export interface NumberRange {
  readonly min?: number;
  readonly max?: number;
  readonly minExclusive?: boolean;
  readonly integer?: boolean;
  /** `Infinity` is a valid value. */
  readonly allowInfinity?: boolean;
}

function describeRange(range: NumberRange): string {
  const min = range.min ?? Number.NEGATIVE_INFINITY;
  const max = range.max ?? Number.POSITIVE_INFINITY;
  const openLow = range.minExclusive === true || min === Number.NEGATIVE_INFINITY;
  const openHigh = max === Number.POSITIVE_INFINITY && range.allowInfinity !== true;
  const kind = range.integer === true ? 'an integer' : 'a number';
  return `${kind} in ${openLow ? '(' : '['}${min}, ${max}${openHigh ? ')' : ']'}`;
}

/** `name` as it appears in a message: `option "x"` for option objects, `"x"` for arguments. */
function label(name: string, isOption: boolean): string {
  return isOption ? `option "${name}"` : `"${name}"`;
}

/** Checks a number against `range` and returns it. */
export function checkNumber(
  owner: string,
  name: string,
  value: unknown,
  range: NumberRange = {},
  isOption = true,
): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(
      `${owner}: ${label(name, isOption)} must be ${describeRange(range)}, received ${show(value)}`,
    );
  }
  const min = range.min ?? Number.NEGATIVE_INFINITY;
  const max = range.max ?? Number.POSITIVE_INFINITY;
  let valid: boolean;
  if (value === Number.POSITIVE_INFINITY) {
    valid = range.allowInfinity === true && max === Number.POSITIVE_INFINITY;
  } else if (value === Number.NEGATIVE_INFINITY) {
    valid = false;
  } else {
    valid =
      (range.minExclusive === true ? value > min : value >= min) &&
      value <= max &&
      (range.integer !== true || Number.isInteger(value));
  }
  if (!valid) {
    throw new RangeError(
      `${owner}: ${label(name, isOption)} must be ${describeRange(range)}, received ${show(value)}`,
    );
  }
  return value;
}

/** Checks an optional number: `undefined` gives `fallback`. */
export function optionalNumber(
  owner: string,
  name: string,
  value: unknown,
  fallback: number,
  range: NumberRange = {},
): number {
  return value === undefined ? fallback : checkNumber(owner, name, value, range);
}

export function checkFunction<F extends Function>(
  owner: string,
  name: string,
  value: unknown,
  isOption = true,
): F {
  if (typeof value !== 'function') {
    throw new TypeError(
      `${owner}: ${label(name, isOption)} must be a function, received ${show(value)}`,
    );
  }
  return value as F;
}

export function optionalFunction<F extends Function>(
  owner: string,
  name: string,
  value: unknown,
  fallback: F,
): F {
  return value === undefined ? fallback : checkFunction<F>(owner, name, value);
}

/**
 * Checks that `value` is a {@link Clock} (an object with `now`, `sleep` and `setTimer`
 * functions). A `Clock` has no out-of-range values: anything else is a `TypeError`.
 */
export function checkClock(owner: string, name: string, value: unknown, isOption = true): Clock {
  const candidate = value as Partial<Record<keyof Clock, unknown>> | null;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.now !== 'function' ||
    typeof candidate.sleep !== 'function' ||
    typeof candidate.setTimer !== 'function'
  ) {
    throw new TypeError(
      `${owner}: ${label(name, isOption)} must be a Clock (an object with now, sleep and setTimer), received ${show(value)}`,
    );
  }
  return value as Clock;
}

/** Checks that an options argument is a plain object (or `undefined`, giving `{}`). */
export function checkOptions<T extends object>(owner: string, value: unknown): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${owner}: options must be an object, received ${show(value)}`);
  }
  return value as Partial<T>;
}

/**
 * Reports a listener's error without stopping the watcher that called it, the way EventTarget
 * does: `reportError` where the platform has it, otherwise an uncaught exception on a microtask.
 */
export function reportListenerError(error: unknown): void {
  const report = (globalThis as { reportError?: (error: unknown) => void }).reportError;
  if (typeof report === 'function') {
    report(error);
    return;
  }
  queueMicrotask(() => {
    throw error;
  });
}
