import { MAX_TIMER_DELAY } from '@faultline/clock';
import {
  type Backoff,
  checkNumber,
  checkOneOf,
  checkOptions,
  drawRandom,
  formatValue,
  optionalNumber,
  type Random,
} from '@faultline/core';

export type { Backoff } from '@faultline/core';

/**
 * Every backoff's values are finite by construction: options are finite and every sequence is
 * capped at a finite `max` (at most {@link MAX_TIMER_DELAY}, ~24.8 days, beyond which platform
 * timers misbehave anyway). So no sequence yields NaN, a negative number or Infinity, even at
 * attempt 10^6.
 */
const LIMIT = MAX_TIMER_DELAY;

function defaultRandom(random: Random | undefined): Random {
  return random === undefined ? Math.random : random;
}

/** The first delay of a growing backoff (`initial`, `median`), ms: > 0, default 100. */
function firstDelay(owner: string, option: string, value: number | undefined): number {
  return optionalNumber(owner, option, value, 100, { min: 0, minExclusive: true, max: LIMIT });
}

/** The cap of a growing backoff, ms: at least its first delay, default the larger of 10 s and it. */
function delayCap(owner: string, value: number | undefined, first: number): number {
  return optionalNumber(owner, 'max', value, Math.max(10_000, first), { min: first, max: LIMIT });
}

/**
 * An iterator that is also iterable, so `for…of` and `Array.from` work on a sequence. Every
 * built-in backoff's sequence is one; it never ends, so the retry policy reads `nextDelay()`
 * directly (no result object per retry) when `next` is this one. Not exported from the package.
 */
export abstract class Delays implements IterableIterator<number> {
  abstract nextDelay(): number;

  next(): IteratorResult<number> {
    return { value: this.nextDelay(), done: false };
  }

  [Symbol.iterator](): IterableIterator<number> {
    return this;
  }
}

/** A sequence capped at `max` whose delays are drawn with `random`. */
abstract class RandomDelays extends Delays {
  protected readonly max: number;
  protected readonly random: Random;
  constructor(max: number, random: Random) {
    super();
    this.max = max;
    this.random = random;
  }
}

class ConstantDelays extends Delays {
  readonly #ms: number;
  constructor(ms: number) {
    super();
    this.#ms = ms;
  }
  nextDelay(): number {
    return this.#ms;
  }
}

/** The same delay before every retry. */
export function constant(ms: number): Backoff {
  checkNumber('constant', 'ms', ms, { min: 0, max: LIMIT }, false);
  return {
    delays: () => new ConstantDelays(ms),
  };
}

/** Options for {@link linear}. */
export interface LinearBackoffOptions {
  /** The delay before retry 1, in ms. Required. */
  readonly initial: number;
  /** Added for each further retry, in ms. Default: `initial`. */
  readonly step?: number;
  /** Upper bound of every delay, in ms. Default: 2^31 − 1 (the platform timer limit). */
  readonly max?: number;
}

class LinearDelays extends Delays {
  #next: number;
  readonly #step: number;
  readonly #max: number;
  constructor(initial: number, step: number, max: number) {
    super();
    this.#next = initial < max ? initial : max;
    this.#step = step;
    this.#max = max;
  }
  nextDelay(): number {
    const value = this.#next;
    // Accumulated and capped step by step, so the sum never grows past max (or overflows).
    const next = value + this.#step;
    this.#next = next < this.#max ? next : this.#max;
    return value;
  }
}

/** `min(max, initial + step·(n − 1))` before retry n. */
export function linear(options: LinearBackoffOptions): Backoff {
  const owner = 'linear';
  const opts = checkOptions<LinearBackoffOptions>(owner, options);
  const initial = checkNumber(owner, 'initial', opts.initial, { min: 0, max: LIMIT });
  const step = optionalNumber(owner, 'step', opts.step, initial, { min: 0, max: LIMIT });
  const max = optionalNumber(owner, 'max', opts.max, LIMIT, { min: initial, max: LIMIT });
  return { delays: () => new LinearDelays(initial, step, max) };
}

class ListDelays extends Delays {
  readonly #list: readonly number[];
  #index = 0;
  constructor(list: readonly number[]) {
    super();
    this.#list = list;
  }
  nextDelay(): number {
    const list = this.#list;
    const index = this.#index;
    if (index < list.length - 1) this.#index = index + 1;
    return list[index]!;
  }
}

/** The given delays in order; the last one repeats forever. `fromDelays([100, 500, 2000])`. */
export function fromDelays(delays: readonly number[]): Backoff {
  if (!Array.isArray(delays)) {
    throw new TypeError(
      `fromDelays: argument "delays" must be a non-empty array of numbers in [0, ${LIMIT}], received ${formatValue(delays)}`,
    );
  }
  if (delays.length === 0) {
    throw new RangeError(
      `fromDelays: argument "delays" must be a non-empty array of numbers in [0, ${LIMIT}], received []`,
    );
  }
  const list = delays.map((value, index) =>
    checkNumber('fromDelays', `delays[${index}]`, value, { min: 0, max: LIMIT }, false),
  );
  Object.freeze(list);
  return { delays: () => new ListDelays(list) };
}

/** How {@link exponential} randomises its delays (Brooker, "Exponential Backoff and Jitter"). */
export type Jitter = 'none' | 'full' | 'equal' | 'decorrelated';

/** Options for {@link exponential}. */
export interface ExponentialBackoffOptions {
  /** The base delay `e(1)`, in ms, > 0. Default 100. */
  readonly initial?: number;
  /** Growth per retry, ≥ 1. Default 2. Not used by `'decorrelated'` (which grows by up to 3×). */
  readonly factor?: number;
  /** Cap of every delay, in ms, ≥ `initial`. Default 10 000. */
  readonly max?: number;
  /** Default `'full'`. */
  readonly jitter?: Jitter;
}

const JITTERS: readonly Jitter[] = ['none', 'full', 'equal', 'decorrelated'];

/** e(n) = min(max, initial·factor^(n−1)), accumulated step by step so it never overflows. */
class ExponentialDelays extends RandomDelays {
  #e: number;
  readonly #factor: number;
  readonly #jitter: 0 | 1 | 2;
  constructor(initial: number, factor: number, max: number, jitter: 0 | 1 | 2, random: Random) {
    super(max, random);
    this.#e = initial < max ? initial : max;
    this.#factor = factor;
    this.#jitter = jitter;
  }
  nextDelay(): number {
    const e = this.#e;
    const next = e * this.#factor;
    this.#e = next < this.max ? next : this.max;
    // Jitter is applied to the capped value: capping after a jitter would put every client that
    // reached the cap on exactly `max`, re-synchronising them.
    switch (this.#jitter) {
      case 0:
        return e;
      case 1:
        return drawRandom(this.random, 'exponential') * e; // full: U(0, e)
      default:
        return e / 2 + (drawRandom(this.random, 'exponential') * e) / 2; // equal: e/2 + U(0, e/2)
    }
  }
}

/**
 * Decorrelated jitter exactly as Brooker publishes it: d(n) = min(max, U(initial, 3·d(n−1))),
 * d(0) = initial. Kept verbatim so that simulations reproduce his published results. Known
 * trade-off: once 3·d exceeds `max`, a share (3d − max)/(3d − initial) of draws (up to 2/3) lands
 * exactly on `max`; unlike a multiplicative jitter capped afterwards, the rest stay spread over
 * [initial, max), and the clients' phases differ, so it does not re-synchronise them.
 */
class DecorrelatedDelays extends RandomDelays {
  #d: number;
  readonly #initial: number;
  constructor(initial: number, max: number, random: Random) {
    super(max, random);
    this.#initial = initial;
    this.#d = initial;
  }
  nextDelay(): number {
    const initial = this.#initial;
    // d ≤ max always, so 3·d never overflows.
    const drawn = initial + drawRandom(this.random, 'exponential') * (this.#d * 3 - initial);
    const d = drawn < this.max ? drawn : this.max;
    this.#d = d;
    return d;
  }
}

/**
 * Exponential backoff, `e(n) = min(max, initial·factor^(n−1))` before retry n, randomised by
 * `jitter` (Brooker, "Exponential Backoff and Jitter", AWS Architecture Blog, 2015):
 * `'none'` e(n); `'full'` U(0, e(n)); `'equal'` e(n)/2 + U(0, e(n)/2);
 * `'decorrelated'` min(max, U(initial, 3·d(n−1))). The defaults with `initial: 1000, max: 20_000`
 * are the AWS SDKs' standard mode.
 */
export function exponential(options?: ExponentialBackoffOptions): Backoff {
  const owner = 'exponential';
  const opts = checkOptions<ExponentialBackoffOptions>(owner, options);
  const initial = firstDelay(owner, 'initial', opts.initial);
  const factor = optionalNumber(owner, 'factor', opts.factor, 2, { min: 1, max: 1e6 });
  const max = delayCap(owner, opts.max, initial);
  const jitter =
    opts.jitter === undefined ? 'full' : checkOneOf(owner, 'jitter', opts.jitter, JITTERS);
  if (jitter === 'decorrelated') {
    return { delays: (random) => new DecorrelatedDelays(initial, max, defaultRandom(random)) };
  }
  const mode = jitter === 'none' ? 0 : jitter === 'full' ? 1 : 2;
  return {
    delays: (random) => new ExponentialDelays(initial, factor, max, mode, defaultRandom(random)),
  };
}

/** Options for {@link decorrelatedJitterV2}. */
export interface DecorrelatedJitterV2Options {
  /** The median delay before retry 1, in ms, > 0. Later medians roughly double. Default 100. */
  readonly median?: number;
  /** Cap of every delay, in ms, ≥ `median`. Default 10 000. */
  readonly max?: number;
}

// Polly v8 (RetryHelper.DecorrelatedJitterBackoffV2, formula by George Polevoy, App-vNext/Polly
// #530): p-factor 4 smooths the first delay; 1/1.4 scales medians to ≈ 1, 2, 4 … × median.
const P_FACTOR = 4;
const RP_SCALING = 1 / 1.4;

class DecorrelatedV2Delays extends RandomDelays {
  #n = 0;
  #prev = 0;
  readonly #median: number;
  constructor(median: number, max: number, random: Random) {
    super(max, random);
    this.#median = median;
  }
  nextDelay(): number {
    const t = this.#n + drawRandom(this.random, 'decorrelatedJitterV2');
    this.#n++;
    // 2^t overflows at t ≥ 1024 (Polly #2163: ticks went negative there); from then on the
    // sequence is at its cap, and `next − prev` would be Infinity − Infinity = NaN.
    const next = 2 ** t * Math.tanh(Math.sqrt(P_FACTOR * t));
    if (!Number.isFinite(next)) return this.max;
    const delay = (next - this.#prev) * RP_SCALING * this.#median;
    this.#prev = next;
    if (!(delay > 0)) return 0;
    return delay < this.max ? delay : this.max;
  }
}

/**
 * Polly v8's "decorrelated jitter V2": smooth exponential growth with jitter, without the
 * clustering of plain decorrelated jitter. `t = n − 1 + U(0,1)`, `next = 2^t·tanh(√(4t))`,
 * delay `(next − prev)/1.4 · median`, capped at `max`.
 */
export function decorrelatedJitterV2(options?: DecorrelatedJitterV2Options): Backoff {
  const owner = 'decorrelatedJitterV2';
  const opts = checkOptions<DecorrelatedJitterV2Options>(owner, options);
  const median = firstDelay(owner, 'median', opts.median);
  const max = delayCap(owner, opts.max, median);
  return { delays: (random) => new DecorrelatedV2Delays(median, max, defaultRandom(random)) };
}
