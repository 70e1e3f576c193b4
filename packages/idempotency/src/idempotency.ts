import { type IdempotencyOptions, resolveOptions } from './options.js';
import { IdempotencyServer } from './server.js';
import type { Idempotency } from './server-types.js';

export type {
  FencedEvent,
  IdempotencyWarning,
  ReplayEvent,
  StoreFailureEvent,
  TakeoverEvent,
} from './events.js';
export { ExecutionToken } from './execution-token.js';
export type {
  ConcurrentPolicy,
  IdempotencyLogger,
  IdempotencyOptions,
  ResolvedOptions,
} from './options.js';
export type { CompletedResponse, IdempotencyRequest, ResponseProgress } from './request.js';
export type { BeginResult, FinishOutcome, Idempotency } from './server-types.js';

/**
 * Server-side request dedup: the first request for an `Idempotency-Key` executes once, every
 * retry gets the stored response, and concurrent or mismatched reuse is refused. Framework-free:
 * adapters (`/node`, `/express`, `/fastify`, `/hono`) only translate requests and responses.
 *
 * References: draft-ietf-httpapi-idempotency-key-header; Stripe's idempotent requests; Brandur
 * Leach, "Implementing Stripe-like Idempotency Keys in Postgres"; AWS Lambda Powertools.
 */
export function createIdempotency(options: IdempotencyOptions): Idempotency {
  const validated = resolveOptions(options);
  return new IdempotencyServer(validated, options.header ?? 'Idempotency-Key');
}
