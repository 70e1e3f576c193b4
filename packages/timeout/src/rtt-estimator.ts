import { checkNumber, checkOptions, optionalNumber } from '@faultline/core';

/** Options of {@link RttEstimator}; the defaults are RFC 6298's. */
export interface RttEstimatorOptions {
  /** Gain of the smoothed RTT (RFC 6298 §2: 1/8). In (0, 1]. */
  readonly alpha?: number;
  /** Gain of the RTT variation (RFC 6298 §2: 1/4). In (0, 1]. */
  readonly beta?: number;
  /** Variance multiplier K (RFC 6298 §2: 4). ≥ 0. */
  readonly k?: number;
  /** Clock granularity G in ms (RFC 6298 §2). Default 1. ≥ 0. */
  readonly granularity?: number;
  /** Lower bound of the RTO in ms (RFC 6298 §2.4: 1 s). ≥ 0. */
  readonly min?: number;
  /** Upper bound of the RTO in ms (RFC 6298 §2.5 allows one of at least 60 s). ≥ `min`. */
  readonly max?: number;
  /** RTO before the first sample in ms (RFC 6298 §2.1: 1 s). In [`min`, `max`]. */
  readonly initial?: number;
}

const OWNER = 'RttEstimator';

function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}

/**
 * Retransmission-timeout estimation as TCP does it (RFC 6298, "Computing TCP's Retransmission
 * Timer"), usable for any request/response exchange: `observe()` valid round-trip samples,
 * `backoff()` when a timer expires, read `rto`.
 *
 * Karn's rule (RFC 6298 §3, Karn & Partridge 1987): a sample from an attempt that timed out is
 * ambiguous and must not be observed; {@link observeAttempt} applies the rule for you.
 */
export class RttEstimator {
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;
  readonly granularity: number;
  readonly min: number;
  readonly max: number;
  readonly initial: number;
  #srtt = Number.NaN;
  #rttvar = Number.NaN;
  #rto: number;
  #samples = 0;

  constructor(options?: RttEstimatorOptions) {
    const opts = checkOptions<RttEstimatorOptions>(OWNER, options);
    const gain = { min: 0, minExclusive: true, max: 1 } as const;
    this.alpha = optionalNumber(OWNER, 'alpha', opts.alpha, 1 / 8, gain);
    this.beta = optionalNumber(OWNER, 'beta', opts.beta, 1 / 4, gain);
    this.k = optionalNumber(OWNER, 'k', opts.k, 4, { min: 0 });
    this.granularity = optionalNumber(OWNER, 'granularity', opts.granularity, 1, { min: 0 });
    this.min = optionalNumber(OWNER, 'min', opts.min, 1000, { min: 0 });
    this.max = optionalNumber(OWNER, 'max', opts.max, 60_000, {
      min: this.min,
      allowInfinity: true,
    });
    this.initial = optionalNumber(OWNER, 'initial', opts.initial, clamp(1000, this.min, this.max), {
      min: this.min,
      max: this.max,
    });
    this.#rto = this.initial;
  }

  /** Smoothed RTT in ms; `NaN` before the first sample. */
  get srtt(): number {
    return this.#srtt;
  }

  /** RTT variation in ms; `NaN` before the first sample. */
  get rttvar(): number {
    return this.#rttvar;
  }

  /** The current retransmission timeout in ms. */
  get rto(): number {
    return this.#rto;
  }

  /** Valid samples observed so far. */
  get samples(): number {
    return this.#samples;
  }

  /**
   * Observes a valid round-trip time `rtt` (ms) and recomputes the RTO, which also collapses any
   * backoff (RFC 6298 §5.7 keeps the backed-off RTO only until a valid sample arrives).
   */
  observe(rtt: number): void {
    checkNumber(OWNER, 'rtt', rtt, { min: 0 });
    if (this.#samples === 0) {
      // RFC 6298 §2.2: SRTT <- R, RTTVAR <- R/2.
      this.#srtt = rtt;
      this.#rttvar = rtt / 2;
    } else {
      // RFC 6298 §2.3: RTTVAR uses SRTT *before* SRTT is updated.
      this.#rttvar = (1 - this.beta) * this.#rttvar + this.beta * Math.abs(this.#srtt - rtt);
      this.#srtt = (1 - this.alpha) * this.#srtt + this.alpha * rtt;
    }
    this.#samples++;
    // RFC 6298 §2.2–2.5: RTO <- SRTT + max(G, K*RTTVAR), bounded; only the RTO is clamped.
    const variance = this.k * this.#rttvar;
    this.#rto = clamp(
      this.#srtt + (variance > this.granularity ? variance : this.granularity),
      this.min,
      this.max,
    );
  }

  /**
   * Karn's rule: observes `rtt` only if the attempt did not time out (a response to a timed-out,
   * retransmitted request cannot be matched to its attempt). Returns whether it was observed.
   */
  observeAttempt(rtt: number, timedOut: boolean): boolean {
    if (timedOut) return false;
    this.observe(rtt);
    return true;
  }

  /** The timer expired: RFC 6298 §5.5, `RTO <- min(2 * RTO, max)`. Returns the new RTO. */
  backoff(): number {
    const doubled = 2 * this.#rto;
    this.#rto = doubled > this.max ? this.max : doubled;
    return this.#rto;
  }
}
