import { checkNumber, optionalNumber } from '@faultline/core';

/** A rate: `rate` calls per `per` ms (the first two options of {@link tokenBucket} and {@link gcra}). */
export interface RatePeriod {
  readonly rate: number;
  readonly per: number;
}

const POSITIVE = { min: 0, minExclusive: true } as const;

/**
 * Checks `rate` (required, > 0) and `per` (> 0, `defaultPer` when omitted), in that order.
 * @internal
 */
export function checkRatePeriod(
  owner: string,
  options: { readonly rate?: unknown; readonly per?: unknown },
  defaultPer: number,
): RatePeriod {
  const rate = checkNumber(owner, 'rate', options.rate, POSITIVE);
  const per = optionalNumber(owner, 'per', options.per, defaultPer, POSITIVE);
  return { rate, per };
}
