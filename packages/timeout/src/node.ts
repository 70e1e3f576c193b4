/**
 * `@faultline/timeout/node`: an ambient deadline carried through async calls with
 * AsyncLocalStorage. Importing this entry makes every `timeout` policy join the ambient deadline,
 * so a server that received a deadline applies it to every outbound call made while handling the
 * request, however deep, without threading `ctx` through application code.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Deadline } from '@faultline/clock';
import { formatValue } from '@faultline/core';
import { registerAmbientDeadlineProvider } from './ambient.js';
import {
  type DeadlineFromHeadersOptions,
  deadlineFromHeaders,
  type HeaderSource,
} from './headers.js';

const storage = new AsyncLocalStorage<Deadline>();

registerAmbientDeadlineProvider(() => storage.getStore());

/**
 * Runs `fn` with `deadline` as the ambient deadline (the earliest of it and any enclosing ambient
 * deadline: an inner scope can only shorten the budget). Returns what `fn` returns.
 */
export function withDeadline<T>(deadline: Deadline, fn: () => T): T {
  if (!(deadline instanceof Deadline)) {
    throw new TypeError(
      `withDeadline: deadline must be a Deadline, received ${formatValue(deadline)}`,
    );
  }
  if (typeof fn !== 'function') {
    throw new TypeError(`withDeadline: fn must be a function, received ${formatValue(fn)}`);
  }
  const outer = storage.getStore();
  return storage.run(outer === undefined ? deadline : outer.earliest(deadline), fn);
}

/** The ambient deadline; `Deadline.never` outside any {@link withDeadline}. */
export function currentDeadline(): Deadline {
  return storage.getStore() ?? Deadline.never;
}

/**
 * Runs `fn` under the deadline the request's headers carry (see `deadlineFromHeaders`), or
 * directly when they carry none. The usual first line of a request handler:
 *
 * ```ts
 * http.createServer((req, res) => withRequestDeadline(req.headers, () => handle(req, res)));
 * ```
 */
export function withRequestDeadline<T>(
  headers: HeaderSource,
  fn: () => T,
  options?: DeadlineFromHeadersOptions,
): T {
  const deadline = deadlineFromHeaders(headers, options);
  if (typeof fn !== 'function') {
    throw new TypeError(`withRequestDeadline: fn must be a function, received ${formatValue(fn)}`);
  }
  return deadline === undefined ? fn() : withDeadline(deadline, fn);
}
