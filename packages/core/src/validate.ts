import { type Clock, systemClock } from '@faultline/clock';

/**
 * Option validation shared by every factory: a wrong type is a `TypeError`, a value out of range
 * a `RangeError`, and the message names the factory, the option, the allowed range and the value
 * received. Nothing is silently clamped.
 */

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'bigint') return `${value}n`;
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
  /** `min` itself is not allowed. */
  readonly minExclusive?: boolean;
  /** `max` itself is not allowed. */
  readonly maxExclusive?: boolean;
  /** Must be a whole number (`Infinity` is still allowed when `allowInfinity` is set). */
  readonly integer?: boolean;
  /** `Infinity` is a valid value (e.g. `maxAttempts: Infinity`). */
  readonly allowInfinity?: boolean;
}

function describeRange(range: NumberRange): string {
  const min = range.min ?? Number.NEGATIVE_INFINITY;
  const max = range.max ?? Number.POSITIVE_INFINITY;
  const openLow = range.minExclusive === true || min === Number.NEGATIVE_INFINITY;
  const openHigh =
    max === Number.POSITIVE_INFINITY ? range.allowInfinity !== true : range.maxExclusive === true;
  const kind = range.integer === true ? 'an integer' : 'a number';
  return `${kind} in ${openLow ? '(' : '['}${min}, ${max}${openHigh ? ')' : ']'}`;
}

/** Checks a numeric option against `range`; returns it unchanged. */
export function checkNumber(
  owner: string,
  option: string,
  value: unknown,
  range: NumberRange = {},
): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(
      `${owner}: option "${option}" must be ${describeRange(range)}, received ${show(value)}`,
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
      (range.maxExclusive === true ? value < max : value <= max) &&
      (range.integer !== true || Number.isInteger(value));
  }
  if (!valid) {
    throw new RangeError(
      `${owner}: option "${option}" must be ${describeRange(range)}, received ${show(value)}`,
    );
  }
  return value;
}

/** Checks an optional numeric option: `undefined` gives `fallback`. */
export function optionalNumber(
  owner: string,
  option: string,
  value: unknown,
  fallback: number,
  range: NumberRange = {},
): number {
  return value === undefined ? fallback : checkNumber(owner, option, value, range);
}

/** Checks that an option is a function (`TypeError` otherwise); returns it unchanged. */
export function checkFunction<F extends Function>(
  owner: string,
  option: string,
  value: unknown,
): F {
  if (typeof value !== 'function') {
    throw new TypeError(`${owner}: option "${option}" must be a function, received ${show(value)}`);
  }
  return value as F;
}

/** Checks an optional function option: `undefined` gives `fallback`. */
export function optionalFunction<F extends Function>(
  owner: string,
  option: string,
  value: unknown,
  fallback: F,
): F {
  return value === undefined ? fallback : checkFunction<F>(owner, option, value);
}

/** Checks that an option is a boolean (`TypeError` otherwise); returns it unchanged. */
export function checkBoolean(owner: string, option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new TypeError(`${owner}: option "${option}" must be a boolean, received ${show(value)}`);
  }
  return value;
}

/** Checks that an option is a string (`TypeError` otherwise); returns it unchanged. */
export function checkString(owner: string, option: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new TypeError(`${owner}: option "${option}" must be a string, received ${show(value)}`);
  }
  return value;
}

/**
 * Checks a `clock` option: `undefined` gives {@link systemClock}; anything else must implement
 * `Clock` (`now`, `sleep` and `setTimer` functions), or it is a `TypeError`.
 */
export function optionalClock(owner: string, option: string, value: unknown): Clock {
  if (value === undefined) return systemClock;
  const clock = value as Partial<Clock> | null;
  if (
    clock === null ||
    typeof clock !== 'object' ||
    typeof clock.now !== 'function' ||
    typeof clock.sleep !== 'function' ||
    typeof clock.setTimer !== 'function'
  ) {
    throw new TypeError(
      `${owner}: option "${option}" must be a Clock (an object with now(), sleep() and setTimer()), received ${show(value)}`,
    );
  }
  return clock as Clock;
}

/** Checks that `value` is one of `allowed` (compared with ===). */
export function checkOneOf<T extends string | number | boolean>(
  owner: string,
  option: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value as T)) {
    const list = allowed.map((item) => show(item)).join(', ');
    const Kind = allowed.some((item) => typeof item === typeof value) ? RangeError : TypeError;
    throw new Kind(`${owner}: option "${option}" must be one of ${list}, received ${show(value)}`);
  }
  return value as T;
}

/** Checks that an options argument is a plain object (or undefined, giving `{}`). */
export function checkOptions<T extends object>(owner: string, value: unknown): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${owner}: options must be an object, received ${show(value)}`);
  }
  return value as Partial<T>;
}

/** Formats a value for an error message the way the validators do. */
export { show as formatValue };
