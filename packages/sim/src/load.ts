import type { Clock } from '@faultline/clock';
import { checkNumber, checkOptions, optionalNumber, type Random } from '@faultline/core';
import { checkDistribution, constant, type Distribution } from './distribution.js';
import type { Metrics } from './metrics.js';

/** One logical request as a client makes it: ordinary async code, usually through policies. */
export type ClientRequest = () => Promise<unknown>;

/** Options for {@link openLoop}. */
export interface OpenLoopOptions {
  /** Mean arrivals per second (Poisson). */
  readonly rate: number;
  /** Arrivals stop at this time, ms. */
  readonly until: number;
  /** First arrival no earlier than this, ms. Default 0. */
  readonly start?: number;
}

function track(clock: Clock, metrics: Metrics | undefined, request: ClientRequest): Promise<void> {
  const started = clock.now();
  metrics?.offer(started);
  return request().then(
    () => metrics?.complete(started, clock.now(), true),
    () => metrics?.complete(started, clock.now(), false),
  );
}

/**
 * Open-loop load: requests arrive as a Poisson process at `rate` per second whatever happens to
 * earlier ones, as users of a public service do. This is the load that retries amplify: nothing
 * slows the arrivals down when the server struggles.
 */
export function openLoop(
  clock: Clock,
  random: Random,
  options: OpenLoopOptions,
  request: ClientRequest,
  metrics?: Metrics,
): void {
  const opts = checkOptions<OpenLoopOptions>('openLoop', options);
  const rate = checkNumber('openLoop', 'rate', opts.rate, { min: 0, minExclusive: true });
  const until = checkNumber('openLoop', 'until', opts.until, { min: 0, allowInfinity: true });
  const start = optionalNumber('openLoop', 'start', opts.start, 0, { min: 0 });
  const mean = 1000 / rate;
  const gap = (): number => -mean * Math.log(1 - random());
  const arrive = (): void => {
    void track(clock, metrics, request);
    const wait = gap();
    if (clock.now() + wait < until) clock.setTimer(wait, arrive);
  };
  const first = start + gap();
  if (first < until) clock.setTimer(first, arrive);
}

/** Options for {@link closedLoop}. */
export interface ClosedLoopOptions {
  /** Concurrent clients, each with one request outstanding at a time. */
  readonly clients: number;
  /** Pause between a client's requests, ms. Default `constant(0)`. */
  readonly think?: Distribution;
  /** Clients stop starting requests at this time, ms. */
  readonly until: number;
}

/**
 * Closed-loop load: `clients` clients each send a request, wait for its outcome, think, and send
 * the next. Load falls when the server slows down (a batch job, a connection pool).
 */
export function closedLoop(
  clock: Clock,
  random: Random,
  options: ClosedLoopOptions,
  request: ClientRequest,
  metrics?: Metrics,
): void {
  const opts = checkOptions<ClosedLoopOptions>('closedLoop', options);
  const clients = checkNumber('closedLoop', 'clients', opts.clients, { min: 1, integer: true });
  const until = checkNumber('closedLoop', 'until', opts.until, { min: 0, allowInfinity: true });
  const think =
    opts.think === undefined ? constant(0) : checkDistribution('closedLoop', 'think', opts.think);
  const loop = async (): Promise<void> => {
    while (clock.now() < until) {
      await track(clock, metrics, request);
      await clock.sleep(think.sample(random));
    }
  };
  for (let i = 0; i < clients; i++) void loop();
}
