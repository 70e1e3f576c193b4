import { checkNumber, formatValue } from '@faultline/core';
import type { Idempotency } from '../server-types.js';

/** @internal Checks an adapter's `idempotency` argument. */
export function checkIdempotency(owner: string, value: unknown): Idempotency {
  const candidate = value as Partial<Idempotency> | null | undefined;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.begin !== 'function' ||
    typeof candidate.complete !== 'function' ||
    typeof candidate.release !== 'function'
  ) {
    throw new TypeError(
      `${owner}: idempotency must be the result of createIdempotency(), received ${String(value)}`,
    );
  }
  return candidate as Idempotency;
}

/**
 * Whether `begin` can decide anything without the body: methods not covered and requests
 * without a key (when not required) pass through without buffering a byte.
 * @internal
 */
export function passesThrough(idempotency: Idempotency, method: string, hasKey: boolean): boolean {
  const { methods, required } = idempotency.options;
  if (!methods.includes(method.toUpperCase())) return true;
  return !hasKey && !required;
}

/** The default request body limit of every adapter: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;

/** @internal Checks an adapter's options object and its `maxBodyBytes` (default 1 MiB). */
export function checkMaxBodyBytes(
  owner: string,
  options: { readonly maxBodyBytes?: number } | undefined,
): number {
  if (options === undefined) return DEFAULT_MAX_BODY_BYTES;
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${owner}: options must be an object, received ${formatValue(options)}`);
  }
  const value = options.maxBodyBytes;
  if (value === undefined) return DEFAULT_MAX_BODY_BYTES;
  return checkNumber(owner, 'maxBodyBytes', value, {
    min: 0,
    max: 2 ** 31,
    maxExclusive: true,
    integer: true,
  });
}
