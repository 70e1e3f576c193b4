import { checkNumber, optionalNumber } from '@faultline/core';

/** The bounds every adaptive limit with a floor takes ({@link aimd}, {@link gradient2}). */
export interface LimitBounds {
  readonly initial: number;
  readonly min: number;
  readonly max: number;
}

const INTEGER = { min: 1, integer: true } as const;

/**
 * Checks `initial`, `min` and `max` (in that order; integers ≥ 1, `max` ≥ `min`). An omitted
 * `max` is the default raised to `min`, so `{ min: 500 }` alone is valid. @internal
 */
export function checkLimitBounds(
  owner: string,
  options: Partial<LimitBounds>,
  defaults: LimitBounds,
): LimitBounds {
  const initial = optionalNumber(owner, 'initial', options.initial, defaults.initial, INTEGER);
  const min = optionalNumber(owner, 'min', options.min, defaults.min, INTEGER);
  const max =
    options.max === undefined
      ? Math.max(defaults.max, min)
      : checkNumber(owner, 'max', options.max, { min, integer: true });
  return { initial, min, max };
}
