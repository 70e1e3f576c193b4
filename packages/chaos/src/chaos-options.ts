import { type Clock, systemClock } from '@faultline/clock';
import {
  type Context,
  checkNumber,
  formatValue,
  identify,
  optionalClock,
  optionalFunction,
  type PolicyIdentity,
  type Random,
} from '@faultline/core';

/** The chance that a call gets the injection: a number in [0, 1], or computed per call. */
export type InjectionRate = number | ((ctx: Context) => number);

/** Whether injection is on: a flag, or decided per call (a header, a tenant, an environment). */
export type ChaosEnabled = boolean | ((ctx: Context) => boolean);

/** Options every chaos policy takes (Polly v8's `ChaosStrategyOptions`). */
export interface ChaosOptions {
  /**
   * The share of calls that get the injection, in [0, 1], or a function of the call's context
   * returning one (it is called only while enabled). Default 0.001 (Polly: one call in a
   * thousand).
   */
  readonly injectionRate?: InjectionRate;
  /**
   * Whether the policy injects at all, or a function deciding per call. With `false` the policy
   * costs no more than `noop`. Default `true` (Polly: adding a chaos policy turns it on).
   */
  readonly enabled?: ChaosEnabled;
  /**
   * Draws the injection decisions: with `seededRandom(seed)` the same calls get injected on every
   * run, so a test or a simulation under injection reproduces exactly. Default `Math.random`.
   */
  readonly random?: Random;
  /** Times injected latency and stamps telemetry. Default `systemClock`. */
  readonly clock?: Clock;
  /** Names the policy in telemetry. Default: its kind (`'chaos-fault'`, …). */
  readonly name?: string;
}

/** The defaults shared by every chaos policy (each kind adds its `name`). */
export const CHAOS_DEFAULTS = Object.freeze({
  injectionRate: 0.001 as InjectionRate,
  enabled: true as ChaosEnabled,
  random: Math.random as Random,
  clock: systemClock as Clock,
});

/** {@link ChaosOptions}, validated and complete. */
export interface ResolvedChaosOptions {
  readonly injectionRate: InjectionRate;
  readonly enabled: ChaosEnabled;
  readonly random: Random;
  readonly clock: Clock;
  readonly identity: PolicyIdentity;
}

/** Validates the options shared by every chaos policy; `owner` names the factory in errors. */
export function resolveChaosOptions(
  owner: string,
  kind: string,
  options: Partial<ChaosOptions>,
): ResolvedChaosOptions {
  const d = CHAOS_DEFAULTS;
  let injectionRate: InjectionRate = d.injectionRate;
  if (options.injectionRate !== undefined) {
    const rate: unknown = options.injectionRate;
    if (typeof rate === 'function') injectionRate = rate as (ctx: Context) => number;
    else if (typeof rate === 'number') {
      injectionRate = checkNumber(owner, 'injectionRate', rate, { min: 0, max: 1 });
    } else {
      throw new TypeError(
        `${owner}: option "injectionRate" must be a number in [0, 1] or a function (ctx) => number, received ${formatValue(rate)}`,
      );
    }
  }
  let enabled: ChaosEnabled = d.enabled;
  if (options.enabled !== undefined) {
    const value: unknown = options.enabled;
    if (typeof value !== 'boolean' && typeof value !== 'function') {
      throw new TypeError(
        `${owner}: option "enabled" must be a boolean or a function (ctx) => boolean, received ${formatValue(value)}`,
      );
    }
    enabled = value as ChaosEnabled;
  }
  const random = optionalFunction<Random>(owner, 'random', options.random, d.random);
  const clock = optionalClock(owner, 'clock', options.clock);
  const identity = identify(owner, kind, options.name);
  return { injectionRate, enabled, random, clock, identity };
}
