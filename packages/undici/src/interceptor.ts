import type { Clock } from '@faultline/clock';
import {
  type Context,
  checkOptions,
  formatValue,
  isContextual,
  optionalClock,
  optionalFunction,
  type Policy,
  type PolicyBase,
  type Random,
} from '@faultline/core';
import { type InterceptedRequestInfo, recordRequest } from './http-outcome.js';
import { policyRegistry } from './policy-registry.js';
import { type StandardHttpPipeline, standardHttpPipeline } from './standard-http-pipeline.js';
import { warnOnce } from './warn-once.js';

/*
 * The shapes of undici's dispatcher API (v7 handler interface) that the interceptor touches.
 * Declared here, structurally, so that this package needs no undici types at run time or in its
 * declarations: `Agent.compose(resilience())` type-checks against undici's own definitions.
 */

/** The controller undici hands a handler (`DispatchController`). */
export interface DispatchControllerLike {
  abort(reason: unknown): void;
  pause(): void;
  resume(): void;
  readonly aborted: boolean;
  readonly paused: boolean;
  readonly reason: unknown;
}

/** Incoming response headers, lower-cased names. */
export type IncomingHeaders = Record<string, string | string[] | undefined>;

/** A v7 dispatch handler. */
export interface DispatchHandlerLike {
  onRequestStart?(controller: DispatchControllerLike, context: unknown): void;
  onRequestUpgrade?(
    controller: DispatchControllerLike,
    statusCode: number,
    headers: IncomingHeaders,
    socket: unknown,
  ): void;
  onResponseStart?(
    controller: DispatchControllerLike,
    statusCode: number,
    headers: IncomingHeaders,
    statusMessage?: string,
  ): void;
  onResponseData?(controller: DispatchControllerLike, chunk: Uint8Array): void;
  onResponseEnd?(controller: DispatchControllerLike, trailers: IncomingHeaders): void;
  onResponseError?(controller: DispatchControllerLike, error: Error): void;
}

/** The dispatch options the interceptor reads. */
export interface DispatchOptionsLike {
  readonly origin?: string | URL;
  readonly path: string;
  readonly method: string;
  readonly headers?: unknown;
  readonly body?: unknown;
  readonly upgrade?: unknown;
  readonly retryOptions?: Record<string, unknown>;
  readonly [option: string]: unknown;
}

type Dispatch = (options: DispatchOptionsLike, handler: DispatchHandlerLike) => boolean;

/** What a policy resolves with for an intercepted attempt: the response head, body still held. */
export interface InterceptedResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: IncomingHeaders;
  /** Cancels the body (aborts the attempt): what `retry` calls when it drops a handled response. */
  readonly body: { cancel(reason?: unknown): void };
  readonly bodyUsed: false;
}

/** Options of {@link resilience}. */
export interface ResilienceInterceptorOptions {
  /**
   * The policy each request runs through: one for every origin, or a function of the request
   * (say, a `policyRegistry` lookup by host). Default: a `standardHttpPipeline({ name: origin })`
   * per origin, so each host has its own circuit breaker and budget.
   */
  readonly policy?: Policy | ((request: DispatchOptionsLike) => Policy);
  /** Time for the default per-origin pipelines (ignored with `policy`). Default `systemClock`. */
  readonly clock?: Clock;
  /** Jitter for the default per-origin pipelines (ignored with `policy`). Default `Math.random`. */
  readonly random?: Random;
}

const idempotencyKeyHeader = 'idempotency-key';

function hasHeader(headers: unknown, name: string): boolean {
  if (headers === null || headers === undefined) return false;
  if (Array.isArray(headers)) {
    // Flat [name, value, name, value, …] (undici's raw form), strings or buffers.
    for (let i = 0; i < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() === name) return true;
    }
    return false;
  }
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): unknown }).get(name) != null;
  }
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const entry of headers as Iterable<unknown>) {
      if (Array.isArray(entry) && String(entry[0]).toLowerCase() === name) return true;
    }
    return false;
  }
  if (typeof headers === 'object') {
    for (const key of Object.keys(headers)) if (key.toLowerCase() === name) return true;
  }
  return false;
}

/** Whether a request body can be sent again: none, a string or bytes (never a stream). */
function isReplayableBody(body: unknown): boolean {
  return (
    body === null ||
    body === undefined ||
    typeof body === 'string' ||
    body instanceof Uint8Array ||
    body instanceof ArrayBuffer
  );
}

/** undici's `RetryHandler` (its retry interceptor) by its instance fields, without importing undici. */
function isUndiciRetryHandler(handler: unknown): boolean {
  const h = handler as { retryOpts?: unknown; retryCount?: unknown; dispatch?: unknown };
  return typeof h.retryOpts === 'object' && typeof h.retryCount === 'number';
}

const warnStacking = warnOnce(
  "faultline resilience(): undici's retry interceptor is composed outside it, so faultline does " +
    'not retry those requests (one retry layer, not two multiplying each other). Compose only one. ' +
    '(Shown once per process.)',
);

function noUndiciRetry(error: unknown, _state: unknown, callback: (error: unknown) => void): void {
  callback(error);
}

function originOf(options: DispatchOptionsLike): string {
  const origin = options.origin;
  if (origin === undefined) return 'default';
  return typeof origin === 'string' ? origin : origin.origin;
}

/**
 * An undici interceptor that runs every request through a faultline policy:
 * `new Agent().compose(resilience())`, or for the global `fetch`,
 * `setGlobalDispatcher(new Agent().compose(resilience()))`.
 *
 * - Each attempt is a dispatch of its own; the response head goes to the policy, which decides
 *   (status, `Retry-After`, method) before anything reaches the caller. A response the policy
 *   drops has its body cancelled; the one it keeps is streamed to the caller as it arrives.
 * - The method and `Idempotency-Key` are known here, so idempotent-only retries are automatic.
 *   A streamed request body cannot be sent twice: such requests get one attempt.
 * - It never stacks with undici's own retry interceptor: composed inside, undici's retry is turned
 *   off per request; composed outside, faultline's retry stands down for its requests (and says
 *   so once).
 * - Timeouts cover an attempt until its response head arrives (undici's `bodyTimeout` covers the
 *   body). The caller's abort (fetch's signal) aborts the attempt in flight and any backoff.
 */
export function resilience(
  options?: ResilienceInterceptorOptions,
): <D extends (options: never, handler: never) => boolean>(dispatch: D) => D {
  const opts = checkOptions<ResilienceInterceptorOptions>('resilience', options);
  const policyOption = opts.policy;
  let policyFor: (request: DispatchOptionsLike) => Policy;
  if (policyOption === undefined) {
    const clock = optionalClock('resilience', 'clock', opts.clock);
    const random = optionalFunction<Random>('resilience', 'random', opts.random, Math.random);
    const registry = policyRegistry<StandardHttpPipeline>({
      create: (origin) => standardHttpPipeline({ name: origin, clock, random }),
    });
    policyFor = (request) => registry.get(originOf(request));
  } else if (typeof policyOption === 'function') {
    policyFor = policyOption;
  } else if (
    policyOption !== null &&
    typeof policyOption === 'object' &&
    typeof (policyOption as Partial<Policy>).execute === 'function'
  ) {
    policyFor = () => policyOption;
  } else {
    throw new TypeError(
      `resilience: option "policy" must be a Policy or a function returning one, received ${formatValue(policyOption)}`,
    );
  }
  const seenHandlers = new WeakSet<object>();
  return (<D extends Dispatch>(dispatch: D): D => {
    const intercept: Dispatch = (request, handler) => {
      // Upgrades (WebSocket, CONNECT) hand over a socket: nothing to retry or time.
      if (request.upgrade !== undefined && request.upgrade !== null)
        return dispatch(request, handler);
      const outerRetry = seenHandlers.has(handler) || isUndiciRetryHandler(handler);
      seenHandlers.add(handler);
      if (outerRetry) warnStacking();
      const policy = policyFor(request);
      new InterceptedCall(dispatch, request, handler, !outerRetry).run(policy);
      return true;
    };
    return intercept as D;
  }) as never;
}

/** One request through the interceptor: its attempts, and the caller's handler. */
class InterceptedCall {
  readonly #dispatch: Dispatch;
  readonly #request: DispatchOptionsLike;
  readonly #handler: DispatchHandlerLike;
  readonly #info: InterceptedRequestInfo;
  /** Aborted by the caller through the controller we hand its handler. */
  readonly #caller = new AbortController();
  readonly #proxy: ProxyController;
  #started = false;
  #committed: Attempt | undefined;

  constructor(
    dispatch: Dispatch,
    request: DispatchOptionsLike,
    handler: DispatchHandlerLike,
    mayRetry: boolean,
  ) {
    this.#dispatch = dispatch;
    this.#handler = handler;
    // undici's retry interceptor composed inside us would multiply attempts: turn it off here.
    this.#request = {
      ...request,
      retryOptions: { ...request.retryOptions, retry: noUndiciRetry, maxRetries: 0 },
    };
    this.#info = {
      method: request.method.toUpperCase(),
      idempotencyKey: hasHeader(request.headers, idempotencyKeyHeader),
      replayable: mayRetry && isReplayableBody(request.body),
    };
    this.#proxy = new ProxyController(this);
  }

  run(policy: Policy): void {
    const task = (ctx: Context): Promise<InterceptedResponse> => this.#attempt(ctx);
    const execution = isContextual(policy)
      ? (policy as PolicyBase).execute(task, { signal: this.#caller.signal })
      : policy.execute(task, this.#caller.signal);
    execution.then(
      (response) => this.#commit(response),
      (error: unknown) => this.#fail(error),
    );
  }

  /** The caller aborted through its controller. */
  abortByCaller(reason: unknown): void {
    const committed = this.#committed;
    if (committed !== undefined) committed.abort(reason);
    else this.#caller.abort(reason);
  }

  get committed(): Attempt | undefined {
    return this.#committed;
  }

  get callerAborted(): boolean {
    return this.#caller.signal.aborted;
  }

  get callerReason(): unknown {
    return this.#caller.signal.reason;
  }

  #attempt(ctx: Context): Promise<InterceptedResponse> {
    if (ctx.attempt > 1 && !this.#info.replayable) {
      // The policy's retry only repeats requests it may (see the classifier); a custom policy
      // that retries anyway cannot resend a body that was a stream.
      return Promise.reject(
        new TypeError('resilience: a request with a streamed body cannot be sent again'),
      );
    }
    const attempt = new Attempt(this, this.#info, ctx.signal);
    // Each attempt is its own dispatch: the body, a string or bytes, is sent again as it is.
    this.#dispatch(this.#request, attempt);
    return attempt.head;
  }

  /** The first attempt to start tells the caller's handler (once, as undici's RetryHandler does). */
  started(context: unknown): void {
    if (this.#started) return;
    this.#started = true;
    this.#handler.onRequestStart?.(this.#proxy, context);
  }

  #commit(response: InterceptedResponse): void {
    const attempt = attemptOf(response);
    if (this.#caller.signal.aborted) {
      attempt.abort(this.#caller.signal.reason);
      this.#fail(this.#caller.signal.reason);
      return;
    }
    this.#committed = attempt;
    if (!this.#started) this.started(undefined);
    attempt.commit(this.#handler, this.#proxy);
  }

  #fail(error: unknown): void {
    if (!this.#started) this.started(undefined);
    const reason = error instanceof Error ? error : new Error(String(error), { cause: error });
    this.#handler.onResponseError?.(this.#proxy, reason);
  }
}

const attempts = new WeakMap<InterceptedResponse, Attempt>();
function attemptOf(response: InterceptedResponse): Attempt {
  const attempt = attempts.get(response);
  if (attempt === undefined) {
    throw new TypeError('resilience: the policy resolved with something other than the response');
  }
  return attempt;
}

/** One dispatch: its head goes to the policy, its body to the caller once committed. */
class Attempt implements DispatchHandlerLike {
  readonly head: Promise<InterceptedResponse>;
  readonly #call: InterceptedCall;
  readonly #info: InterceptedRequestInfo;
  #resolve!: (response: InterceptedResponse) => void;
  #reject!: (error: unknown) => void;
  #controller: DispatchControllerLike | undefined;
  #pendingAbort: { reason: unknown } | undefined;
  #settled = false;
  /** Set when the policy keeps this attempt: everything from now on goes there. */
  #target: { handler: DispatchHandlerLike; proxy: DispatchControllerLike } | undefined;
  /** Body chunks that arrived between the head and the policy's decision. */
  #buffered: Uint8Array[] | undefined;
  #ended: { trailers: IncomingHeaders } | undefined;
  #failed: { error: Error } | undefined;
  readonly #signal: AbortSignal;
  readonly #onAbort = (): void => this.abort(this.#signal.reason);

  constructor(call: InterceptedCall, info: InterceptedRequestInfo, signal: AbortSignal) {
    this.#call = call;
    this.#info = info;
    this.#signal = signal;
    this.head = new Promise<InterceptedResponse>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (signal.aborted) this.abort(signal.reason);
    else signal.addEventListener('abort', this.#onAbort, { once: true });
  }

  get controller(): DispatchControllerLike | undefined {
    return this.#controller;
  }

  abort(reason: unknown): void {
    const controller = this.#controller;
    if (controller === undefined) this.#pendingAbort = { reason };
    else if (!controller.aborted) controller.abort(reason);
    if (!this.#settled) this.#settle(undefined, reason);
  }

  commit(handler: DispatchHandlerLike, proxy: DispatchControllerLike): void {
    this.#signal.removeEventListener('abort', this.#onAbort);
    this.#target = { handler, proxy };
    const head = this.#headSeen!;
    handler.onResponseStart?.(proxy, head.status, head.headers, head.statusText);
    const buffered = this.#buffered;
    this.#buffered = undefined;
    if (buffered !== undefined)
      for (const chunk of buffered) handler.onResponseData?.(proxy, chunk);
    if (this.#ended !== undefined) handler.onResponseEnd?.(proxy, this.#ended.trailers);
    else if (this.#failed !== undefined) handler.onResponseError?.(proxy, this.#failed.error);
    else if (!proxy.paused) this.#controller?.resume();
  }

  #headSeen: InterceptedResponse | undefined;

  #settle(response: InterceptedResponse | undefined, error?: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    if (response !== undefined) {
      this.#resolve(response);
    } else {
      this.#signal.removeEventListener('abort', this.#onAbort);
      if (error !== null && typeof error === 'object') recordRequest(error, this.#info);
      this.#reject(error);
    }
  }

  // --- undici's handler interface --------------------------------------------------------

  onRequestStart(controller: DispatchControllerLike, context: unknown): void {
    this.#controller = controller;
    const pending = this.#pendingAbort;
    if (pending !== undefined) {
      controller.abort(pending.reason);
      return;
    }
    this.#call.started(context);
  }

  onResponseStart(
    controller: DispatchControllerLike,
    statusCode: number,
    headers: IncomingHeaders,
    statusMessage?: string,
  ): void {
    if (this.#settled) return;
    // Hold the body until the policy decides: kept, it streams to the caller; dropped, it is
    // cancelled.
    controller.pause();
    this.#buffered = [];
    const response: InterceptedResponse = {
      status: statusCode,
      statusText: statusMessage ?? '',
      headers,
      body: { cancel: (reason?: unknown) => this.#cancel(reason) },
      bodyUsed: false,
    };
    this.#headSeen = response;
    attempts.set(response, this);
    recordRequest(response, this.#info);
    this.#settle(response);
  }

  #cancel(reason?: unknown): void {
    this.#buffered = undefined;
    this.#signal.removeEventListener('abort', this.#onAbort);
    const controller = this.#controller;
    if (controller !== undefined && !controller.aborted) {
      controller.abort(reason ?? new Error('response discarded by the retry policy'));
    }
  }

  onResponseData(_controller: DispatchControllerLike, chunk: Uint8Array): void {
    const target = this.#target;
    if (target !== undefined) target.handler.onResponseData?.(target.proxy, chunk);
    else this.#buffered?.push(chunk);
  }

  onResponseEnd(_controller: DispatchControllerLike, trailers: IncomingHeaders): void {
    const target = this.#target;
    if (target !== undefined) target.handler.onResponseEnd?.(target.proxy, trailers);
    else this.#ended = { trailers };
  }

  onResponseError(_controller: DispatchControllerLike, error: Error): void {
    const target = this.#target;
    if (target !== undefined) {
      target.handler.onResponseError?.(target.proxy, error);
      return;
    }
    if (!this.#settled) {
      this.#settle(undefined, error);
      return;
    }
    // After the head, before the policy decided: kept for the caller if this attempt wins.
    this.#failed = { error };
  }
}

/** The stable controller the caller's handler gets: forwards to the attempt that won. */
class ProxyController implements DispatchControllerLike {
  readonly #call: InterceptedCall;
  #paused = false;

  constructor(call: InterceptedCall) {
    this.#call = call;
  }

  abort(reason: unknown): void {
    this.#call.abortByCaller(reason);
  }

  pause(): void {
    this.#paused = true;
    this.#call.committed?.controller?.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#call.committed?.controller?.resume();
  }

  get paused(): boolean {
    return this.#paused;
  }

  get aborted(): boolean {
    return this.#call.committed?.controller?.aborted ?? this.#call.callerAborted;
  }

  get reason(): unknown {
    return this.#call.committed?.controller?.reason ?? this.#call.callerReason;
  }
}
