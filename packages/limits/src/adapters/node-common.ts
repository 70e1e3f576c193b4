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
import { concurrencyGate, rateGate, settlePermit } from './common.js';

/** The client's address (`''` when the socket is already gone). */
function remoteAddress(req: IncomingMessage): string {
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
 * Asks the limiter; sets the RateLimit fields on `res`, or sends the 429. Returns whether the
 * handler may run. The body is never read.
 */
async function admitRate(
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

/**
 * @internal The rate limit of the adapters on `node:http`'s own request and response (`node:http`,
 * Express): checks the limiter and options when the adapter is built (`key` defaulting to the
 * socket address), and returns the check of one request, {@link admitRate}.
 */
export function nodeRateAdmission(
  owner: string,
  limiter: unknown,
  options: unknown,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const { limiter: rate, key, permits } = rateGate(owner, limiter, options, remoteAddress);
  return (req, res) => admitRate(rate, res, key(req), permits(req));
}

/**
 * @internal The concurrency limit of the adapters on `node:http`'s own response (`node:http`,
 * Express): checks the limiter and options when the adapter is built, and returns the check of
 * one request, {@link admitConcurrency}.
 */
export function nodeConcurrencyAdmission(
  owner: string,
  limiter: unknown,
  options: unknown,
): (res: ServerResponse) => Promise<boolean> {
  const { limiter: concurrency, retryAfter } = concurrencyGate(owner, limiter, options);
  return (res) => admitConcurrency(concurrency, res, retryAfter);
}
