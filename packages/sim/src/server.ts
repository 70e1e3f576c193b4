import type { Clock } from '@faultline/clock';
import {
  checkNumber,
  checkOneOf,
  checkOptions,
  formatValue,
  optionalNumber,
  type Random,
} from '@faultline/core';
import { checkDistribution, constant, type Distribution } from './distribution.js';
import type { Respond } from './network.js';

/**
 * A timed change to a server's behaviour. Times are ms of simulated time; `duration` may be
 * `Infinity` (the change never ends).
 * - `outage`: each request fails with `probability` (default 1): `mode: 'errors'` answers with a
 *   {@link ServerError} at once (a 503), `'black-hole'` never answers (only a timeout notices).
 * - `brownout`: service times are multiplied by `factor`.
 * - `collapse`: overload collapse: service times grow with the queue,
 *   × (1 + `factor` · queue length / concurrency) (thrashing, lock contention, GC pressure).
 */
export type Incident =
  | {
      readonly kind: 'outage';
      readonly start: number;
      readonly duration: number;
      readonly mode?: 'errors' | 'black-hole';
      readonly probability?: number;
    }
  | {
      readonly kind: 'brownout';
      readonly start: number;
      readonly duration: number;
      readonly factor: number;
    }
  | {
      readonly kind: 'collapse';
      readonly start: number;
      readonly duration: number;
      readonly factor: number;
    };

/** Options for {@link Server}. */
export interface ServerOptions {
  /** Requests served at once. Default 10. */
  readonly concurrency?: number;
  /** Requests waiting for a worker; beyond it the server rejects at once. Default 1000. */
  readonly queueLimit?: number;
  /** Time to serve one request, ms. Default `constant(10)`. */
  readonly serviceTime?: Distribution;
  /** Each request fails with this probability outside incidents (partial failure). Default 0. */
  readonly failureProbability?: number;
  readonly incidents?: readonly Incident[];
  /** Called for every request the server receives (its load), e.g. to count it per bucket. */
  readonly onReceive?: () => void;
}

/** The error a simulated server answers with (overload rejection, outage, partial failure). */
export class ServerError extends Error {
  override name = 'ServerError';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

// Shared: a server answers thousands of failures a second, and a stack trace per failure would
// cost more than the rest of the simulated request.
const unavailable = new ServerError(503, 'service unavailable (outage)');
const overloaded = new ServerError(503, 'service overloaded (queue full)');
const failed = new ServerError(500, 'request failed');

interface Queued {
  readonly work: () => unknown;
  readonly respond: Respond<unknown>;
}

/**
 * A modelled server: `concurrency` workers, a FIFO queue of `queueLimit` requests, service times
 * drawn from `serviceTime`, and incidents. Like a real server, it cannot tell that a client gave
 * up on a request: it serves queued requests whose callers have long timed out, which is what
 * turns an overload into a metastable failure (Bronson et al., 2021).
 */
export class Server {
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #concurrency: number;
  readonly #queueLimit: number;
  readonly #serviceTime: Distribution;
  readonly #failureProbability: number;
  readonly #incidents: readonly Incident[];
  readonly #onReceive: (() => void) | undefined;
  readonly #queue: Queued[] = [];
  #queueHead = 0;
  #busy = 0;
  /** Requests received. */
  received = 0;
  /** Requests served successfully. */
  served = 0;
  /** Requests rejected (queue full, outage) or failed. */
  rejected = 0;

  constructor(clock: Clock, random: Random, options?: ServerOptions) {
    const owner = 'Server';
    const opts = checkOptions<ServerOptions>(owner, options);
    this.#clock = clock;
    this.#random = random;
    this.#concurrency = optionalNumber(owner, 'concurrency', opts.concurrency, 10, {
      min: 1,
      integer: true,
      allowInfinity: true,
    });
    this.#queueLimit = optionalNumber(owner, 'queueLimit', opts.queueLimit, 1000, {
      min: 0,
      integer: true,
      allowInfinity: true,
    });
    this.#serviceTime =
      opts.serviceTime === undefined
        ? constant(10)
        : checkDistribution(owner, 'serviceTime', opts.serviceTime);
    this.#failureProbability = optionalNumber(
      owner,
      'failureProbability',
      opts.failureProbability,
      0,
      { min: 0, max: 1 },
    );
    const incidents = opts.incidents ?? [];
    if (!Array.isArray(incidents)) {
      throw new TypeError(
        `${owner}: option "incidents" must be an array, received ${formatValue(incidents)}`,
      );
    }
    this.#incidents = incidents.map((incident, i) =>
      checkIncident(`${owner}: incidents[${i}]`, incident),
    );
    if (opts.onReceive !== undefined && typeof opts.onReceive !== 'function') {
      throw new TypeError(
        `${owner}: option "onReceive" must be a function, received ${formatValue(opts.onReceive)}`,
      );
    }
    this.#onReceive = opts.onReceive;
  }

  /** Requests being served now. */
  get busy(): number {
    return this.#busy;
  }

  /** Requests waiting in the queue. */
  get queueLength(): number {
    return this.#queue.length - this.#queueHead;
  }

  /**
   * Handles one request that has reached the server: `work()` computes the answer when the
   * request is served, and `respond` sends it back (or an error). Pass it to `Network.call`:
   * `network.call((respond) => server.handle(respond, () => value))`.
   */
  handle<T>(respond: Respond<T>, work: () => T = () => undefined as T): void {
    this.received++;
    this.#onReceive?.();
    const now = this.#clock.now();
    const outage = this.#active('outage', now);
    if (outage !== undefined) {
      const probability = outage.probability ?? 1;
      if (probability >= 1 || this.#random() < probability) {
        this.rejected++;
        if ((outage.mode ?? 'errors') === 'errors') respond(unavailable);
        return;
      }
    }
    if (this.#busy < this.#concurrency) {
      this.#start(work, respond as Respond<unknown>, now);
    } else if (this.queueLength < this.#queueLimit) {
      this.#queue.push({ work, respond: respond as Respond<unknown> });
    } else {
      this.rejected++;
      respond(overloaded);
    }
  }

  #start(work: () => unknown, respond: Respond<unknown>, now: number): void {
    this.#busy++;
    let ms = this.#serviceTime.sample(this.#random);
    const brownout = this.#active('brownout', now);
    if (brownout !== undefined) ms *= brownout.factor;
    const collapse = this.#active('collapse', now);
    if (collapse !== undefined) ms *= 1 + (collapse.factor * this.queueLength) / this.#concurrency;
    this.#clock.setTimer(ms, () => {
      this.#busy--;
      if (this.#failureProbability > 0 && this.#random() < this.#failureProbability) {
        this.rejected++;
        respond(failed);
      } else {
        this.served++;
        respond(undefined, work());
      }
      this.#next();
    });
  }

  #next(): void {
    if (this.queueLength === 0 || this.#busy >= this.#concurrency) return;
    const item = this.#queue[this.#queueHead]!;
    this.#queue[this.#queueHead++] = undefined as unknown as Queued;
    // Compact now and then so that the array does not grow forever.
    if (this.#queueHead > 1024 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
    this.#start(item.work, item.respond, this.#clock.now());
  }

  #active<K extends Incident['kind']>(
    kind: K,
    now: number,
  ): Extract<Incident, { kind: K }> | undefined {
    const incidents = this.#incidents;
    for (let i = 0; i < incidents.length; i++) {
      const incident = incidents[i]!;
      if (
        incident.kind === kind &&
        now >= incident.start &&
        now < incident.start + incident.duration
      ) {
        return incident as Extract<Incident, { kind: K }>;
      }
    }
    return undefined;
  }
}

function checkIncident(owner: string, incident: unknown): Incident {
  if (incident === null || typeof incident !== 'object') {
    throw new TypeError(`${owner} must be an incident object, received ${formatValue(incident)}`);
  }
  const value = incident as Record<string, unknown>;
  const kind = checkOneOf(owner, 'kind', value.kind, ['outage', 'brownout', 'collapse'] as const);
  checkNumber(owner, 'start', value.start, { min: 0 });
  checkNumber(owner, 'duration', value.duration, { min: 0, allowInfinity: true });
  if (kind === 'outage') {
    if (value.mode !== undefined)
      checkOneOf(owner, 'mode', value.mode, ['errors', 'black-hole'] as const);
    if (value.probability !== undefined) {
      checkNumber(owner, 'probability', value.probability, { min: 0, max: 1 });
    }
  } else if (kind === 'brownout') {
    checkNumber(owner, 'factor', value.factor, { min: 0 });
  } else {
    checkNumber(owner, 'factor', value.factor, { min: 0 });
  }
  return incident as Incident;
}
