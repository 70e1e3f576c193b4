import type { ExecutionContext, Listener, PolicyDescription, Task } from '@faultline/core';
import { ChaosKindPolicy } from './chaos-kind.js';
import type { ChaosOutcomeEvent } from './chaos-outcome-events.js';
import {
  type ChaosOutcomeOptions,
  type ResolvedChaosOutcomeOptions,
  resolveChaosOutcomeOptions,
} from './chaos-outcome-options.js';

/**
 * The outcome injection policy; build it with {@link chaosOutcome}. The substitute's type `R` is
 * not tied to each call's `T` (a policy is built once and reused): return what callers expect.
 */
export class ChaosOutcomePolicy<R = unknown> extends ChaosKindPolicy<
  ChaosOutcomeEvent,
  ResolvedChaosOutcomeOptions<R>
> {
  constructor(options: ChaosOutcomeOptions<R>) {
    super('chaosOutcome', 'chaos-outcome', resolveChaosOutcomeOptions<R>(options));
  }

  /** When a call gets the substitute result. Returns an unsubscribe function. */
  onOutcome(listener: Listener<ChaosOutcomeEvent>): () => void {
    return this.subscribe(listener);
  }

  protected async inject<T>(_fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    const outcome = await this.resolved.outcome(ctx);
    this.announce(ctx, { outcome, attempt: ctx.attempt });
    return outcome as unknown as T;
  }

  describe(): PolicyDescription {
    return this.describeKind({ outcome: 'custom' });
  }
}

/**
 * Outcome injection (Polly's chaos outcome strategy; Envoy's fault filter `abort` with an HTTP
 * status): at the injection rate, the call returns `outcome(ctx)` instead of running, e.g. a 503
 * `Response`, so that a `shouldHandle` classifying results can be seen at work.
 *
 * @example
 * ```ts
 * import { chaosOutcome } from '@faultline/chaos';
 *
 * const unavailable = chaosOutcome({
 *   outcome: () => new Response('injected', { status: 503 }),
 *   injectionRate: 0.02,
 * });
 * ```
 * @throws TypeError / RangeError for invalid options.
 */
export function chaosOutcome<R = unknown>(options: ChaosOutcomeOptions<R>): ChaosOutcomePolicy<R> {
  return new ChaosOutcomePolicy<R>(options);
}
