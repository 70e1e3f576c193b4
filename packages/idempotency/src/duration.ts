import { formatValue } from '@faultline/core';

const UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/;

/** A duration: milliseconds, or a string such as `'500ms'`, `'60s'`, `'5m'`, `'24h'`, `'7d'`. */
export type Duration = number | string;

/**
 * Validates a duration option and returns milliseconds: a `TypeError` for anything but a number
 * or a well-formed string, a `RangeError` outside [min, max].
 */
export function checkDuration(
  owner: string,
  option: string,
  value: unknown,
  min: number,
  max: number,
): number {
  const range = `a duration (ms, or a string like '60s' or '24h') in [${min}, ${max}] ms`;
  let ms: number;
  if (typeof value === 'number' && !Number.isNaN(value)) {
    ms = value;
  } else if (typeof value === 'string') {
    const match = PATTERN.exec(value);
    if (match === null) {
      throw new TypeError(
        `${owner}: option "${option}" must be ${range}, received ${formatValue(value)}`,
      );
    }
    ms = Number(match[1]) * UNITS[match[2]!]!;
  } else {
    throw new TypeError(
      `${owner}: option "${option}" must be ${range}, received ${formatValue(value)}`,
    );
  }
  if (!(ms >= min && ms <= max)) {
    throw new RangeError(
      `${owner}: option "${option}" must be ${range}, received ${formatValue(value)}`,
    );
  }
  return ms;
}
