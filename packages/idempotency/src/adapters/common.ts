import type { Idempotency } from '../idempotency.js';

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
