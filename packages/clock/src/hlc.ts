import {
  checkNumber,
  checkOptions,
  formatInput,
  optionalFunction,
  optionalNumber,
} from './validate.js';

/**
 * A hybrid logical clock timestamp (API): `l` is the largest physical time (ms) the node has
 * heard of, `c` a counter that orders events sharing the same `l`. Compare with
 * {@link compareTimestamps}; serialize with {@link encodeTimestamp}.
 */
export interface HlcTimestamp {
  readonly l: number;
  readonly c: number;
}

/** Options of {@link HybridLogicalClock}. */
export interface HybridLogicalClockOptions {
  /** Physical (wall-clock) time in ms, whole or fractional (floored). Default `Date.now`. */
  readonly physicalTime?: () => number;
  /**
   * Largest amount (ms, ≥ 0) by which a received timestamp may be ahead of our physical time.
   * Default 60 000. A peer further ahead is rejected with {@link ClockOffsetError}.
   */
  readonly maxOffset?: number;
}

/**
 * A received timestamp is further ahead of the local physical time than `maxOffset`: the peer's
 * clock (or the message) is broken. The timestamp is not adopted, so one bad clock cannot drag
 * every node's HLC into the future.
 */
export class ClockOffsetError extends Error {
  override readonly name = 'ClockOffsetError';
  /** Stable code to branch on. */
  readonly code = 'CLOCK_OFFSET';
  /** The rejected timestamp. */
  readonly remote: HlcTimestamp;
  /** Local physical time when it arrived. */
  readonly physicalTime: number;
  /** `remote.l - physicalTime` (ms). */
  readonly offset: number;
  /** The configured bound (ms). */
  readonly maxOffset: number;
  constructor(remote: HlcTimestamp, physicalTime: number, maxOffset: number) {
    const offset = remote.l - physicalTime;
    super(
      `remote HLC timestamp (${remote.l}, ${remote.c}) is ${offset} ms ahead of local physical time ${physicalTime}, more than maxOffset ${maxOffset} ms`,
    );
    this.remote = remote;
    this.physicalTime = physicalTime;
    this.offset = offset;
    this.maxOffset = maxOffset;
  }
}

function checkTimestamp(owner: string, name: string, value: unknown): HlcTimestamp {
  if (value === null || typeof value !== 'object') {
    throw new TypeError(
      `${owner}: "${name}" must be an HLC timestamp { l, c }, received ${formatInput(value)}`,
    );
  }
  const ts = value as { l?: unknown; c?: unknown };
  const range = { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true };
  checkNumber(owner, `${name}.l`, ts.l, range, false);
  checkNumber(owner, `${name}.c`, ts.c, range, false);
  return value as HlcTimestamp;
}

/**
 * A hybrid logical clock (Kulkarni, Demirbas, Madappa, Avva, Leone: "Logical Physical Clocks",
 * OPODIS 2014, Figure 5). Its timestamps respect causality like a Lamport clock (if e
 * happened-before f then ts(e) < ts(f)) while staying within the clock-synchronization error of
 * physical time, and fit in the space of a physical timestamp plus a small counter.
 */
export class HybridLogicalClock {
  readonly #physicalTime: () => number;
  readonly #maxOffset: number;
  #l = 0;
  #c = 0;

  /** Starts at `{ l: 0, c: 0 }`; see {@link HybridLogicalClockOptions} for the defaults. */
  constructor(options?: HybridLogicalClockOptions) {
    const owner = 'HybridLogicalClock';
    const opts = checkOptions<HybridLogicalClockOptions>(owner, options);
    this.#physicalTime = optionalFunction<() => number>(
      owner,
      'physicalTime',
      opts.physicalTime,
      Date.now,
    );
    this.#maxOffset = optionalNumber(owner, 'maxOffset', opts.maxOffset, 60_000, {
      min: 0,
      allowInfinity: true,
    });
  }

  /** The last timestamp issued (initially `{ l: 0, c: 0 }`), without ticking. */
  current(): HlcTimestamp {
    return { l: this.#l, c: this.#c };
  }

  /**
   * A send or local event (Figure 5, "send or local event"):
   * `l' = l; l = max(l', pt); c = (l == l') ? c + 1 : 0`. Returns the new timestamp.
   */
  now(): HlcTimestamp {
    const pt = this.#pt();
    const previous = this.#l;
    if (pt > previous) {
      this.#l = pt;
      this.#c = 0;
    } else {
      this.#c += 1;
    }
    return { l: this.#l, c: this.#c };
  }

  /**
   * Receipt of message timestamp `m` (Figure 5, "receive event of message m"):
   * `l' = l; l = max(l', m.l, pt)`; `c = max(c, m.c) + 1` if `l == l' == m.l`; `c + 1` if only
   * `l == l'`; `m.c + 1` if only `l == m.l`; else `0`. Returns the new timestamp.
   * @throws ClockOffsetError if `m.l` is more than `maxOffset` ahead of physical time (the clock
   *   is left unchanged); TypeError / RangeError if `m` is not a valid timestamp.
   */
  receive(m: HlcTimestamp): HlcTimestamp {
    checkTimestamp('HybridLogicalClock.receive', 'm', m);
    const pt = this.#pt();
    if (m.l - pt > this.#maxOffset)
      throw new ClockOffsetError({ l: m.l, c: m.c }, pt, this.#maxOffset);
    const previous = this.#l;
    const l = Math.max(previous, m.l, pt);
    let c: number;
    if (l === previous && l === m.l) c = Math.max(this.#c, m.c) + 1;
    else if (l === previous) c = this.#c + 1;
    else if (l === m.l) c = m.c + 1;
    else c = 0;
    this.#l = l;
    this.#c = c;
    return { l, c };
  }

  #pt(): number {
    const pt = this.#physicalTime();
    if (typeof pt !== 'number' || !Number.isFinite(pt) || pt < 0) {
      throw new TypeError(
        `HybridLogicalClock: physicalTime() must return a finite number >= 0, returned ${formatInput(pt)}`,
      );
    }
    return Math.floor(pt);
  }

  /** See {@link compareTimestamps}. */
  static compare(a: HlcTimestamp, b: HlcTimestamp): number {
    return compareTimestamps(a, b);
  }

  /** See {@link encodeTimestamp}. */
  static encode(timestamp: HlcTimestamp): string {
    return encodeTimestamp(timestamp);
  }

  /** See {@link decodeTimestamp}. */
  static decode(text: string): HlcTimestamp {
    return decodeTimestamp(text);
  }
}

/** Orders timestamps lexicographically by (l, c): negative if `a` is earlier, 0 if equal. */
export function compareTimestamps(a: HlcTimestamp, b: HlcTimestamp): number {
  if (a.l !== b.l) return a.l < b.l ? -1 : 1;
  if (a.c !== b.c) return a.c < b.c ? -1 : 1;
  return 0;
}

const WIDTH = 16; // digits of Number.MAX_SAFE_INTEGER (9007199254740991)
const ENCODED = /^(\d{16})\.(\d{16})$/;

/**
 * A string that sorts (plain string comparison) in the same order as {@link compareTimestamps}:
 * `l` and `c` as 16-digit zero-padded decimals joined by `.`, e.g. `0001764170000000.0000000000000003`.
 * Fixed width keeps the order; decimal keeps it readable in logs and database keys.
 */
export function encodeTimestamp(timestamp: HlcTimestamp): string {
  checkTimestamp('encodeTimestamp', 'timestamp', timestamp);
  return `${String(timestamp.l).padStart(WIDTH, '0')}.${String(timestamp.c).padStart(WIDTH, '0')}`;
}

/**
 * Parses what {@link encodeTimestamp} produced.
 * @throws TypeError if `text` is not a string; RangeError if it is not exactly two 16-digit
 *   decimals joined by `.`, or a part exceeds `Number.MAX_SAFE_INTEGER`.
 */
export function decodeTimestamp(text: string): HlcTimestamp {
  if (typeof text !== 'string') {
    throw new TypeError(`decodeTimestamp: "text" must be a string, received ${formatInput(text)}`);
  }
  const match = ENCODED.exec(text);
  const l = match === null ? Number.NaN : Number(match[1]);
  const c = match === null ? Number.NaN : Number(match[2]);
  if (!(l <= Number.MAX_SAFE_INTEGER && c <= Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(
      `decodeTimestamp: "text" must be two 16-digit decimals (each at most ${Number.MAX_SAFE_INTEGER}) joined by ".", received ${formatInput(text)}`,
    );
  }
  return { l, c };
}
