/**
 * Deadlines on the wire. A deadline crosses a process boundary as a **remaining duration**, never
 * as an absolute wall-clock time: the two machines' clocks disagree (by seconds when NTP is
 * unhealthy), while a duration only loses the one-way network delay, which errs on the safe side
 * (the callee's deadline ends a little after the caller's).
 *
 * Two value codecs, with no header plumbing (that is `@faultline/timeout`'s job):
 * - gRPC's `grpc-timeout` (gRPC over HTTP/2, "Requests"): `TimeoutValue TimeoutUnit`, 1 to 8
 *   ASCII digits and one of `H` (hours), `M` (minutes), `S` (seconds), `m` (milliseconds),
 *   `u` (microseconds), `n` (nanoseconds).
 * - A plain milliseconds value (as in Envoy's `x-envoy-upstream-rq-timeout-ms`): decimal digits.
 *
 * Formatting rounds **down** (toward zero), so a propagated deadline is never later than the
 * caller's own; the loss is under one unit of the finest unit that fits. Parsing is strict and
 * throws {@link InvalidTimeoutError} (a `RangeError`) for anything malformed.
 */

import { type Clock, systemClock } from './clock.js';
import { Deadline } from './deadline.js';
import { checkClock, checkNumber, formatInput } from './validate.js';

/** The wire formats this module speaks. */
export type TimeoutWireFormat = 'grpc-timeout' | 'milliseconds';

/**
 * A malformed timeout value received from the wire. Extends `RangeError` (the value is a string,
 * just not a valid one); a non-string input is a plain `TypeError` instead.
 */
export class InvalidTimeoutError extends RangeError {
  override readonly name = 'InvalidTimeoutError';
  /** Which format was expected. */
  readonly format: TimeoutWireFormat;
  /** The rejected value (as received). */
  readonly value: string;
  constructor(format: TimeoutWireFormat, value: string, expected: string) {
    super(`invalid ${format} value ${formatInput(value)}: expected ${expected}`);
    this.format = format;
    this.value = value;
  }
}

/** gRPC's TimeoutValue has at most 8 digits. */
const GRPC_MAX_VALUE = 99_999_999;

/** Units from finest to coarsest, with how many of each make a millisecond (for formatting). */
const GRPC_UNITS: ReadonlyArray<readonly [unit: string, unitsPerMs: number]> = [
  ['n', 1e6],
  ['u', 1e3],
  ['m', 1],
  ['S', 1 / 1_000],
  ['M', 1 / 60_000],
  ['H', 1 / 3_600_000],
];

/**
 * Parsing: ms = value × multiply / divide, with both factors exact integers, so the result is the
 * double nearest the decimal (`1100000n` is 1.1; multiplying by an inexact 1e-6 gives
 * 1.0999999999999999, an ulp off for about 3 values in 10).
 */
const GRPC_PARSE: Readonly<Record<string, readonly [multiply: number, divide: number]>> = {
  n: [1, 1e6],
  u: [1, 1e3],
  m: [1, 1],
  S: [1_000, 1],
  M: [60_000, 1],
  H: [3_600_000, 1],
};

/** The longest duration `grpc-timeout` can carry: 99 999 999 hours (about 11 400 years). */
export const MAX_GRPC_TIMEOUT = GRPC_MAX_VALUE * 3_600_000;

/**
 * The largest whole number of `unitsPerMs`-units in `ms`. Products like `4.35 * 1e6` come out as
 * 4349999.999999999; a result within 1e-12 (relative, a few ulps) of an integer is taken as that integer so
 * that exact decimal durations survive a round trip, and anything else is floored.
 */
function wholeUnits(ms: number, unitsPerMs: number): number {
  const units = ms * unitsPerMs;
  const nearest = Math.round(units);
  return Math.abs(units - nearest) <= 1e-12 * Math.max(1, nearest) ? nearest : Math.floor(units);
}

/** Trims the optional whitespace (SP, HTAB) that may surround an HTTP field value (RFC 9110 §5.5). */
function trimOws(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, '');
}

/**
 * Formats a remaining duration in ms as a `grpc-timeout` value: the finest unit whose value fits
 * in 8 digits, rounded down (a deadline is never extended). The loss is under one unit; as a
 * coarser unit is only used when the finer value needs 9 digits, it is at most 1e-5 of the value
 * (e.g. 100.00001 ms → `"100000u"`, 10 ns lost) and below 1 µs under 100 ms. `0` gives `"0n"`.
 * A finite duration beyond {@link MAX_GRPC_TIMEOUT} gives `"99999999H"` (shorter, so still never
 * extended). `Infinity` is a `RangeError`: there is no deadline to send, so omit the header.
 */
export function formatGrpcTimeout(ms: number): string {
  checkNumber('formatGrpcTimeout', 'ms', ms, { min: 0 }, false);
  for (const [unit, unitsPerMs] of GRPC_UNITS) {
    const value = wholeUnits(ms, unitsPerMs);
    if (value <= GRPC_MAX_VALUE) return `${value}${unit}`;
  }
  return `${GRPC_MAX_VALUE}H`;
}

/**
 * Parses a `grpc-timeout` value (`1*8DIGIT` and one of `H M S m u n`, surrounding SP/HTAB
 * allowed) into milliseconds (fractional for `u` and `n`).
 * @throws TypeError if `value` is not a string; {@link InvalidTimeoutError} if it is malformed
 * (empty, more than 8 digits, a sign, a decimal point, an unknown or missing unit, inner spaces).
 */
export function parseGrpcTimeout(value: string): number {
  if (typeof value !== 'string') {
    throw new TypeError(
      `parseGrpcTimeout: "value" must be a string, received ${formatInput(value)}`,
    );
  }
  const match = /^(\d{1,8})([HMSmun])$/.exec(trimOws(value));
  if (match === null) {
    throw new InvalidTimeoutError(
      'grpc-timeout',
      value,
      '1 to 8 digits followed by one unit of H, M, S, m, u, n (e.g. "100m")',
    );
  }
  const [multiply, divide] = GRPC_PARSE[match[2]!]!;
  return (Number(match[1]) * multiply) / divide;
}

/** The largest value {@link parseTimeoutMillis} accepts (and {@link formatTimeoutMillis} emits). */
export const MAX_TIMEOUT_MILLIS = Number.MAX_SAFE_INTEGER;

/**
 * Formats a remaining duration as a plain milliseconds value: whole ms, rounded down (never
 * extending the deadline; 0.6 ms left gives `"0"`, already expired). A finite duration beyond
 * {@link MAX_TIMEOUT_MILLIS} gives that maximum (shorter, so still never extended). `Infinity`
 * is a `RangeError`: omit the header instead.
 */
export function formatTimeoutMillis(ms: number): string {
  checkNumber('formatTimeoutMillis', 'ms', ms, { min: 0 }, false);
  return String(ms >= MAX_TIMEOUT_MILLIS ? MAX_TIMEOUT_MILLIS : wholeUnits(ms, 1));
}

/**
 * Parses a plain milliseconds value: ASCII digits only (surrounding SP/HTAB allowed), at most
 * {@link MAX_TIMEOUT_MILLIS}.
 * @throws TypeError if `value` is not a string; {@link InvalidTimeoutError} for anything else
 * (empty, signs, decimals, exponents, hex, units, inner spaces, too large).
 */
export function parseTimeoutMillis(value: string): number {
  if (typeof value !== 'string') {
    throw new TypeError(
      `parseTimeoutMillis: "value" must be a string, received ${formatInput(value)}`,
    );
  }
  const trimmed = trimOws(value);
  // 16 digits bounds the work before the safe-integer check.
  if (!/^\d{1,16}$/.test(trimmed) || Number(trimmed) > MAX_TIMEOUT_MILLIS) {
    throw new InvalidTimeoutError(
      'milliseconds',
      value,
      `a whole number of milliseconds, digits only, at most ${MAX_TIMEOUT_MILLIS}`,
    );
  }
  return Number(trimmed);
}

/** What is left of `deadline` in a wire format, or `undefined` for `Deadline.never`. */
function remainingAs(deadline: Deadline, format: (ms: number) => string): string | undefined {
  const left = deadline.remaining();
  return left === Number.POSITIVE_INFINITY ? undefined : format(left);
}

/** A deadline that ends the received `value` (decoded by `parse`) from now on `clock`. */
function deadlineFrom(
  owner: string,
  value: string,
  clock: Clock,
  parse: (value: string) => number,
): Deadline {
  if (clock !== systemClock) checkClock(owner, 'clock', clock, false);
  return Deadline.after(parse(value), clock);
}

/**
 * The `grpc-timeout` value for what is left of `deadline`, or `undefined` for
 * `Deadline.never` (send no header).
 */
export function deadlineToGrpcTimeout(deadline: Deadline): string | undefined {
  return remainingAs(deadline, formatGrpcTimeout);
}

/** A deadline that ends the received `grpc-timeout` from now on `clock`. */
export function deadlineFromGrpcTimeout(value: string, clock: Clock = systemClock): Deadline {
  return deadlineFrom('deadlineFromGrpcTimeout', value, clock, parseGrpcTimeout);
}

/**
 * The plain milliseconds value for what is left of `deadline`, or `undefined` for
 * `Deadline.never` (send no header).
 */
export function deadlineToTimeoutMillis(deadline: Deadline): string | undefined {
  return remainingAs(deadline, formatTimeoutMillis);
}

/** A deadline that ends the received milliseconds value from now on `clock`. */
export function deadlineFromTimeoutMillis(value: string, clock: Clock = systemClock): Deadline {
  return deadlineFrom('deadlineFromTimeoutMillis', value, clock, parseTimeoutMillis);
}
