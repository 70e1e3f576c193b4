/**
 * How a scenario lays out the runs of the variants it compares, and finds each variant's
 * outcomes again.
 * @module
 */

/**
 * The runs of a comparison, variant by variant: `runs` specs per variant, `spec(variant, run, v)`
 * building run `run` of variant `v`. Giving run r of every variant the same seed keeps common
 * random numbers (the same arrivals and service times until the policies make the runs diverge).
 * {@link variantOutcomes} takes the outcomes apart again.
 */
export function variantRuns<V, S>(
  variants: readonly V[],
  runs: number,
  spec: (variant: V, run: number, v: number) => S,
): S[] {
  return variants.flatMap((variant, v) =>
    Array.from({ length: runs }, (_, run) => spec(variant, run, v)),
  );
}

/** The outcomes of variant `v`, out of those of the specs {@link variantRuns} built. */
export function variantOutcomes<O>(outcomes: readonly O[], v: number, runs: number): O[] {
  return outcomes.slice(v * runs, (v + 1) * runs);
}
