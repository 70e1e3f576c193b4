import { checkNumber, checkOptions, formatValue } from './validate.js';

/** The four timestamps of one request/response exchange (ms; RFC 5905 §8 names). */
export interface OffsetSample {
  /** Client's clock when the request left (origin timestamp T1). */
  readonly t1: number;
  /** Server's clock when the request arrived (receive timestamp T2). */
  readonly t2: number;
  /** Server's clock when the response left (transmit timestamp T3). */
  readonly t3: number;
  /** Client's clock when the response arrived (destination timestamp T4). */
  readonly t4: number;
}

/** Result of {@link estimateOffset}. */
export interface OffsetEstimate {
  /**
   * Server clock minus client clock (ms), estimated. The true offset lies within
   * `offset ± delay / 2`.
   */
  readonly offset: number;
  /** Round-trip network delay (ms), excluding the server's processing time. */
  readonly delay: number;
}

/**
 * Estimates the offset between a client's and a server's clock from one exchange, as NTP does
 * (RFC 5905 §8, "On-Wire Protocol"):
 * `offset = ((t2 - t1) + (t3 - t4)) / 2`, `delay = (t4 - t1) - (t3 - t2)`.
 * The estimate assumes symmetric paths; with asymmetric ones the error is bounded by `delay / 2`,
 * so prefer the sample with the smallest delay among several (NTP's clock filter, §10).
 *
 * Example (RFC-style numbers): t1 = 1000, t2 = 1045, t3 = 1047, t4 = 1014 → offset 39, delay 12.
 * @throws TypeError for a missing or non-number field; RangeError for a non-finite one, or when
 *   `t4 < t1` or `t3 < t2` (a clock ran backwards during the exchange).
 */
export function estimateOffset(sample: OffsetSample): OffsetEstimate {
  const owner = 'estimateOffset';
  if (sample === undefined)
    throw new TypeError(`${owner}: sample must be an object, received undefined`);
  const s = checkOptions<OffsetSample>(owner, sample);
  const t1 = checkNumber(owner, 't1', s.t1);
  const t2 = checkNumber(owner, 't2', s.t2);
  const t3 = checkNumber(owner, 't3', s.t3);
  const t4 = checkNumber(owner, 't4', s.t4);
  if (t4 < t1) {
    throw new RangeError(
      `${owner}: option "t4" must be >= t1 (${t1}), received ${formatValue(t4)}: the client's clock ran backwards`,
    );
  }
  if (t3 < t2) {
    throw new RangeError(
      `${owner}: option "t3" must be >= t2 (${t2}), received ${formatValue(t3)}: the server's clock ran backwards`,
    );
  }
  return { offset: (t2 - t1 + (t3 - t4)) / 2, delay: t4 - t1 - (t3 - t2) };
}
