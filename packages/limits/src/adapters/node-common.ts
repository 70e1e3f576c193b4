import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConcurrencyLimitPolicy } from '../concurrency-limit.js';
import { ConcurrencyLimitRejectedError } from '../concurrency-limit-errors.js';
import type { ConcurrencyPermit } from '../concurrency-limit-state.js';
import {
  concurrencyLimitedResponse,
  type LimitResponse,
  rateLimitedResponse,
  rateLimitHeaders,
} from '../http-fields.js';
import type { RateLimiterPolicy } from '../rate-limiter.js';
import { settlePermit } from './common.js';

/** @internal The client's address (`''` when the socket is already gone). */
export function remoteAddress(req: IncomingMessage): string {
  return req.socket?.remoteAddress ?? '';
}

/** @internal Writes a limit response unless the response has started or the client is gone. */
export function sendLimitResponse(res: ServerResponse, response: LimitResponse): void {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = response.status;
  for (const [name, value] of response.headers) res.setHeader(name, value);
  res.end(response.body);
}

/**
 * @internal Asks the limiter; sets the RateLimit fields on `res`, or sends the 429. Returns
 * whether the handler may run. The body is never read.
 */
export async function admitRate(
  limiter: RateLimiterPolicy,
  res: ServerResponse,
  key: string,
  permits: number,
): Promise<boolean> {
  const decision = await limiter.tryAcquire(key, permits);
  if (!decision.allowed) {
    sendLimitResponse(res, rateLimitedResponse(limiter, decision));
    return false;
  }
  if (!res.headersSent)
    for (const [name, value] of rateLimitHeaders(limiter, decision)) res.setHeader(name, value);
  return true;
}

/**
 * @internal Takes a permit for a request (waiting in the limiter's queue if it has one), sends
 * the 503 when there is none, and frees the permit when the response closes (finished, or the
 * connection gone), whatever the handler does. Returns whether the handler may run.
 */
export async function admitConcurrency(
  limiter: ConcurrencyLimitPolicy,
  res: ServerResponse,
  retryAfter: number,
  reject: (response: LimitResponse) => void = (response) => sendLimitResponse(res, response),
): Promise<boolean> {
  let permit: ConcurrencyPermit | undefined;
  let closed = res.destroyed || res.writableFinished;
  if (closed) return false; // the client left before we started
  // Only a queued request needs a signal (to leave the queue when the client leaves).
  const controller = limiter.queue.size > 0 ? new AbortController() : undefined;
  res.once('close', () => {
    closed = true;
    controller?.abort(new Error('the client closed the connection'));
    if (permit !== undefined) settlePermit(permit, res.writableFinished, res.statusCode);
  });
  try {
    permit = await limiter.acquire(controller?.signal);
  } catch (error) {
    if (error instanceof ConcurrencyLimitRejectedError) {
      if (!closed) reject(concurrencyLimitedResponse(limiter, retryAfter));
      return false;
    }
    if (closed) return false; // left the queue with the client
    throw error;
  }
  if (closed) {
    // The client left while the permit was on its way: nothing runs, the permit goes back.
    permit.ignore();
    return false;
  }
  return true;
}
