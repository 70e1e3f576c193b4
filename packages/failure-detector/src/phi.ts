/**
 * The phi function of the accrual failure detector (Hayashibara et al., 2004) with Akka's
 * logistic approximation of the normal CDF, and its inverse.
 *
 * Akka (`PhiAccrualFailureDetector.phi`) computes, with `y = (elapsed - mean) / stdDeviation`,
 * `e = exp(-y·(1.5976 + 0.070566·y²))` and
 * `phi = elapsed > mean ? -log10(e / (1 + e)) : -log10(1 - 1 / (1 + e))`.
 * Both branches equal `log10(1 + exp(g))` with `g = y·(1.5976 + 0.070566·y²)`: the logistic
 * approximation `F(y) = 1 / (1 + exp(-g))` (Bowling et al., "A logistic approximation to the
 * cumulative normal distribution", 2009; error < 1.4e-4) gives `-log10(1 - F) = log10(1 + e^g)`.
 * We evaluate that closed form with `log1p`, which never overflows to `Infinity` in the far tail
 * (Akka's form does once `e` underflows, around y ≈ 21.5) and keeps phi strictly increasing.
 */

/** Coefficients of Akka's logistic approximation: `g(y) = y·(A + B·y²)`. */
const A = 1.5976;
const B = 0.070566;

/**
 * The suspicion level for a peer whose heartbeat intervals follow a normal distribution with the
 * given `mean` and `stdDeviation`, `elapsed` ms after its last heartbeat:
 * `phi = -log10(1 - CDF(elapsed))`, so `1 - 10^-phi` is the probability that the heartbeat should
 * already have arrived. phi = 1 means a 10% chance that suspecting the peer is a mistake,
 * phi = 2 a 1% chance, phi = 8 a 10⁻⁸ chance.
 *
 * Pure and allocation-free. `stdDeviation` must be > 0 (callers floor it, as the detectors do
 * with `minStdDeviation`); arguments are not validated on this hot path.
 *
 * @example phi(1400, 1000, 100) ≈ 4.7367 (Akka's "realistic phi values" test: 4.7 ± 0.1).
 */
export function phi(elapsed: number, mean: number, stdDeviation: number): number {
  const y = (elapsed - mean) / stdDeviation;
  const g = y * (A + B * y * y);
  // log10(1 + e^g), split so that exp never overflows: for g > 0, g + log1p(e^-g).
  if (g > 0) return g > 40 ? g / Math.LN10 : (g + Math.log1p(Math.exp(-g))) / Math.LN10;
  // Fast paths with identical results: e^g underflows to 0 below -745.2, and log1p(x) = x to
  // double precision for x < e^-40. The first is the common case of a healthy peer (Δ ≪ μ).
  if (g < -746) return 0;
  const e = Math.exp(g);
  return (g < -40 ? e : Math.log1p(e)) / Math.LN10;
}

/**
 * `ln(10^level - 1)`: the value of `g(y)` at which `log10(1 + e^g) = level`. `expm1` keeps small
 * levels exact; past level 13, `10^level - 1` is `10^level` to double precision but may overflow,
 * so it is expanded instead.
 */
function logitOfLevel(level: number): number {
  const x = level * Math.LN10;
  return x > 30 ? x + Math.log1p(-Math.exp(-x)) : Math.log(Math.expm1(x));
}

/**
 * The standardized elapsed time `y` at which phi reaches `level`: the real root of the cubic
 * `B·y³ + A·y - c = 0` (`c = ln(10^level - 1)`), by Cardano's formula (the cubic has a single real
 * root since A, B > 0) polished with two Newton steps. `-Infinity` for `level <= 0` (phi > 0 always).
 */
export function standardizedElapsedForPhi(level: number): number {
  if (!(level > 0)) return Number.NEGATIVE_INFINITY;
  if (level === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
  const c = logitOfLevel(level);
  // Depressed cubic y³ + p·y + q = 0 with p = A/B > 0, q = -c/B.
  const p = A / B;
  const halfQ = Math.abs(c) / B / 2;
  let y: number;
  if (halfQ > 1e100) {
    // The linear term is negligible (and squaring halfQ would overflow).
    y = Math.sign(c) * Math.cbrt(2 * halfQ);
  } else {
    const u = Math.cbrt(halfQ + Math.sqrt(halfQ * halfQ + (p / 3) ** 3));
    y = Math.sign(c) * (u - p / (3 * u));
  }
  // Newton on f(y) = B·y³ + A·y - c; f' >= A > 0, so each step is well conditioned.
  for (let i = 0; i < 2; i++) {
    y -= (y * (A + B * y * y) - c) / (A + 3 * B * y * y);
  }
  return y;
}

/**
 * The inverse of {@link phi} in `elapsed`: how long after the last heartbeat phi reaches `level`
 * for the given `mean` and `stdDeviation`. phi is strictly increasing in `elapsed`, so this is
 * the principled timeout for a suspicion level. `-Infinity` for `level <= 0`.
 */
export function elapsedForPhi(level: number, mean: number, stdDeviation: number): number {
  return mean + standardizedElapsedForPhi(level) * stdDeviation;
}
