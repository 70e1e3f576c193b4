/**
 * The shared option validators of every faultline package. They live here, at the bottom of the
 * dependency graph, because `@faultline/clock` validates its own arguments and cannot import
 * `@faultline/core`; core re-exports them under the same names, and that is where policies import
 * them from. A wrong type is a `TypeError`, a value out of range a `RangeError`, and the message
 * names the owner (factory or function), the option, the allowed range and the value received.
 * Nothing is silently clamped.
 */
import { type Clock, systemClock } from './clock.js';

/**
 * Formats a value for an error message: strings quoted, functions by name, objects as JSON (or
 * their tag when they cannot be serialised).
 */
export function formatValue(value: unknown): string {
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

/**
 * {@link formatValue} for input from outside the process (a header, an encoded timestamp): a long
 * string is cut at 64 characters so that a hostile value cannot flood a log through a message.
 * @internal
 */
export function formatInput(value: unknown): string {
  if (typeof value === 'string' && value.length > 64) return formatValue(`${value.slice(0, 64)}…`);
  return formatValue(value);
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

/**
 * `name` as a message says it: `option "x"` for a member of an options object, `argument "x"` for
 * a positional argument (`timeout(ms)`, `constant(ms)`, `VirtualClock.advance(ms)`).
 */
function label(name: string, isOption: boolean): string {
  return isOption ? `option "${name}"` : `argument "${name}"`;
}

/**
 * Checks a number against `range`; returns it unchanged. `isOption: false` names `name` as a
 * positional argument (`argument "ms"`) rather than an option (`option "ms"`).
 */
export function checkNumber(
  owner: string,
  name: string,
  value: unknown,
  range: NumberRange = {},
  isOption = true,
): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(
      `${owner}: ${label(name, isOption)} must be ${describeRange(range)}, received ${formatValue(value)}`,
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
      `${owner}: ${label(name, isOption)} must be ${describeRange(range)}, received ${formatValue(value)}`,
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

/** Checks that a value is a function (`TypeError` otherwise); returns it unchanged. */
export function checkFunction<F extends (...args: never[]) => unknown>(
  owner: string,
  name: string,
  value: unknown,
  isOption = true,
): F {
  if (typeof value !== 'function') {
    throw new TypeError(
      `${owner}: ${label(name, isOption)} must be a function, received ${formatValue(value)}`,
    );
  }
  return value as F;
}

/** Checks an optional function option: `undefined` gives `fallback`. */
export function optionalFunction<F extends (...args: never[]) => unknown>(
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
    throw new TypeError(
      `${owner}: option "${option}" must be a boolean, received ${formatValue(value)}`,
    );
  }
  return value;
}

/** Checks that an option is a string (`TypeError` otherwise); returns it unchanged. */
export function checkString(owner: string, option: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new TypeError(
      `${owner}: option "${option}" must be a string, received ${formatValue(value)}`,
    );
  }
  return value;
}

/** Checks that `value` is one of `allowed` (compared with ===). */
export function checkOneOf<T extends string | number | boolean>(
  owner: string,
  option: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value as T)) {
    const list = allowed.map((item) => formatValue(item)).join(', ');
    const Kind = allowed.some((item) => typeof item === typeof value) ? RangeError : TypeError;
    throw new Kind(
      `${owner}: option "${option}" must be one of ${list}, received ${formatValue(value)}`,
    );
  }
  return value as T;
}

/** Checks that an options argument is a plain object (or `undefined`, giving `{}`). */
export function checkOptions<T extends object>(owner: string, value: unknown): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${owner}: options must be an object, received ${formatValue(value)}`);
  }
  return value as Partial<T>;
}

/** A method of {@link Clock}. */
export type ClockMethod = keyof Clock;

const ALL_CLOCK_METHODS: readonly ClockMethod[] = ['now', 'sleep', 'setTimer'];

function hasMethods(value: unknown, methods: readonly ClockMethod[]): value is Clock {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Partial<Record<ClockMethod, unknown>>;
  return methods.every((method) => typeof candidate[method] === 'function');
}

/**
 * Checks a `clock` option: `undefined` gives {@link "@faultline/clock"!systemClock}; anything else must be an object
 * with the `requires` methods of {@link Clock} (all three by default; a primitive that never
 * sleeps may ask only for what it calls), or it is a `TypeError`.
 */
export function optionalClock(
  owner: string,
  option: string,
  value: unknown,
  requires: readonly ClockMethod[] = ALL_CLOCK_METHODS,
): Clock {
  if (value === undefined) return systemClock;
  if (!hasMethods(value, requires)) {
    const names = requires.map((method) => `${method}()`);
    const list =
      names.length > 1
        ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`
        : names.join('');
    throw new TypeError(
      `${owner}: option "${option}" must be a Clock (an object with ${list}), received ${formatValue(value)}`,
    );
  }
  return value;
}

/**
 * Checks a clock passed to one of this package's functions (`Deadline.after(ms, clock)`, the
 * `clock` option of `watchPauses`): it must have `now`, `sleep` and `setTimer`.
 * @internal
 */
export function checkClock(owner: string, name: string, value: unknown, isOption = true): Clock {
  if (!hasMethods(value, ALL_CLOCK_METHODS)) {
    throw new TypeError(
      `${owner}: ${label(name, isOption)} must be a Clock (an object with now, sleep and setTimer), received ${formatInput(value)}`,
    );
  }
  return value;
}

/**
 * Reports a listener's error the way EventTarget does, without touching the caller: through
 * `reportError` where the platform has it (browsers, Deno), otherwise as an uncaught exception on
 * a later microtask (Node's `process.on('uncaughtException')` sees it, as it does for a throwing
 * EventTarget listener). Used by every faultline event channel and watcher.
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
