/**
 * Every overhead case, ours and the peers', built once and reused as in production.
 * `fn` is an async no-op; `*-signal` variants read `ctx.signal` the way `fetch` would.
 */
import {
  adaptiveThrottle,
  circuitBreaker,
  consecutiveFailures,
  failureRate,
} from '@faultline/breaker';
import { chaosFault } from '@faultline/chaos';
import { bulkhead, type Context, noop, pipeline } from '@faultline/core';
import { hedge } from '@faultline/hedge';
import { exponential, retry } from '@faultline/retry';
import { timeout } from '@faultline/timeout';
import {
  ConsecutiveBreaker,
  bulkhead as cBulkhead,
  circuitBreaker as cCircuitBreaker,
  retry as cRetry,
  timeout as cTimeout,
  ExponentialBackoff,
  handleAll,
  SamplingBreaker,
  TimeoutStrategy,
  wrap,
} from 'cockatiel';
import CircuitBreaker from 'opossum';
import pRetry from 'p-retry';
import pTimeout from 'p-timeout';

export const fn = async (): Promise<void> => {};
const readsSignal = async (ctx: Context): Promise<void> => {
  if (ctx.signal.aborted) throw new Error('unreachable');
};
const readsCockatielSignal = async (ctx: { signal: AbortSignal }): Promise<void> => {
  if (ctx.signal.aborted) throw new Error('unreachable');
};

/** One benchmark case. `peer` names the case it is compared with; `target` is the spec's ratio. */
export interface Case {
  readonly id: string;
  readonly label: string;
  readonly ours: boolean;
  readonly peer?: string;
  /** Maximum allowed ratio ours / peer (performance.md). */
  readonly target?: number;
  /** Maximum allowed ratio ours / bare await. */
  readonly targetBare?: number;
  /** Run the memory check (1e6 calls, retained after GC) for this case. */
  readonly memory?: boolean;
  make(): () => Promise<unknown>;
}

export const cases: readonly Case[] = [
  { id: 'bare', label: 'bare await fn()', ours: false, memory: true, make: () => () => fn() },

  // retry
  {
    id: 'retry',
    label: 'faultline retry (success)',
    ours: true,
    peer: 'cockatiel-retry',
    target: 1.0,
    targetBare: 2.0,
    memory: true,
    make: () => {
      const policy = retry({ maxAttempts: 3, backoff: exponential() });
      return () => policy.execute(fn);
    },
  },
  {
    id: 'cockatiel-retry',
    label: 'cockatiel retry',
    ours: false,
    memory: true,
    make: () => {
      const policy = cRetry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() });
      return () => policy.execute(fn);
    },
  },
  { id: 'p-retry', label: 'p-retry pRetry(fn)', ours: false, make: () => () => pRetry(fn) },

  // hedge: its success path (the first attempt answers before the delay) against retry's
  {
    id: 'hedge',
    label: 'faultline hedge (first attempt wins)',
    ours: true,
    peer: 'retry',
    target: 1.5,
    memory: true,
    make: () => {
      const policy = hedge(); // 1 hedge after 2 s (Polly's defaults)
      return () => policy.execute(fn);
    },
  },

  // chaos: a disabled chaos policy costs what noop costs
  { id: 'noop', label: 'faultline noop policy', ours: false, make: () => () => noop.execute(fn) },
  {
    id: 'chaos-disabled',
    label: 'faultline chaosFault (enabled: false)',
    ours: true,
    peer: 'noop',
    target: 1.1,
    memory: true,
    make: () => {
      const policy = chaosFault({ fault: new Error('never'), enabled: false });
      return () => policy.execute(fn);
    },
  },

  // circuit breaker, consecutive
  {
    id: 'breaker-consecutive',
    label: 'faultline circuitBreaker consecutive',
    ours: true,
    peer: 'cockatiel-breaker-consecutive',
    target: 1.0,
    memory: true,
    make: () => {
      const policy = circuitBreaker({ trip: consecutiveFailures(5), breakDuration: 10_000 });
      return () => policy.execute(fn);
    },
  },
  {
    id: 'cockatiel-breaker-consecutive',
    label: 'cockatiel ConsecutiveBreaker',
    ours: false,
    make: () => {
      const policy = cCircuitBreaker(handleAll, {
        halfOpenAfter: 10_000,
        breaker: new ConsecutiveBreaker(5),
      });
      return () => policy.execute(fn);
    },
  },

  // circuit breaker, failure rate over a time window
  {
    id: 'breaker-rate',
    label: 'faultline circuitBreaker failureRate (time window)',
    ours: true,
    peer: 'cockatiel-breaker-sampling',
    target: 1.0,
    memory: true,
    make: () => {
      const policy = circuitBreaker({
        trip: failureRate({ threshold: 0.2, window: 30_000 }),
        breakDuration: 10_000,
      });
      return () => policy.execute(fn);
    },
  },
  {
    id: 'cockatiel-breaker-sampling',
    label: 'cockatiel SamplingBreaker',
    ours: false,
    make: () => {
      const policy = cCircuitBreaker(handleAll, {
        halfOpenAfter: 10_000,
        breaker: new SamplingBreaker({ threshold: 0.2, duration: 30_000 }),
      });
      return () => policy.execute(fn);
    },
  },
  {
    id: 'opossum',
    label: 'opossum fire (defaults)',
    ours: false,
    memory: true,
    make: () => {
      const breaker = new CircuitBreaker(fn);
      opened.push(breaker);
      return () => breaker.fire();
    },
  },

  // adaptive throttle (no JS peer implements the SRE book's client-side throttling)
  {
    id: 'throttle',
    label: 'faultline adaptiveThrottle (defaults)',
    ours: true,
    targetBare: 1.5,
    memory: true,
    make: () => {
      const policy = adaptiveThrottle();
      return () => policy.execute(fn);
    },
  },

  // timeout
  {
    id: 'timeout',
    label: 'faultline timeout (fn ignores signal)',
    ours: true,
    peer: 'cockatiel-timeout',
    target: 0.15,
    memory: true,
    make: () => {
      const policy = timeout(1000);
      return () => policy.execute(fn);
    },
  },
  {
    id: 'timeout-vs-p-timeout',
    label: 'faultline timeout (vs p-timeout)',
    ours: true,
    peer: 'p-timeout',
    target: 0.15,
    make: () => {
      const policy = timeout(1000);
      return () => policy.execute(fn);
    },
  },
  {
    id: 'timeout-signal',
    label: 'faultline timeout (fn reads ctx.signal)',
    ours: true,
    peer: 'cockatiel-timeout-signal',
    target: 0.35,
    make: () => {
      const policy = timeout(1000);
      return () => policy.execute(readsSignal);
    },
  },
  {
    id: 'cockatiel-timeout',
    label: 'cockatiel timeout (cooperative)',
    ours: false,
    memory: true,
    make: () => {
      const policy = cTimeout(1000, TimeoutStrategy.Cooperative);
      return () => policy.execute(fn);
    },
  },
  {
    id: 'cockatiel-timeout-signal',
    label: 'cockatiel timeout (cooperative, fn reads signal)',
    ours: false,
    make: () => {
      const policy = cTimeout(1000, TimeoutStrategy.Cooperative);
      return () => policy.execute(readsCockatielSignal);
    },
  },
  {
    id: 'p-timeout',
    label: 'p-timeout pTimeout(fn(), 1000)',
    ours: false,
    make: () => () => pTimeout(fn(), { milliseconds: 1000 }),
  },

  // pipeline
  {
    id: 'pipeline',
    label: 'faultline pipeline(timeout, retry, breaker, timeout)',
    ours: true,
    peer: 'cockatiel-wrap',
    target: 0.2,
    memory: true,
    make: () => {
      const policy = pipeline(
        timeout(10_000),
        retry({ maxAttempts: 3, backoff: exponential() }),
        circuitBreaker({ trip: consecutiveFailures(5), breakDuration: 10_000 }),
        timeout(1000),
      );
      return () => policy.execute(fn);
    },
  },
  {
    id: 'cockatiel-wrap',
    label: 'cockatiel wrap(retry, breaker, timeout)',
    ours: false,
    make: () => {
      const policy = wrap(
        cRetry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
        cCircuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
        cTimeout(1000, TimeoutStrategy.Cooperative),
      );
      return () => policy.execute(fn);
    },
  },

  // bulkhead
  {
    id: 'bulkhead',
    label: 'faultline bulkhead (success)',
    ours: true,
    peer: 'cockatiel-bulkhead',
    target: 1.0,
    memory: true,
    make: () => {
      const policy = bulkhead({ limit: 100 });
      return () => policy.execute(fn);
    },
  },
  {
    id: 'cockatiel-bulkhead',
    label: 'cockatiel bulkhead',
    ours: false,
    make: () => {
      const policy = cBulkhead(100);
      return () => policy.execute(fn);
    },
  },
];

/** Breakers with background timers, shut down when the run ends. */
export const opened: Array<{ shutdown(): void }> = [];
