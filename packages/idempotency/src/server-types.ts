import type { Listener } from '@faultline/core';
import type {
  FencedEvent,
  IdempotencyWarning,
  ReplayEvent,
  StoreFailureEvent,
  TakeoverEvent,
} from './events.js';
import type { ExecutionToken } from './execution-token.js';
import type { ResolvedOptions } from './options.js';
import type { HttpResponse, Problem } from './problem.js';
import type { CompletedResponse, IdempotencyRequest, ResponseProgress } from './request.js';

/** What {@link Idempotency.begin} decided. */
export type BeginResult =
  | {
      /** Run the handler. With a token, capture its response and call `complete` or `release`. */
      readonly kind: 'execute';
      /** `undefined` when the request is not protected (rows 1, 2, fail-open). */
      readonly token: ExecutionToken | undefined;
    }
  | {
      /** Send `response` without running the handler (row 9). */
      readonly kind: 'replay';
      readonly response: HttpResponse;
    }
  | {
      /** Send `response` (an RFC 9457 problem) without running the handler. */
      readonly kind: 'reject';
      readonly problem: Problem;
      readonly response: HttpResponse;
    };

/** How a completion or release ended. */
export type FinishOutcome =
  /** The response was stored as COMPLETED. */
  | 'stored'
  /** The record was deleted (5xx, throw, or `release`). */
  | 'released'
  /** The store refused the write: this owner had lost its lock (row 15). */
  | 'fenced'
  /** The store could not be reached; the lock will expire (row 17). */
  | 'failed'
  /** The token was already finished. */
  | 'ignored';

/** The server core returned by `createIdempotency`. Adapters translate to it. */
export interface Idempotency {
  /**
   * Decides what to do with a request (see {@link BeginResult}). Store failures become a 503 or
   * fail-open; it rejects only when a `scope` or `fingerprint` callback throws (an application
   * bug, left to the framework's error handling).
   */
  begin(request: IdempotencyRequest): Promise<BeginResult>;
  /** Records the handler's response (or releases on 5xx). Never rejects. */
  complete(token: ExecutionToken, response: CompletedResponse): Promise<FinishOutcome>;
  /** Deletes the record so that a retry executes again (handler threw). Never rejects. */
  release(token: ExecutionToken): Promise<FinishOutcome>;
  /**
   * The response started but was cut off and will never be captured whole (its stream was
   * destroyed or failed, or the handler threw after sending the head). The request counts as
   * executed: retries get 410 `RESPONSE_UNAVAILABLE` (stored for `recordTtl`), never a second
   * execution. A `status` ≥ 500 releases instead, as a complete 5xx would (row 13). Never rejects.
   */
  interrupt(token: ExecutionToken, status: number): Promise<FinishOutcome>;
  /**
   * The client's connection closed before the response ended. Lease renewal stops. Unless
   * `complete`, `release` or `interrupt` comes first (a handler that goes on writing still gets
   * its whole response stored), `progress()` is asked once, lockTtl/3 later: a response that had
   * started is then {@link interrupt}ed; one that had not lets the lock expire, so a retry takes
   * over after lockTtl (the handler is hung or lost, as after a crash: row 8).
   */
  disconnected(token: ExecutionToken, progress: () => ResponseProgress): void;
  /** The store key for a client key in a scope: hash(namespace, scope, key). */
  storeKey(key: string, scope?: string): Promise<string>;
  /** Warnings: no `scope` (once), fail-open executions, unreadable records replaced. */
  onWarning(listener: Listener<IdempotencyWarning>): () => void;
  /** A renewal, completion or release refused because this owner lost its lock (row 15). */
  onFenced(listener: Listener<FencedEvent>): () => void;
  /** A store call failed or timed out (the `onStoreError` option decides what the request gets). */
  onStoreFailure(listener: Listener<StoreFailureEvent>): () => void;
  /** A stored response was replayed (row 9). */
  onReplay(listener: Listener<ReplayEvent>): () => void;
  /** An expired lock was taken over (row 8): its previous owner crashed or hung. */
  onTakeover(listener: Listener<TakeoverEvent>): () => void;
  /** The validated options, durations in ms. */
  readonly options: ResolvedOptions;
}
