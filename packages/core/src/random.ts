import { formatValue } from '@faultline/clock/internal';

/** A source of uniformly distributed numbers in [0, 1). `Math.random` is one. */
export type Random = () => number;

/**
 * A fast, seedable PRNG with identical output on every platform: sfc32 (Chris Doty-Humphrey's
 * Small Fast Counting generator, from PractRand), with its 128-bit state filled from the seed by
 * a "splitmix32" step (MurmurHash3's fmix32 finalizer over a golden-ratio Weyl sequence) so that
 * nearby seeds give unrelated sequences. The seed is taken as an unsigned 32-bit integer
 * (`seed >>> 0`), so seeds equal modulo 2^32 give the same sequence.
 */
export function seededRandom(seed: number): Random {
  if (typeof seed !== 'number' || Number.isNaN(seed)) {
    throw new TypeError(
      `seededRandom: seed must be a finite number, received ${formatValue(seed)}`,
    );
  }
  if (!Number.isFinite(seed)) {
    // Like checkNumber: a number of the right type but outside the allowed values.
    throw new RangeError(
      `seededRandom: seed must be a finite number, received ${formatValue(seed)}`,
    );
  }
  let s = seed >>> 0;
  const splitmix32 = (): number => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix32();
  let b = splitmix32();
  let c = splitmix32();
  let d = splitmix32();
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4_294_967_296;
  };
  // Discard the first outputs: sfc32 mixes its state over its first few rounds.
  for (let i = 0; i < 12; i++) next();
  return next;
}

/**
 * Draws from a user-supplied {@link Random} and checks the draw: a number in [0, 1]. Exactly 1
 * breaks the [0, 1) contract harmlessly (it is the top of any jitter range, and the usual
 * off-by-one of hand-written sources), so it is returned as is. Anything else throws, naming
 * `owner`'s option "random": mapped to some default, a NaN would silently turn a jittered backoff
 * into 0 ms (a retry storm) or switch a throttle off.
 * @throws TypeError when the draw is not a number, RangeError when it is outside [0, 1].
 */
export function drawRandom(random: Random, owner: string): number {
  const u = random();
  if (typeof u === 'number' && u >= 0 && u <= 1) return u;
  const Kind = typeof u === 'number' ? RangeError : TypeError;
  throw new Kind(
    `${owner}: option "random" must return a number in [0, 1), returned ${formatValue(u)}`,
  );
}
