import type { Clock } from '@faultline/clock';
import { checkNumber, checkOptions, optionalNumber, type Random } from '@faultline/core';
import { checkDistribution, constant, type Distribution } from './distribution.js';

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
  readonly #post: (ms: number, deliver: () => void) => void;
  readonly #random: Random;
  readonly #latency: Distribution;
  readonly #drop: number;
  readonly #duplicate: number;
  readonly #reorder: number;
  /** Messages sent and lost so far. */
  sent = 0;
  dropped = 0;

  constructor(clock: Clock, random: Random, options?: NetworkOptions) {
    const opts = checkOptions<NetworkOptions>('Network', options);
    // The simulator's clock can schedule without building a cancel function (messages are never
    // cancelled); any other Clock works through setTimer.
    const schedule = (clock as Partial<{ schedule(ms: number, cb: () => void): number }>).schedule;
    this.#post =
      typeof schedule === 'function'
        ? schedule.bind(clock)
        : (ms, deliver) => {
            clock.setTimer(ms, deliver);
          };
    this.#random = random;
    this.#latency =
      opts.latency === undefined
        ? constant(1)
        : checkDistribution('Network', 'latency', opts.latency);
    const probability = { min: 0, max: 1 } as const;
    this.#drop = optionalNumber('Network', 'drop', opts.drop, 0, probability);
    this.#duplicate = optionalNumber('Network', 'duplicate', opts.duplicate, 0, probability);
    this.#reorder = optionalNumber('Network', 'reorder', opts.reorder, 0, probability);
  }

  /** One draw of the one-way delay (including a reorder hold-back). */
  delay(): number {
    let ms = this.#latency.sample(this.#random);
    if (this.#reorder > 0 && this.#random() < this.#reorder)
      ms += this.#latency.sample(this.#random);
    return ms;
  }

  /** Sends one message: `deliver` runs after a delay unless the message is lost. */
  send(deliver: () => void): void {
    this.sent++;
    if (this.#drop > 0 && this.#random() < this.#drop) {
      this.dropped++;
      return;
    }
    this.#post(this.delay(), deliver);
  }

  /**
   * A request/response round trip: the request travels to the server, `handle` runs there and
   * answers through `respond`, and the answer travels back. The promise settles with the answer;
   * a lost message leaves it pending (only a timeout notices, as on a real network). `signal`
   * abandons the call (the server may still do the work).
   */
  call<T>(handle: (respond: Respond<T>) => void, signal?: AbortSignal): Promise<T> {
    if (signal === undefined) {
      // The hot path: no abort bookkeeping.
      return new Promise<T>((resolve, reject) => {
        let settled = false;
        const respond: Respond<T> = (error, value) => {
          this.send(() => {
            if (settled) return;
            settled = true;
            if (error !== undefined) reject(error);
            else resolve(value as T);
          });
        };
        this.#request(handle, respond);
      });
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const onAbort = (): void => {
        settled = true;
        reject(signal.reason);
      };
      const respond: Respond<T> = (error, value) => {
        this.send(() => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          if (error !== undefined) reject(error);
          else resolve(value as T);
        });
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#request(handle, respond);
    });
  }

  #request<T>(handle: (respond: Respond<T>) => void, respond: Respond<T>): void {
    const request = (): void => handle(respond);
    this.send(request);
    if (this.#duplicate > 0 && this.#random() < this.#duplicate) this.send(request);
  }
}

/** Checks a probability option. */
export function checkProbability(owner: string, option: string, value: unknown): number {
  return checkNumber(owner, option, value, { min: 0, max: 1 });
}
