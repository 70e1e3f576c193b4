import type { Clock } from '@faultline/clock';
import { checkNumber, checkOptions, optionalNumber, type Random } from '@faultline/core';
import { checkDistribution, constant, type Distribution, samplerOf } from './distribution.js';
import { SimClock } from './engine.js';

/** Options for {@link Network}. */
export interface NetworkOptions {
  /** One-way delay of each message, ms. Default `constant(1)`. */
  readonly latency?: Distribution;
  /** Probability that a message is lost. Default 0. */
  readonly drop?: number;
  /** Probability that a request is delivered twice (the second reply is ignored). Default 0. */
  readonly duplicate?: number;
  /**
   * Probability that a message is held back by one extra latency draw, so that it can arrive
   * after messages sent later. Default 0.
   */
  readonly reorder?: number;
}

/** How a server answers one request: `respond(undefined, value)` or `respond(error)`. */
export type Respond<T> = (error: unknown, value?: T) => void;

/**
 * The network between simulated clients and servers: each message is delayed by a draw from
 * `latency` and may be lost, duplicated or reordered. Messages are delivered as timer callbacks on
 * the simulation clock (like the message queue of Brooker's simulator); only the client sees a
 * promise, so a round trip costs one promise whatever the number of hops.
 */
export class Network {
  readonly #post: (ms: number, deliver: (message: unknown) => void, message: unknown) => void;
  readonly #postSync: (ms: number, deliver: (message: unknown) => void, message: unknown) => void;
  /**
   * The simulator's own clock, when it is one: `post` and `send` then call its `scheduleSync` and
   * `schedule` directly, a monomorphic method call the compiler can inline, rather than through a
   * bound function (four messages per simulated call make this the models' hottest call).
   */
  readonly #sim: SimClock | undefined;
  readonly #random: Random;
  /** The latency's sampler for this network (one per run: it may keep state between draws). */
  readonly #latency: () => number;
  readonly #drop: number;
  readonly #duplicate: number;
  readonly #reorder: number;
  /** Messages sent so far. */
  sent = 0;
  /** Messages lost so far. */
  dropped = 0;

  constructor(clock: Clock, random: Random, options?: NetworkOptions) {
    const opts = checkOptions<NetworkOptions>('Network', options);
    // The simulator's clock can schedule without building a cancel function (messages are never
    // cancelled); any other Clock works through setTimer.
    const schedule = (
      clock as Partial<{ schedule(ms: number, cb: (arg: unknown) => void, arg: unknown): number }>
    ).schedule;
    this.#post =
      typeof schedule === 'function'
        ? schedule.bind(clock)
        : (ms, deliver, message) => {
            clock.setTimer(ms, () => deliver(message));
          };
    // A synchronous delivery (see `post`): the simulator's clock may deliver it without letting
    // promise reactions settle first; on any other clock it is an ordinary timer.
    const scheduleSync = (
      clock as Partial<{
        scheduleSync(ms: number, cb: (arg: unknown) => void, arg: unknown): number;
      }>
    ).scheduleSync;
    this.#postSync = typeof scheduleSync === 'function' ? scheduleSync.bind(clock) : this.#post;
    this.#sim = clock instanceof SimClock ? clock : undefined;
    this.#random = random;
    this.#latency = samplerOf(
      opts.latency === undefined
        ? constant(1)
        : checkDistribution('Network', 'latency', opts.latency),
      random,
    );
    const probability = { min: 0, max: 1 } as const;
    this.#drop = optionalNumber('Network', 'drop', opts.drop, 0, probability);
    this.#duplicate = optionalNumber('Network', 'duplicate', opts.duplicate, 0, probability);
    this.#reorder = optionalNumber('Network', 'reorder', opts.reorder, 0, probability);
  }

  /** One draw of the one-way delay (including a reorder hold-back). */
  delay(): number {
    let ms = this.#latency();
    if (this.#reorder > 0 && this.#random() < this.#reorder) ms += this.#latency();
    return ms;
  }

  /** Sends one message: `deliver(message)` runs after a delay unless the message is lost. */
  send<M>(deliver: (message: M) => void, message?: M): void {
    this.sent++;
    if (this.#drop > 0 && this.#random() < this.#drop) {
      this.dropped++;
      return;
    }
    const sim = this.#sim;
    if (sim !== undefined) sim.schedule(this.delay(), deliver, message);
    else this.#post(this.delay(), deliver as (message: unknown) => void, message);
  }

  /**
   * Sends one message whose delivery is *synchronous*: `deliver(message)` settles no promise and
   * queues no microtask (it may send more messages). The simulator's engine may then deliver the
   * run's next message right after it, without a settle in between, which is the same order of
   * events at a fraction of the cost. A `deliver` that does settle a promise must use `send`.
   * `after` (ms, default 0) holds the message at the sender first: a wait folded into the
   * message, as Brooker's simulator sends a retry `backoff + hop` ahead.
   */
  post<M>(deliver: (message: M) => void, message?: M, after = 0): void {
    this.sent++;
    if (this.#drop > 0 && this.#random() < this.#drop) {
      this.dropped++;
      return;
    }
    const sim = this.#sim;
    if (sim !== undefined) sim.scheduleSync(after + this.delay(), deliver, message);
    else this.#postSync(after + this.delay(), deliver as (message: unknown) => void, message);
  }

  /**
   * A request/response round trip: the request travels to the server, `handle` runs there and
   * answers through `respond`, and the answer travels back. The promise settles with the answer;
   * a lost message leaves it pending (only a timeout notices, as on a real network). `signal`
   * abandons the call (the server may still do the work).
   */
  call<T>(handle: (respond: Respond<T>) => void, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const trip = new RoundTrip<T>(this, handle, signal);
    pendingTrip = trip as RoundTrip<unknown>;
    const promise = new Promise<unknown>(tripExecutor) as Promise<T>;
    this.send(deliverRequest, trip as RoundTrip<unknown>);
    if (this.#duplicate > 0 && this.#random() < this.#duplicate) {
      this.send(deliverRequest, trip as RoundTrip<unknown>);
    }
    if (signal !== undefined) trip.listen(signal);
    return promise;
  }
}

/**
 * One call in flight: the messages carry it, so a round trip costs one object, one promise and
 * one `respond` function instead of a closure per hop.
 */
class RoundTrip<T> {
  readonly network: Network;
  readonly handle: (respond: Respond<T>) => void;
  readonly respond: Respond<T>;
  resolve: (value: T) => void = noop;
  reject: (error: unknown) => void = noop;
  settled = false;
  answered = false;
  error: unknown;
  value: T | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;

  constructor(
    network: Network,
    handle: (respond: Respond<T>) => void,
    signal: AbortSignal | undefined,
  ) {
    this.network = network;
    this.handle = handle;
    this.signal = signal;
    this.respond = (error, value) => {
      // A duplicated request is answered twice; only the first answer travels back.
      if (this.answered) return;
      this.answered = true;
      this.error = error;
      this.value = value;
      this.network.send(deliverReply, this as RoundTrip<unknown>);
    };
  }

  listen(signal: AbortSignal): void {
    const onAbort = (): void => {
      if (this.settled) return;
      this.settled = true;
      this.reject(signal.reason);
    };
    this.onAbort = onAbort;
    signal.addEventListener('abort', onAbort, { once: true });
  }
}

function noop(): void {}

// `call` builds its promise with one shared executor (set just before `new Promise`, which runs
// the executor synchronously), instead of a closure per call.
let pendingTrip: RoundTrip<unknown> | undefined;
function tripExecutor(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  const trip = pendingTrip!;
  pendingTrip = undefined;
  trip.resolve = resolve;
  trip.reject = reject;
}

function deliverRequest(trip: RoundTrip<unknown>): void {
  trip.handle(trip.respond);
}

function deliverReply(trip: RoundTrip<unknown>): void {
  if (trip.settled) return;
  trip.settled = true;
  if (trip.onAbort !== undefined) trip.signal!.removeEventListener('abort', trip.onAbort);
  if (trip.error !== undefined) trip.reject(trip.error);
  else trip.resolve(trip.value);
}

/** Checks a probability option. */
export function checkProbability(owner: string, option: string, value: unknown): number {
  return checkNumber(owner, option, value, { min: 0, max: 1 });
}
