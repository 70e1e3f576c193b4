import type { Outcome } from '@faultline/core';
import type { RetryBudget, RetryTicket } from './budget.js';
import {
  resolveTokenBucketBudgetOptions,
  type TokenBucketBudgetOptions,
} from './token-bucket-options.js';

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

  /**
   * Validates `options` (see {@link resolveTokenBucketBudgetOptions}); {@link tokenBucketBudget}
   * is the same.
   */
  constructor(options: TokenBucketBudgetOptions) {
    const resolved = resolveTokenBucketBudgetOptions(options);
    this.maxTokens = resolved.maxTokens;
    this.tokenRatio = resolved.tokenRatio;
    // grpc-java truncates `maxTokens * 1000` to an int; the epsilon keeps 0.3 * 1000 from
    // truncating to 299.
    this.#max = Math.floor(this.maxTokens * SCALE + 1e-6);
    const ratioMilli = this.tokenRatio * SCALE;
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
