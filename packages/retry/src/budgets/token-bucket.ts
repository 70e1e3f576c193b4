import { checkNumber, checkOptions, formatValue, type Outcome } from '@faultline/core';
import type { RetryBudget, RetryTicket } from './budget.js';

/** Options for {@link tokenBucketBudget} (gRFC A6 `retryThrottling`). */
export interface TokenBucketBudgetOptions {
  /** Capacity of the bucket and its initial content, in (0, 1000]. Required. */
  readonly maxTokens: number;
  /** Tokens added by each successful call, > 0 with at most 3 decimals. Required. */
  readonly tokenRatio: number;
}

const SCALE = 1000;

/**
 * gRPC client-side retry throttling (gRFC A6 "Client Retry Design", `retryThrottling`), counted
 * in integer milli-tokens as grpc-java's `RetriableStream.Throttle` does: floats would make
 * `0.1 + 0.1 + …` drift and grant or deny a retry one call early or late.
 */
export class TokenBucketBudget implements RetryBudget, RetryTicket {
  readonly maxTokens: number;
  readonly tokenRatio: number;
  readonly #max: number;
  readonly #ratio: number;
  readonly #threshold: number;
  #milli: number;

  constructor(options: TokenBucketBudgetOptions) {
    const owner = 'tokenBucketBudget';
    const opts = checkOptions<TokenBucketBudgetOptions>(owner, options);
    this.maxTokens = checkNumber(owner, 'maxTokens', opts.maxTokens, {
      min: 0,
      minExclusive: true,
      max: 1000,
    });
    this.tokenRatio = checkNumber(owner, 'tokenRatio', opts.tokenRatio, {
      min: 0,
      minExclusive: true,
    });
    const ratioMilli = this.tokenRatio * SCALE;
    if (Math.abs(ratioMilli - Math.round(ratioMilli)) > 1e-6 || Math.round(ratioMilli) === 0) {
      throw new RangeError(
        `${owner}: option "tokenRatio" must be a number > 0 with at most 3 decimal places (gRFC A6), received ${formatValue(this.tokenRatio)}`,
      );
    }
    // grpc-java truncates `maxTokens * 1000` to an int; the epsilon keeps 0.3 * 1000 from
    // truncating to 299.
    this.#max = Math.floor(this.maxTokens * SCALE + 1e-6);
    if (this.#max === 0) {
      throw new RangeError(
        `${owner}: option "maxTokens" must be a number in (0, 1000] of at least 0.001, received ${formatValue(this.maxTokens)}`,
      );
    }
    this.#ratio = Math.round(ratioMilli);
    this.#threshold = Math.floor(this.#max / 2);
    this.#milli = this.#max;
  }

  /** Current tokens (a float view of the integer milli-token count). */
  get tokens(): number {
    return this.#milli / SCALE;
  }

  /** Retries are allowed while tokens stay above this (maxTokens / 2). */
  get threshold(): number {
    return this.#threshold / SCALE;
  }

  /** The bucket keeps no per-call state, so every call shares this one ticket. */
  begin(): RetryTicket {
    return this;
  }

  /** A handled failure: take one token; the retry is granted iff what is left is above half. */
  tryRetry(_outcome?: Outcome<unknown>): boolean {
    const decremented = this.#milli - SCALE;
    this.#milli = decremented > 0 ? decremented : 0;
    return decremented > this.#threshold;
  }

  /** A successful call: add `tokenRatio`, never above `maxTokens`. */
  succeed(): void {
    const next = this.#milli + this.#ratio;
    this.#milli = next < this.#max ? next : this.#max;
  }

  fail(): void {}
}

/** gRPC retry throttling (gRFC A6): see {@link TokenBucketBudget}. */
export function tokenBucketBudget(options: TokenBucketBudgetOptions): TokenBucketBudget {
  return new TokenBucketBudget(options);
}
