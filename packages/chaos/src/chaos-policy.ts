import type { Clock } from '@faultline/clock';
import {
  checkNumber,
  type ExecutionContext,
  executeInContext,
  formatValue,
  invoke,
  PolicyBase,
  type PolicyIdentity,
  publishEvent,
  type Random,
  type Task,
  type TelemetryAttributes,
  type TelemetryEventName,
  telemetry,
} from '@faultline/core';
import type { ChaosEnabled, InjectionRate, ResolvedChaosOptions } from './chaos-options.js';

/**
 * What every chaos policy shares: the per-call decision (enabled? then one draw of `random`
 * against the injection rate, as Polly's `ChaosStrategy.ShouldInjectAsync`) and the fast path
 * when it says no. A kind implements {@link inject}.
 */
export abstract class ChaosPolicy extends PolicyBase {
  /** The policy's name in telemetry. */
  readonly name: string;
  readonly clock: Clock;
  protected readonly identity: PolicyIdentity;
  readonly #owner: string;
  readonly #rate: InjectionRate;
  readonly #enabled: ChaosEnabled;
  readonly #random: Random;

  protected constructor(owner: string, options: ResolvedChaosOptions) {
    super();
    this.#owner = owner;
    this.identity = options.identity;
    this.name = options.identity.name;
    this.clock = options.clock;
    this.#rate = options.injectionRate;
    this.#enabled = options.enabled;
    this.#random = options.random;
  }

  [executeInContext]<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T> {
    // Disabled: exactly noop's path (Promise.resolve hands a native promise back as is).
    if (this.#enabled === false) return Promise.resolve(invoke(fn, ctx));
    let injecting: boolean;
    try {
      injecting = this.#decide(ctx);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!injecting) return Promise.resolve(invoke(fn, ctx));
    return this.inject(fn, ctx);
  }

  /** Runs the call with this policy's injection (the decision said yes). */
  protected abstract inject<T>(fn: Task<T>, ctx: ExecutionContext): Promise<T>;

  /** Enabled, then one draw against the rate. Throws for a generator's invalid answer. */
  #decide(ctx: ExecutionContext): boolean {
    const enabled = this.#enabled;
    if (enabled !== true) {
      const on: unknown = (enabled as (ctx: ExecutionContext) => boolean)(ctx);
      if (typeof on !== 'boolean') {
        throw new TypeError(
          `${this.#owner}: option "enabled" must return a boolean, received ${formatValue(on)}`,
        );
      }
      if (!on) return false;
    }
    let rate = this.#rate;
    if (typeof rate !== 'number') {
      // Never clamped (Polly coerces into [0, 1]): a rate of 1.5 is a bug to report.
      rate = checkNumber(this.#owner, 'injectionRate(ctx) result', rate(ctx), { min: 0, max: 1 });
    }
    const draw = this.#random();
    if (!(draw >= 0 && draw < 1)) {
      throw new RangeError(
        `${this.#owner}: option "random" must return a number in [0, 1), received ${formatValue(draw)}`,
      );
    }
    return draw < rate;
  }

  /** Publishes the injection on core's telemetry stream (when anyone listens), stamped now. */
  protected publishInjection(
    ctx: ExecutionContext,
    event: TelemetryEventName,
    error?: unknown,
    attributes?: TelemetryAttributes,
  ): void {
    if (telemetry.hasSubscribers) {
      publishEvent(this.identity, ctx, event, this.clock.now(), error, attributes);
    }
  }

  /** The shared part of `describe()`'s options. */
  protected describeCommon(): Record<string, unknown> {
    return {
      name: this.name,
      injectionRate: typeof this.#rate === 'number' ? this.#rate : 'custom',
      enabled: typeof this.#enabled === 'boolean' ? this.#enabled : 'custom',
    };
  }
}
